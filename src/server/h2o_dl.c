/*
 * h2o_dl: libh2o loaded with dlopen when a server first needs it (http.c
 * for `kiln serve`, hookrecv.c's picohttpparser for `kiln deployd`).
 *
 * Linked, libh2o brought libssl, libcrypto (OpenSSL: 4,900 symbol
 * relocations), libwslay and itself into every kiln start — `kiln run`,
 * `kiln version` — ~0.5 ms of CPU (docs/internals/bench.md). The pattern of
 * src/store/libpq.c: each function kiln calls is defined here with the
 * header's prototype and forwards to the library's symbol. The one data
 * symbol kiln uses, the token table behind H2O_TOKEN_*, is reached through
 * h2o_dl_tokens (http-int.h renames it). http_new calls h2o_dl_load first
 * and fails with its message; a call before a successful load is a bug
 * (die), except phr_parse_request, which then fails to parse (-1).
 */
#define H2O_DL_IMPL
#include "base/kiln.h"
#include "base/dl.h"
#include "server/http-int.h"

#include <pthread.h>

#define H2O_SONAME "libh2o.so.0.13"

/* X(return type, name, (parameters), (arguments)) */
#define H2O_FUNCS(X) \
	X(int, h2o__lcstris_core, (const char *target, const char *test, size_t test_len), \
	  (target, test, test_len)) \
	X(h2o_hostconf_t *, h2o_config_register_host, \
	  (h2o_globalconf_t * config, h2o_iovec_t host, uint16_t port), (config, host, port)) \
	X(h2o_pathconf_t *, h2o_config_register_path, \
	  (h2o_hostconf_t * hostconf, const char *path, int flags), (hostconf, path, flags)) \
	X(h2o_handler_t *, h2o_create_handler, (h2o_pathconf_t * conf, size_t sz), (conf, sz)) \
	X(ssize_t, h2o_find_header_by_str, \
	  (const h2o_headers_t *headers, const char *name, size_t name_len, ssize_t cursor), \
	  (headers, name, name_len, cursor)) \
	X(void *, h2o_mem_alloc_pool, (h2o_mem_pool_t * pool, size_t sz), (pool, sz)) \
	X(void *, h2o_mem_alloc_shared, \
	  (h2o_mem_pool_t * pool, size_t sz, void (*dispose)(void *)), (pool, sz, dispose)) \
	X(h2o_socket_t *, h2o_uv_socket_create, (uv_stream_t * stream, uv_close_cb close_cb), \
	  (stream, close_cb))

#define H2O_VOIDS(X) \
	X(h2o_accept, (h2o_accept_ctx_t * ctx, h2o_socket_t *sock), (ctx, sock)) \
	X(h2o_add_header, \
	  (h2o_mem_pool_t * pool, h2o_headers_t *headers, const h2o_token_t *token, \
	   const char *orig_name, const char *value, size_t value_len), \
	  (pool, headers, token, orig_name, value, value_len)) \
	X(h2o_add_header_by_str, \
	  (h2o_mem_pool_t * pool, h2o_headers_t *headers, const char *name, size_t name_len, \
	   int maybe_token, const char *orig_name, const char *value, size_t value_len), \
	  (pool, headers, name, name_len, maybe_token, orig_name, value, value_len)) \
	X(h2o_config_dispose, (h2o_globalconf_t * config), (config)) \
	X(h2o_config_init, (h2o_globalconf_t * config), (config)) \
	X(h2o_context_dispose, (h2o_context_t * context), (context)) \
	X(h2o_context_init, (h2o_context_t * context, h2o_loop_t *loop, h2o_globalconf_t *config), \
	  (context, loop, config)) \
	X(h2o_context_request_shutdown, (h2o_context_t * context), (context)) \
	X(h2o_send, (h2o_req_t * req, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state), \
	  (req, bufs, bufcnt, state)) \
	X(h2o_send_inline, (h2o_req_t * req, const char *body, size_t len), (req, body, len)) \
	X(h2o_start_response, (h2o_req_t * req, h2o_generator_t *generator), (req, generator)) \
	X(h2o_timeout_unlink, (h2o_timeout_entry_t * entry), (entry))

/* picohttpparser's (exported by libh2o; its header is not installed;
 * hookrecv.c declares it the same way) */
struct phr_header;
typedef int phr_parse_request_fn(const char *buf, size_t len, const char **method,
				 size_t *method_len, const char **path, size_t *path_len,
				 int *minor_version, struct phr_header *headers,
				 size_t *num_headers, size_t last_len);
phr_parse_request_fn phr_parse_request;

/* the library's symbols, resolved once (immutable afterwards) */
static struct {
#define FIELD(ret, name, params, args) ret(*name) params;
#define VFIELD(name, params, args) void(*name) params;
	H2O_FUNCS(FIELD)
	H2O_VOIDS(VFIELD)
	phr_parse_request_fn *phr;
	int loaded;
	char why[256];
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

h2o_token_t *h2o_dl_tokens;

static const struct dl_sym lib_syms[] = {
#define SYM(ret, name, params, args) { #name, (void **)&lib.name },
#define VSYM(name, params, args) { #name, (void **)&lib.name },
	H2O_FUNCS(SYM) H2O_VOIDS(VSYM)
	{ "phr_parse_request", (void **)&lib.phr },
	{ "h2o__tokens", (void **)&h2o_dl_tokens },
};

static void lib_load(void)
{
	lib.loaded = !dl_load(H2O_SONAME, lib_syms, ARRAY_SIZE(lib_syms), lib.why, sizeof(lib.why));
}

int h2o_dl_load(struct buf *err)
{
	pthread_once(&lib_once, lib_load);
	if (lib.loaded)
		return 0;
	buf_addf(err, "%s", lib.why);
	return -1;
}

static void need(void)
{
	if (!lib.loaded) {
		fprintf(stderr, "kiln: fatal: libh2o used before h2o_dl_load\n");
		abort();
	}
}

#define DEFINE(ret, name, params, args) \
	ret name params \
	{ \
		need(); \
		return lib.name args; \
	}
#define VDEFINE(name, params, args) \
	void name params \
	{ \
		need(); \
		lib.name args; \
	}
H2O_FUNCS(DEFINE)
H2O_VOIDS(VDEFINE)

int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
		      const char **path, size_t *path_len, int *minor_version,
		      struct phr_header *headers, size_t *num_headers, size_t last_len)
{
	pthread_once(&lib_once, lib_load);
	if (!lib.loaded)
		return -1;
	return lib.phr(buf, len, method, method_len, path, path_len, minor_version, headers,
		       num_headers, last_len);
}
