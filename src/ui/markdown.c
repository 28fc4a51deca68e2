/* markdown: GitHub-flavoured Markdown to safe HTML with cmark-gfm (markdown.h) */
#include "base/kiln.h"
#include "ui/markdown.h"

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

void markdown_html(const char *md, size_t len, struct buf *out)
{
	/* no CMARK_OPT_UNSAFE: raw HTML and dangerous URLs are left out */
	int opts = CMARK_OPT_DEFAULT | CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE;
	cmark_gfm_core_extensions_ensure_registered();
	cmark_parser *p = cmark_parser_new(opts);
	static const char *const exts[] = { "table", "strikethrough", "autolink", "tasklist" };
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		cmark_syntax_extension *e = cmark_find_syntax_extension(exts[i]);
		if (e)
			cmark_parser_attach_syntax_extension(p, e);
	}
	cmark_parser_feed(p, md, len);
	cmark_node *doc = cmark_parser_finish(p);
	char *html = cmark_render_html(doc, opts, cmark_parser_get_syntax_extensions(p));
	buf_addstr(out, html);
	free(html);
	cmark_node_free(doc);
	cmark_parser_free(p);
}
