/*
 * web_assets.h - the web console's files (web/), compiled into the program by
 * CMakeLists.txt (cmake/embed.cmake per file, a generated table), served by server.c at
 * /NAME; "/" is /index.html. The table ends with a row whose path is NULL.
 */
#ifndef TIDM_HTTP_WEB_ASSETS_H
#define TIDM_HTTP_WEB_ASSETS_H

typedef struct tidm_web_asset {
	const char *path;           /* "/app.js" */
	const char *type;           /* its Content-Type */
	const unsigned char *data;  /* the bytes (NUL-terminated) */
	const unsigned long *len;   /* without the NUL */
} tidm_web_asset;

extern const tidm_web_asset tidm_web_assets[];

#endif
