/*
 * markdown: GitHub-flavoured Markdown to safe HTML with cmark-gfm
 * (markdown.h). cmark-gfm is loaded with dlopen on the first summary
 * rendered (as src/store/libpq.c does for libpq): only the web UI renders
 * Markdown, and linking the two libraries cost every kiln start their
 * mapping and relocation (docs/internals/bench.md). Without them the
 * summary is shown as escaped text.
 */
#include "base/kiln.h"
#include "ui/html.h"
#include "ui/markdown.h"

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>
#include <dlfcn.h>
#include <pthread.h>

static struct {
	void (*ensure_registered)(void);
	cmark_parser *(*parser_new)(int options);
	cmark_syntax_extension *(*find_syntax_extension)(const char *name);
	int (*attach)(cmark_parser *parser, cmark_syntax_extension *extension);
	void (*feed)(cmark_parser *parser, const char *buffer, size_t len);
	cmark_node *(*finish)(cmark_parser *parser);
	char *(*render_html)(cmark_node *root, int options, cmark_llist *extensions);
	cmark_llist *(*get_syntax_extensions)(cmark_parser *parser);
	void (*node_free)(cmark_node *node);
	void (*parser_free)(cmark_parser *parser);
	int loaded;
} cm;
static pthread_once_t cm_once = PTHREAD_ONCE_INIT;

static void cm_load(void)
{
	void *core = dlopen("libcmark-gfm.so.0.29.0.gfm.6", RTLD_NOW | RTLD_LOCAL);
	void *ext = dlopen("libcmark-gfm-extensions.so.0.29.0.gfm.6", RTLD_NOW | RTLD_LOCAL);
	if (!core || !ext)
		return;
	int ok = 1;
#define SYM(field, h, name) ok &= !!(*(void **)&cm.field = dlsym(h, name))
	SYM(ensure_registered, ext, "cmark_gfm_core_extensions_ensure_registered");
	SYM(parser_new, core, "cmark_parser_new");
	SYM(find_syntax_extension, core, "cmark_find_syntax_extension");
	SYM(attach, core, "cmark_parser_attach_syntax_extension");
	SYM(feed, core, "cmark_parser_feed");
	SYM(finish, core, "cmark_parser_finish");
	SYM(render_html, core, "cmark_render_html");
	SYM(get_syntax_extensions, core, "cmark_parser_get_syntax_extensions");
	SYM(node_free, core, "cmark_node_free");
	SYM(parser_free, core, "cmark_parser_free");
#undef SYM
	cm.loaded = ok;
}

void markdown_html(const char *md, size_t len, struct buf *out)
{
	pthread_once(&cm_once, cm_load);
	if (!cm.loaded) {
		buf_addstr(out, "<pre>");
		html_esc_n(out, md, len);
		buf_addstr(out, "</pre>");
		return;
	}
	/* no CMARK_OPT_UNSAFE: raw HTML and dangerous URLs are left out */
	int opts = CMARK_OPT_DEFAULT | CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE;
	cm.ensure_registered();
	cmark_parser *p = cm.parser_new(opts);
	static const char *const exts[] = { "table", "strikethrough", "autolink", "tasklist" };
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		cmark_syntax_extension *e = cm.find_syntax_extension(exts[i]);
		if (e)
			cm.attach(p, e);
	}
	cm.feed(p, md, len);
	cmark_node *doc = cm.finish(p);
	char *html = cm.render_html(doc, opts, cm.get_syntax_extensions(p));
	buf_addstr(out, html);
	free(html);
	cm.node_free(doc);
	cm.parser_free(p);
}
