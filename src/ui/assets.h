/*
 * assets: the files of web/ (templates, styles, scripts) compiled into the
 * binary by src/ui/embed.pl (build/gen/ui_assets.c). Read-only data.
 */
#ifndef KILN_UI_ASSETS_H
#define KILN_UI_ASSETS_H

#include <stddef.h>

struct ui_asset {
	const char *name;         /* file name in web/, "kiln.css" */
	const char *content_type; /* "text/css; charset=utf-8" */
	const unsigned char *data; /* NUL-terminated (not counted in len) */
	size_t len;
	const char *hash;         /* 12 hex digits of SHA-256(data) */
};

extern const struct ui_asset ui_assets[];
extern const size_t ui_nassets;

/* the asset called name, or NULL */
const struct ui_asset *ui_asset_find(const char *name);
/* its text (templates): the data as a string; BUG when absent */
const char *ui_asset_text(const char *name);

#endif
