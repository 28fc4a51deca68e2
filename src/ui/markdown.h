/*
 * markdown: step summaries ($GITHUB_STEP_SUMMARY) as HTML with GitHub's
 * flavour (cmark-gfm from Debian: tables, strikethrough, autolinks, task
 * lists), safely: raw HTML is not passed through (cmark-gfm's safe mode
 * replaces it with a comment) and javascript:/vbscript:/data: links are
 * dropped, so a summary cannot inject markup or script.
 */
#ifndef KILN_UI_MARKDOWN_H
#define KILN_UI_MARKDOWN_H

#include <stddef.h>

#include "base/buf.h"

void markdown_html(const char *md, size_t len, struct buf *out);

#endif
