/* dl: dlopen a library and resolve a table of its symbols (dl.h). */
#include "base/kiln.h"
#include "base/dl.h"

#include <dlfcn.h>

int dl_load(const char *soname, const struct dl_sym *syms, size_t n, char *why, size_t whysz)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		if (why)
			snprintf(why, whysz, "cannot load %s: %s", soname, e ? e : "?");
		return -1;
	}
	int ok = 1;
	for (size_t i = 0; i < n; i++)
		ok &= !!(*syms[i].addr = dlsym(h, syms[i].name));
	if (!ok) {
		if (why)
			snprintf(why, whysz, "%s lacks a function kiln needs", soname);
		return -1;
	}
	return 0;
}
