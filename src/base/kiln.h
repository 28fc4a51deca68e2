/* kiln.h: the base headers every module includes, banned functions last. */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/strvec.h"
#include "base/util.h"
#include "base/xalloc.h"

#include "base/banned.h"

#endif
