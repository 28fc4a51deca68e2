/*
 * netlibs: libssh2 and GSSAPI (Kerberos), loaded with dlopen when libgit2
 * first needs them: an ssh:// remote, or HTTP Negotiate authentication.
 *
 * kiln links libgit2 statically (see the Makefile): Debian's libgit2.so
 * needs libssh2 (and with it OpenSSL's libcrypto, 4,200 symbol
 * relocations) and libgssapi_krb5 (and krb5, k5crypto, keyutils, resolv,
 * ...): 15 shared objects that every kiln start mapped and relocated,
 * ~1.5 ms of CPU, for transports a local `kiln run` never uses
 * (docs/internals/bench.md). Static, libgit2's references to them land
 * here instead: each function has the library's prototype and forwards
 * to its symbol, as src/store/libpq.c does for libpq. When a library
 * cannot be loaded the calls fail the way the library reports an error
 * (NULL, a negative code, GSS_S_FAILURE), so libgit2 reports a failed
 * connection rather than kiln crashing.
 *
 * libssh2_init, which git_libgit2_init calls on every start, is recorded
 * and replayed when the library is loaded.
 */
#include "base/kiln.h"
#include "base/dl.h"

#include <libssh2.h>
#include <pthread.h>
#include <stdint.h>

#define SSH2_SONAME "libssh2.so.1"
#define GSS_SONAME "libgssapi_krb5.so.2"

/* ---- libssh2 ---------------------------------------------------------- */

/* X(return type, name, (parameters), (arguments), value when not loaded) */
#define SSH2_FUNCS(X) \
	X(int, libssh2_agent_connect, (LIBSSH2_AGENT * agent), (agent), LIBSSH2_ERROR_AGENT_PROTOCOL) \
	X(int, libssh2_agent_disconnect, (LIBSSH2_AGENT * agent), (agent), 0) \
	X(int, libssh2_agent_get_identity, \
	  (LIBSSH2_AGENT * agent, struct libssh2_agent_publickey * *store, \
	   struct libssh2_agent_publickey * prev), \
	  (agent, store, prev), -1) \
	X(LIBSSH2_AGENT *, libssh2_agent_init, (LIBSSH2_SESSION * session), (session), NULL) \
	X(int, libssh2_agent_list_identities, (LIBSSH2_AGENT * agent), (agent), -1) \
	X(int, libssh2_agent_userauth, \
	  (LIBSSH2_AGENT * agent, const char *username, struct libssh2_agent_publickey *identity), \
	  (agent, username, identity), -1) \
	X(int, libssh2_channel_close, (LIBSSH2_CHANNEL * channel), (channel), -1) \
	X(int, libssh2_channel_free, (LIBSSH2_CHANNEL * channel), (channel), -1) \
	X(LIBSSH2_CHANNEL *, libssh2_channel_open_ex, \
	  (LIBSSH2_SESSION * session, const char *channel_type, unsigned int channel_type_len, \
	   unsigned int window_size, unsigned int packet_size, const char *message, \
	   unsigned int message_len), \
	  (session, channel_type, channel_type_len, window_size, packet_size, message, \
	   message_len), NULL) \
	X(int, libssh2_channel_process_startup, \
	  (LIBSSH2_CHANNEL * channel, const char *request, unsigned int request_len, \
	   const char *message, unsigned int message_len), \
	  (channel, request, request_len, message, message_len), -1) \
	X(ssize_t, libssh2_channel_read_ex, \
	  (LIBSSH2_CHANNEL * channel, int stream_id, char *buf, size_t buflen), \
	  (channel, stream_id, buf, buflen), -1) \
	X(ssize_t, libssh2_channel_write_ex, \
	  (LIBSSH2_CHANNEL * channel, int stream_id, const char *buf, size_t buflen), \
	  (channel, stream_id, buf, buflen), -1) \
	X(const char *, libssh2_hostkey_hash, (LIBSSH2_SESSION * session, int hash_type), \
	  (session, hash_type), NULL) \
	X(int, libssh2_knownhost_checkp, \
	  (LIBSSH2_KNOWNHOSTS * hosts, const char *host, int port, const char *key, size_t keylen, \
	   int typemask, struct libssh2_knownhost **knownhost), \
	  (hosts, host, port, key, keylen, typemask, knownhost), LIBSSH2_KNOWNHOST_CHECK_FAILURE) \
	X(LIBSSH2_KNOWNHOSTS *, libssh2_knownhost_init, (LIBSSH2_SESSION * session), (session), NULL) \
	X(int, libssh2_knownhost_readfile, (LIBSSH2_KNOWNHOSTS * hosts, const char *filename, int type), \
	  (hosts, filename, type), -1) \
	X(void **, libssh2_session_abstract, (LIBSSH2_SESSION * session), (session), NULL) \
	X(int, libssh2_session_disconnect_ex, \
	  (LIBSSH2_SESSION * session, int reason, const char *description, const char *lang), \
	  (session, reason, description, lang), -1) \
	X(int, libssh2_session_free, (LIBSSH2_SESSION * session), (session), -1) \
	X(int, libssh2_session_handshake, (LIBSSH2_SESSION * session, libssh2_socket_t sock), \
	  (session, sock), -1) \
	X(const char *, libssh2_session_hostkey, (LIBSSH2_SESSION * session, size_t *len, int *type), \
	  (session, len, type), NULL) \
	X(LIBSSH2_SESSION *, libssh2_session_init_ex, \
	  (void *(*my_alloc)(size_t count, void **abstract), \
	   void (*my_free)(void *ptr, void **abstract), \
	   void *(*my_realloc)(void *ptr, size_t count, void **abstract), void *abstract), \
	  (my_alloc, my_free, my_realloc, abstract), NULL) \
	X(int, libssh2_session_last_error, \
	  (LIBSSH2_SESSION * session, char **errmsg, int *errmsg_len, int want_buf), \
	  (session, errmsg, errmsg_len, want_buf), -1) \
	X(int, libssh2_session_method_pref, \
	  (LIBSSH2_SESSION * session, int method_type, const char *prefs), \
	  (session, method_type, prefs), -1) \
	X(int, libssh2_userauth_authenticated, (LIBSSH2_SESSION * session), (session), 0) \
	X(int, libssh2_userauth_keyboard_interactive_ex, \
	  (LIBSSH2_SESSION * session, const char *username, unsigned int username_len, \
	   LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*response_callback))), \
	  (session, username, username_len, response_callback), -1) \
	X(char *, libssh2_userauth_list, \
	  (LIBSSH2_SESSION * session, const char *username, unsigned int username_len), \
	  (session, username, username_len), NULL) \
	X(int, libssh2_userauth_password_ex, \
	  (LIBSSH2_SESSION * session, const char *username, unsigned int username_len, \
	   const char *password, unsigned int password_len, \
	   LIBSSH2_PASSWD_CHANGEREQ_FUNC((*passwd_change_cb))), \
	  (session, username, username_len, password, password_len, passwd_change_cb), -1) \
	X(int, libssh2_userauth_publickey, \
	  (LIBSSH2_SESSION * session, const char *username, const unsigned char *pubkeydata, \
	   size_t pubkeydata_len, LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign_callback)), \
	   void **abstract), \
	  (session, username, pubkeydata, pubkeydata_len, sign_callback, abstract), -1) \
	X(int, libssh2_userauth_publickey_fromfile_ex, \
	  (LIBSSH2_SESSION * session, const char *username, unsigned int username_len, \
	   const char *publickey, const char *privatekey, const char *passphrase), \
	  (session, username, username_len, publickey, privatekey, passphrase), -1) \
	X(int, libssh2_userauth_publickey_frommemory, \
	  (LIBSSH2_SESSION * session, const char *username, size_t username_len, \
	   const char *publickeyfiledata, size_t publickeyfiledata_len, \
	   const char *privatekeyfiledata, size_t privatekeyfiledata_len, const char *passphrase), \
	  (session, username, username_len, publickeyfiledata, publickeyfiledata_len, \
	   privatekeyfiledata, privatekeyfiledata_len, passphrase), -1)

