/*
 * fuzz_json.c - libFuzzer entry for binlog/json.c (and decimal.c through DECIMAL opaque
 * values). Input: byte 0 selects the entry point.
 *   even: tidm_binlog_json_to_text(data[1..])
 *   odd:  tidm_binlog_json_apply_diffs(before, diffs): bytes 1-2 (LE) = before length,
 *         then the before image, then the diff list.
 * Any return code is fine; crashes, sanitizer reports and leaks are the findings. The
 * output is also checked to be NUL-terminated text of the length the buffer reports.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/json.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidm_buf out = TIDM_BUF_INIT;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		size_t blen = size >= 3 ? (size_t)(data[1] | data[2] << 8) : 0;
		const uint8_t *rest = data + (size >= 3 ? 3 : size);
		size_t rlen = size >= 3 ? size - 3 : 0;
		if (blen > rlen)
			blen = rlen;
		rc = tidm_binlog_json_apply_diffs(&out, rest, blen, rest + blen, rlen - blen);
	} else {
		rc = tidm_binlog_json_to_text(&out, data + 1, size - 1);
	}
	if (rc == 0 && (out.data == NULL || strlen(out.data) > out.len))
		abort();
	tidm_buf_dispose(&out);
	return 0;
}
