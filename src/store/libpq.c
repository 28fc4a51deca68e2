/*
 * libpq, loaded with dlopen on first use: only a PostgreSQL store (pg.c)
 * needs it, and linking it costs every kiln start-up 13 more shared
 * libraries (GnuTLS, OpenLDAP, SASL, nettle, ...) to map and relocate,
 * ~2 ms of CPU (docs/internals/bench.md). The same pattern as
 * src/cas/libarchive.c: each function pg.c calls is defined here with the
 * header's prototype and forwards to the library's symbol; when the library
 * cannot be loaded PQconnectdb returns NULL and db_pg_libpq_error() says why.
 */
#include "base/kiln.h"
#include "base/dl.h"
#include "store/sqlimpl.h"

#include <libpq-fe.h>
#include <pthread.h>

#define PQ_SONAME "libpq.so.5"

/* X(return type, name, (parameters), (arguments), value when not loaded) */
#define PQ_FUNCS(X) \
	X(PGconn *, PQconnectdb, (const char *conninfo), (conninfo), NULL) \
	X(char *, PQcmdTuples, (PGresult *res), (res), (char *)"") \
	X(char *, PQerrorMessage, (const PGconn *conn), (conn), (char *)"") \
	X(PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query), NULL) \
	X(PGresult *, PQexecParams, \
	  (PGconn *conn, const char *command, int nParams, const Oid *paramTypes, \
	   const char *const *paramValues, const int *paramLengths, const int *paramFormats, \
	   int resultFormat), \
	  (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, \
	   resultFormat), NULL) \
	X(Oid, PQftype, (const PGresult *res, int field_num), (res, field_num), 0) \
	X(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num), \
	  (res, tup_num, field_num), 1) \
	X(int, PQgetlength, (const PGresult *res, int tup_num, int field_num), \
	  (res, tup_num, field_num), 0) \
	X(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num), \
	  (res, tup_num, field_num), (char *)"") \
	X(int, PQnfields, (const PGresult *res), (res), 0) \
	X(int, PQntuples, (const PGresult *res), (res), 0) \
	X(char *, PQresultErrorField, (const PGresult *res, int fieldcode), (res, fieldcode), NULL) \
	X(ExecStatusType, PQresultStatus, (const PGresult *res), (res), PGRES_FATAL_ERROR) \
	X(PQnoticeProcessor, PQsetNoticeProcessor, \
	  (PGconn *conn, PQnoticeProcessor proc, void *arg), (conn, proc, arg), NULL) \
	X(ConnStatusType, PQstatus, (const PGconn *conn), (conn), CONNECTION_BAD) \
	X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn), \
	  PQTRANS_UNKNOWN) \
	X(unsigned char *, PQunescapeBytea, (const unsigned char *strtext, size_t *retbuflen), \
	  (strtext, retbuflen), NULL)

#define PQ_VOIDS(X) \
	X(PQclear, (PGresult *res), (res)) \
	X(PQfinish, (PGconn *conn), (conn)) \
	X(PQfreemem, (void *ptr), (ptr)) \
	X(PQreset, (PGconn *conn), (conn))

/* the library's symbols, resolved once (immutable afterwards) */
static struct {
#define FIELD(ret, name, params, args, fail) ret (*name) params;
#define VFIELD(name, params, args) void (*name) params;
	PQ_FUNCS(FIELD)
	PQ_VOIDS(VFIELD)
	int loaded;
	char why[256];
} pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static const struct dl_sym pq_syms[] = {
#define SYM(ret, name, params, args, fail) { #name, (void **)&pq.name },
#define VSYM(name, params, args) { #name, (void **)&pq.name },
	PQ_FUNCS(SYM) PQ_VOIDS(VSYM)
};

static void pq_load(void)
{
	pq.loaded = !dl_load(PQ_SONAME, pq_syms, ARRAY_SIZE(pq_syms), pq.why, sizeof(pq.why));
}

static int pq_ready(void)
{
	pthread_once(&pq_once, pq_load);
	return pq.loaded;
}

const char *db_pg_libpq_error(void)
{
	return pq_ready() ? NULL : pq.why;
}

#define DEFINE(ret, name, params, args, fail) \
	ret name params \
	{ \
		return pq_ready() ? pq.name args : fail; \
	}
#define VDEFINE(name, params, args) \
	void name params \
	{ \
		if (pq_ready()) \
			pq.name args; \
	}
PQ_FUNCS(DEFINE)
PQ_VOIDS(VDEFINE)
