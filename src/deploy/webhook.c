/* webhook: JSON POST through a lazily loaded libcurl (see webhook.h). */
#include "base/kiln.h"
#include "deploy/webhook.h"

#include <curl/curl.h>
#include <dlfcn.h>

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* immutable once webhook_init returned: the only global, read-only after */
static struct curl_api api;
static int loaded;

static int sym(void *h, const char *name, void *out)
{
	void *p = dlsym(h, name);
	memcpy(out, &p, sizeof(p));
	return p ? 0 : -1;
}

int webhook_init(char *err, unsigned long errlen)
{
	if (loaded)
		return 0;
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load libcurl: %s", dlerror());
		return -1;
	}
	if (sym(h, "curl_global_init", &api.global_init) || sym(h, "curl_easy_init", &api.easy_init) ||
	    sym(h, "curl_easy_setopt", &api.easy_setopt) ||
	    sym(h, "curl_easy_perform", &api.easy_perform) ||
	    sym(h, "curl_easy_getinfo", &api.easy_getinfo) ||
	    sym(h, "curl_easy_cleanup", &api.easy_cleanup) ||
	    sym(h, "curl_slist_append", &api.slist_append) ||
	    sym(h, "curl_slist_free_all", &api.slist_free_all)) {
		snprintf(err, errlen, "libcurl lacks a needed function: %s", dlerror());
		dlclose(h);
		return -1;
	}
	api.global_init(CURL_GLOBAL_DEFAULT);
	loaded = 1;
	return 0;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

int webhook_post(const char *url, const char *body)
{
	if (!loaded)
		return -1;
	CURL *c = api.easy_init();
	if (!c)
		return -1;
	struct curl_slist *h = api.slist_append(NULL, "Content-Type: application/json");
	api.easy_setopt(c, CURLOPT_URL, url);
	api.easy_setopt(c, CURLOPT_HTTPHEADER, h);
	api.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	api.easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	CURLcode r = api.easy_perform(c);
	long code = 0;
	api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	api.slist_free_all(h);
	api.easy_cleanup(c);
	return r == CURLE_OK && code >= 200 && code < 300 ? 0 : -1;
}
