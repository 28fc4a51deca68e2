/*
 * dl: a shared library loaded with dlopen on first use, for the libraries
 * only some commands need (libpq, libarchive, libssh2, GSSAPI, libh2o):
 * linked, each would cost every kiln start its dependencies to map and
 * relocate (docs/internals/bench.md). The module keeps a table of the
 * symbols it forwards to; dl_load opens the library and fills the table.
 */
#ifndef KILN_DL_H
#define KILN_DL_H

#include <stddef.h>

/* one symbol to resolve */
struct dl_sym {
	const char *name; /* its name in the library */
	void **addr;      /* where its address goes (a function pointer's or a data pointer's) */
};

/*
 * Open soname (RTLD_NOW | RTLD_LOCAL) and resolve every one of the n syms.
 * Returns 0, or -1 with the reason in why (whysz bytes; why may be NULL):
 * "cannot load SONAME: <dlerror>" or "SONAME lacks a function kiln needs".
 * The library stays loaded for the life of the process. Call it once
 * (pthread_once): it is not thread-safe for the same table.
 */
int dl_load(const char *soname, const struct dl_sym *syms, size_t n, char *why, size_t whysz);

#endif