#define SSH2_VOIDS(X) \
	X(libssh2_agent_free, (LIBSSH2_AGENT * agent), (agent)) \
	X(libssh2_channel_set_blocking, (LIBSSH2_CHANNEL * channel, int blocking), \
	  (channel, blocking)) \
	X(libssh2_knownhost_free, (LIBSSH2_KNOWNHOSTS * hosts), (hosts)) \
	X(libssh2_session_set_blocking, (LIBSSH2_SESSION * session, int blocking), \
	  (session, blocking))

/* the library's symbols, resolved once (immutable afterwards) */
static struct {
#define FIELD(ret, name, params, args, fail) ret(*name) params;
#define VFIELD(name, params, args) void(*name) params;
	SSH2_FUNCS(FIELD)
	SSH2_VOIDS(VFIELD)
	int (*init)(int flags);
	void (*exit)(void);
	int loaded;
} ssh2;
static pthread_once_t ssh2_once = PTHREAD_ONCE_INIT;
static int ssh2_init_flags; /* libssh2_init's, replayed at load */
static int ssh2_init_called;

static const struct dl_sym ssh2_syms[] = {
#define SYM(ret, name, params, args, fail) { #name, (void **)&ssh2.name },
#define VSYM(name, params, args) { #name, (void **)&ssh2.name },
	SSH2_FUNCS(SYM) SSH2_VOIDS(VSYM)
	{ "libssh2_init", (void **)&ssh2.init },
	{ "libssh2_exit", (void **)&ssh2.exit },
};

