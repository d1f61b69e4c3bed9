/*
 * fuzz_gtid.c - libFuzzer entry for util/gtid.c. Byte 0 selects:
 *   0: tidm_gtid_set_decode_mysql(data[1..]); on success re-encode, decode again and
 *      require the same set (the binary form round-trips);
 *   1: tidm_gtid_set_parse(AUTO, text); on success format, parse the canonical text again
 *      and require an equal set (canonical text round-trips);
 *   2: parse two sets split at the first '|' and run union/subtract/contains, checking
 *      the algebra's identities: (a - b) U b contains a, and a - b shares nothing with b.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/gtid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidm_gtid_set a, b, c;
	tidm_buf buf = TIDM_BUF_INIT;
	char *text;

	if (size < 1 || size > 65536)
		return 0;
	tidm_gtid_set_init(&a, TIDM_GTID_AUTO);
	tidm_gtid_set_init(&b, TIDM_GTID_AUTO);
	tidm_gtid_set_init(&c, TIDM_GTID_AUTO);
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		if (tidm_gtid_set_decode_mysql(&a, data + 1, size - 1) == 0) {
			if (tidm_gtid_set_encode_mysql(&a, &buf) != 0 ||
			    tidm_gtid_set_decode_mysql(&b, (const uint8_t *)buf.data, buf.len) != 0 ||
			    !tidm_gtid_set_equal(&a, &b))
				abort();
		}
		break;
	case 1:
		if (tidm_gtid_set_parse(&a, TIDM_GTID_AUTO, text) == 0) {
			tidm_gtid_set_format(&a, &buf);
			if (tidm_gtid_set_parse(&b, a.flavor, buf.data) != 0 || !tidm_gtid_set_equal(&a, &b))
				abort();
		}
		break;
	default: {
		char *bar = strchr(text, '|');
		if (!bar)
			break;
		*bar = '\0';
		if (tidm_gtid_set_parse(&a, TIDM_GTID_AUTO, text) != 0 ||
		    tidm_gtid_set_parse(&b, TIDM_GTID_AUTO, bar + 1) != 0)
			break;
		tidm_gtid_set_copy(&c, &a);
		if (tidm_gtid_set_subtract(&c, &b) != 0)
			break; /* flavors differ */
		if (!tidm_gtid_set_is_empty(&c) && !tidm_gtid_set_is_empty(&b) &&
		    a.flavor == TIDM_GTID_MYSQL) {
			/* (a - b) and b are disjoint: b - (a - b) == b */
			tidm_gtid_set d;
			tidm_gtid_set_init(&d, TIDM_GTID_AUTO);
			tidm_gtid_set_copy(&d, &b);
			tidm_gtid_set_subtract(&d, &c);
			if (!tidm_gtid_set_equal(&d, &b))
				abort();
			tidm_gtid_set_dispose(&d);
		}
		if (tidm_gtid_set_union(&c, &b) != 0 || !tidm_gtid_set_contains(&c, &a))
			abort();
		break;
	}
	}
	free(text);
	tidm_buf_dispose(&buf);
	tidm_gtid_set_dispose(&a);
	tidm_gtid_set_dispose(&b);
	tidm_gtid_set_dispose(&c);
	return 0;
}
