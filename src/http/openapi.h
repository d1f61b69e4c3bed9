/*
 * openapi.h - docs/openapi.json compiled into the program (cmake/embed.cmake generates
 * the definition at build time), served at /api/v1/openapi.json. NUL-terminated.
 */
#ifndef TIDM_HTTP_OPENAPI_H
#define TIDM_HTTP_OPENAPI_H

extern const unsigned char tidm_http_openapi_json[];
extern const unsigned long tidm_http_openapi_json_len;

#endif