static void ssh2_load(void)
{
	if (dl_load(SSH2_SONAME, ssh2_syms, ARRAY_SIZE(ssh2_syms), NULL, 0) ||
	    (ssh2_init_called && ssh2.init(ssh2_init_flags) != 0))
		return;
	ssh2.loaded = 1;
}

static int ssh2_ready(void)
{
	pthread_once(&ssh2_once, ssh2_load);
	return ssh2.loaded;
}

int libssh2_init(int flags)
{
	ssh2_init_flags = flags;
	ssh2_init_called = 1;
	return 0;
}

void libssh2_exit(void)
{
	/* only once loaded: no dlopen at exit for a library never used */
	if (ssh2.loaded)
		ssh2.exit();
}

#define DEFINE(ret, name, params, args, fail) \
	ret name params \
	{ \
		return ssh2_ready() ? ssh2.name args : fail; \
	}
#define VDEFINE(name, params, args) \
	void name params \
	{ \
		if (ssh2_ready()) \
			ssh2.name args; \
	}
SSH2_FUNCS(DEFINE)
SSH2_VOIDS(VDEFINE)

/* ---- GSSAPI (RFC 2744's C binding; no header: Debian's is in libkrb5-dev) */

typedef uint32_t OM_uint32;
typedef void *gss_ptr; /* every handle, OID, OID set and buffer is a pointer */

#define GSS_S_FAILURE (13u << 16)

/*
 * The name type libgit2 passes to gss_import_name (its only name type): the
 * library's value, copied at load. libgit2 calls gss_indicate_mechs (which
 * loads) first; should it not, gss_import_name sees NULL, read before the
 * load, and substitutes the loaded value.
 */
gss_ptr GSS_C_NT_HOSTBASED_SERVICE;

#define GSS_FUNCS(X) \
	X(gss_delete_sec_context, (OM_uint32 * minor, gss_ptr * ctx, gss_ptr output_token), \
	  (minor, ctx, output_token)) \
	X(gss_display_status, \
	  (OM_uint32 * minor, OM_uint32 status_value, int status_type, gss_ptr mech_type, \
	   OM_uint32 * message_context, gss_ptr status_string), \
	  (minor, status_value, status_type, mech_type, message_context, status_string)) \
	X(gss_import_name, \
	  (OM_uint32 * minor, gss_ptr input_name_buffer, gss_ptr input_name_type, \
	   gss_ptr * output_name), \
	  (minor, input_name_buffer, \
	   input_name_type ? input_name_type : GSS_C_NT_HOSTBASED_SERVICE, output_name)) \
	X(gss_indicate_mechs, (OM_uint32 * minor, gss_ptr * mech_set), (minor, mech_set)) \
	X(gss_init_sec_context, \
	  (OM_uint32 * minor, gss_ptr cred, gss_ptr * ctx, gss_ptr target, gss_ptr mech, \
	   OM_uint32 req_flags, OM_uint32 time_req, gss_ptr bindings, gss_ptr input_token, \
	   gss_ptr * actual_mech, gss_ptr output_token, OM_uint32 * ret_flags, \
	   OM_uint32 * time_rec), \
	  (minor, cred, ctx, target, mech, req_flags, time_req, bindings, input_token, \
	   actual_mech, output_token, ret_flags, time_rec)) \
	X(gss_release_buffer, (OM_uint32 * minor, gss_ptr buffer), (minor, buffer)) \
	X(gss_release_name, (OM_uint32 * minor, gss_ptr * name), (minor, name)) \
	X(gss_release_oid_set, (OM_uint32 * minor, gss_ptr * set), (minor, set))

static struct {
#define GFIELD(name, params, args) OM_uint32(*name) params;
	GSS_FUNCS(GFIELD)
	gss_ptr *nt; /* the library's GSS_C_NT_HOSTBASED_SERVICE */
	int loaded;
} gss;
static pthread_once_t gss_once = PTHREAD_ONCE_INIT;

static const struct dl_sym gss_syms[] = {
#define GSYM(name, params, args) { #name, (void **)&gss.name },
	GSS_FUNCS(GSYM)
	{ "GSS_C_NT_HOSTBASED_SERVICE", (void **)&gss.nt },
};

static void gss_load(void)
{
	if (dl_load(GSS_SONAME, gss_syms, ARRAY_SIZE(gss_syms), NULL, 0))
		return;
	GSS_C_NT_HOSTBASED_SERVICE = *gss.nt;
	gss.loaded = 1;
}

#define GDEFINE(name, params, args) \
	OM_uint32 name params; \
	OM_uint32 name params \
	{ \
		pthread_once(&gss_once, gss_load); \
		return gss.loaded ? gss.name args : GSS_S_FAILURE; \
	}
GSS_FUNCS(GDEFINE)
