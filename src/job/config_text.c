/*
 * config_text.c - text hygiene for job file messages (see config_text.h).
 *
 * DESIGN
 *  Two pure functions over the job file's text and libfyaml's messages, kept apart from
 *  config.c's walk of the document.
 */
#include "job/config_text.h"

#include <string.h>

/*
 * libfyaml's message without quoted excerpts of the input longer than two bytes (they
 * could hold part of a password), e.g. "bad start of block scalar ('...')".
 */
void tidm_config_clean_yaml_message(tidm_buf *b, const char *msg)
{
	for (const char *p = msg; *p;) {
		const char *close = *p == '\'' ? strchr(p + 1, '\'') : NULL;
		if (close && close - p - 1 > 2) {
			p = close + 1;
			continue;
		}
		if (close) {
			tidm_buf_put(b, p, (size_t)(close - p + 1));
			p = close + 1;
			continue;
		}
		tidm_buf_putc(b, *p++);
	}
	/* tidy what removals left behind: "()" and double or trailing blanks */
	for (char *q; (q = strstr(b->data, "()")) != NULL;)
		memmove(q, q + 2, strlen(q + 2) + 1);
	for (char *q; (q = strstr(b->data, "  ")) != NULL;)
		memmove(q, q + 1, strlen(q + 1) + 1);
	b->len = strlen(b->data);
	while (b->len > 0 && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\n'))
		b->data[--b->len] = '\0';
}

/* Does the text hold anything but blanks and comments? */
bool tidm_config_has_content(const char *text, size_t len)
{
	bool comment = false;

	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (ch == '\n')
			comment = false;
		else if (!comment && ch == '#')
			comment = true;
		else if (!comment && ch != ' ' && ch != '\t' && ch != '\r')
			return true;
	}
	return false;
}
