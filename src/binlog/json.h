/*
 * json.h - MySQL binary JSON (the JSON column type in row events) to MySQL's text form,
 * and application of PARTIAL_UPDATE_ROWS JSON diffs.
 *
 * Input is the value bytes of one JSON column (after the column's u32 length prefix),
 * laid out as in binlog-protocol.md section 5. Output is the text MySQL prints for the
 * same document (`SELECT json_col`, JSON_TYPE/CAST): `{"a": 1, "b": [true, null]}`,
 * keys in stored order (length, then bytes), strings JSON-escaped, doubles as the
 * shortest round-trip digits in MySQL's fixed/exponent rule, temporal opaque values as
 * quoted text with 6 fractional digits, DECIMAL unquoted, other opaque values as
 * "base64:typeNN:<base64>".
 *
 * Threads: no shared state; safe on any thread. Errors set tidm_err (thread-local).
 */
#ifndef TIDM_BINLOG_JSON_H
#define TIDM_BINLOG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Deepest container nesting accepted (MySQL's JSON_DOCUMENT_MAX_DEPTH). */
#define TIDM_BINLOG_JSON_MAX_DEPTH 100

/*
 * Append the text form of the binary JSON document p[0..n) to `out`.
 * n == 0 is the JSON null literal: MySQL writes an empty value for a JSON column that
 * holds SQL-non-NULL JSON null in some paths (binlog-protocol.md section 4: "n = 0 =>
 * JSON null"), and prints it as `null`.
 * Returns 0, or TIDM_ECORRUPT (message names the byte offset) on malformed input, on
 * nesting deeper than TIDM_BINLOG_JSON_MAX_DEPTH, or on values that overlap (a valid
 * document never shares bytes between values; refusing that bounds the work and output
 * to a small multiple of n). On error `out` may hold a partial text: truncate it to the
 * length it had before the call if needed.
 */
int tidm_binlog_json_to_text(tidm_buf *out, const uint8_t *p, size_t n);

/*
 * PARTIAL_UPDATE_ROWS: apply the JSON diffs of one column to its before image and append
 * the after document's text to `out_text`.
 *   before/before_len: the column's binary JSON in the before image (0 bytes = null).
 *   diffs/diffs_len:   the bytes FOLLOWING the column's u32 length in the after image,
 *                      i.e. a sequence of diffs, each
 *                      u8 operation (0 REPLACE, 1 INSERT, 2 REMOVE),
 *                      lenenc path length + path text (`$`, `$.a`, `$."k y"`, `$[3]`,
 *                      `$.a[last]`), and, except for REMOVE, lenenc value length + binary
 *                      JSON value.
 * Semantics follow MySQL's apply_json_diffs (sql/json_diff.cc): REPLACE needs the path to
 * exist (`$` replaces the whole document); INSERT adds an object member (replacing the value
 * if the key exists, as Json_object::add_clone does) or inserts into an array at the index
 * (appends when past the end); REMOVE deletes a member/element that must exist; the parent
 * of an INSERT/REMOVE path must exist and be an object (member leg) or array (index leg).
 * No auto-wrapping of scalars. Inserted members keep MySQL's key order (length, then
 * bytes).
 * Returns 0, or TIDM_ECORRUPT (message says which diff and why).
 * Memory: an internal arena freed before return; strings point into the inputs.
 */
int tidm_binlog_json_apply_diffs(tidm_buf *out_text, const uint8_t *before, size_t before_len,
				 const uint8_t *diffs, size_t diffs_len);

#endif
