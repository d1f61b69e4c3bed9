/*
 * gtid.h - GTIDs and GTID sets of MySQL (uuid[:tag]:intervals) and MariaDB
 * (domain-server-seq positions).
 *
 * MySQL text: `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,uuid2:tag:1-3` (the tagged form
 * of 8.4: a tag applies to the intervals after it until the next tag or uuid; `uuid:1-3:t:5`).
 * Canonical output: uuids lowercase and sorted by their 16 bytes; per uuid the untagged
 * intervals first, then tags sorted; intervals merged and ascending; sids separated by ","
 * (no newline, unlike SHOW output); "" for the empty set.
 *
 * MariaDB text: `0-1-100,1-2-57` (domain-server-seq). A set keeps one GTID per domain: the
 * position reached in that domain (as @@gtid_slave_pos / @@gtid_current_pos). Canonical
 * output is sorted by domain. Set algebra is per domain on seq_no:
 *   contains(A, B)  every domain of B is in A with A.seq >= B.seq;
 *   union(A, B)     per domain the larger seq (and its server id);
 *   subtract(A, B)  the domains of A that B does not reach (absent or B.seq < A.seq);
 *   add(A, g)       union with the single GTID g.
 *
 * A tidm_gtid_set is caller storage: tidm_gtid_set_init() / tidm_gtid_set_dispose(). Its
 * fields are private. One set is either MySQL or MariaDB (its flavor); operations between
 * sets of different flavors fail with TIDM_EINVAL. Allocation failure aborts (as tidm_buf).
 *
 * Threads: a set has one owner; no shared state.
 */
#ifndef TIDM_UTIL_GTID_H
#define TIDM_UTIL_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum tidm_gtid_flavor {
	TIDM_GTID_AUTO = 0, /* parse only: detect from the text (a ':' means MySQL) */
	TIDM_GTID_MYSQL = 1,
	TIDM_GTID_MARIADB = 2,
} tidm_gtid_flavor;

/* Longest MySQL GTID tag (8.4: [a-z_][a-z0-9_]{0,31}, stored lowercase). */
#define TIDM_GTID_TAG_MAX 32
/* Largest MySQL GNO (GNO_END - 1 = INT64_MAX - 1). */
#define TIDM_GTID_GNO_MAX ((uint64_t)INT64_MAX - 1)

/* One GTID; fields by flavor. */
typedef struct tidm_gtid {
	tidm_gtid_flavor flavor;
	/* MySQL */
	uint8_t uuid[16];
	char tag[TIDM_GTID_TAG_MAX + 1]; /* "" = untagged; lowercase */
	uint64_t gno;                     /* 1 .. TIDM_GTID_GNO_MAX */
	/* MariaDB */
	uint32_t domain;
	uint32_t server;
	uint64_t seq;
} tidm_gtid;

/* Private: an inclusive interval [first, last] of GNOs. */
typedef struct tidm_gtid_interval {
	uint64_t first;
	uint64_t last;
} tidm_gtid_interval;

/* Private: the intervals of one (uuid, tag). */
typedef struct tidm_gtid_sid {
	uint8_t uuid[16];
	char tag[TIDM_GTID_TAG_MAX + 1];
	tidm_gtid_interval *iv;
	size_t n_iv, cap_iv;
} tidm_gtid_sid;

typedef struct tidm_gtid_set {
	tidm_gtid_flavor flavor;
	tidm_gtid_sid *sids; /* MySQL: sorted by (uuid, tag) */
	size_t n_sids, cap_sids;
	tidm_gtid *doms; /* MariaDB: one per domain, sorted by domain */
	size_t n_doms, cap_doms;
} tidm_gtid_set;

/* An empty set of the given flavor (TIDM_GTID_AUTO: flavor fixed by the first parse/add). */
void tidm_gtid_set_init(tidm_gtid_set *set, tidm_gtid_flavor flavor);
/* Free the set's memory; the set may be re-initialised. Safe on a zeroed struct. */
void tidm_gtid_set_dispose(tidm_gtid_set *set);
/* Remove every GTID, keep the flavor. */
void tidm_gtid_set_clear(tidm_gtid_set *set);
/* Replace `out` (initialised) by a copy of `src`, flavor included. */
void tidm_gtid_set_copy(tidm_gtid_set *out, const tidm_gtid_set *src);

bool tidm_gtid_set_is_empty(const tidm_gtid_set *set);
/* Same GTIDs (and same flavor; two empty sets are equal whatever their flavor). */
bool tidm_gtid_set_equal(const tidm_gtid_set *a, const tidm_gtid_set *b);

/*
 * Parse `text` into `set` (initialised; its previous contents are replaced). `flavor`
 * TIDM_GTID_AUTO detects it; the set takes the flavor parsed. Whitespace around items and
 * a trailing "," are accepted; "" is the empty set. MySQL: uuid with or without hyphens,
 * any case; intervals `n` or `a-b` with 1 <= a <= b <= TIDM_GTID_GNO_MAX; tags as above.
 * Returns 0 or TIDM_EINVAL, message quoting the bad part (`bad GTID interval "5-3"`).
 * On error the set is left empty.
 */
int tidm_gtid_set_parse(tidm_gtid_set *set, tidm_gtid_flavor flavor, const char *text);

/* Append the canonical text of `set` to `out` (see top). */
void tidm_gtid_set_format(const tidm_gtid_set *set, tidm_buf *out);

/* Parse one GTID (`uuid:n`, `uuid:tag:n`, or `d-s-n`). TIDM_EINVAL on error. */
int tidm_gtid_parse(tidm_gtid *out, tidm_gtid_flavor flavor, const char *text);
/* Append `uuid:n`, `uuid:tag:n` or `d-s-n`. */
void tidm_gtid_format(const tidm_gtid *gtid, tidm_buf *out);

/* Add one GTID. TIDM_EINVAL on a flavor mismatch or a MySQL GNO out of range. */
int tidm_gtid_set_add(tidm_gtid_set *set, const tidm_gtid *gtid);
/* set = set U other. TIDM_EINVAL on a flavor mismatch (an empty AUTO set adopts other's). */
int tidm_gtid_set_union(tidm_gtid_set *set, const tidm_gtid_set *other);
/* set = set - other. TIDM_EINVAL on a flavor mismatch. */
int tidm_gtid_set_subtract(tidm_gtid_set *set, const tidm_gtid_set *other);
/* set ⊇ sub. An empty sub is contained in anything; flavors must match otherwise. */
bool tidm_gtid_set_contains(const tidm_gtid_set *set, const tidm_gtid_set *sub);
/* The GTID is in the set (MariaDB: the set's domain has reached gtid->seq). */
bool tidm_gtid_set_contains_gtid(const tidm_gtid_set *set, const tidm_gtid *gtid);

/*
 * MySQL binary GTID set (PREVIOUS_GTIDS_LOG_EVENT body, COM_BINLOG_DUMP_GTID data;
 * binlog-protocol.md section 1.4): classic format 0 (u64 n_sids) or tagged format 1
 * (8.3+, header (1<<56)|(n<<8)|1, per entry a varlen tag length + tag). Intervals are
 * [start, end) on the wire. Decode replaces `set` contents and makes it MySQL; the entries
 * may come in any order and are merged. Trailing bytes after the last entry are an error.
 * Returns 0 or TIDM_ECORRUPT with the byte offset.
 */
int tidm_gtid_set_decode_mysql(tidm_gtid_set *set, const uint8_t *p, size_t n);
/*
 * Append the binary form of a MySQL set to `out`: the classic format when no tag is
 * present (older servers reject the tagged header), else the tagged format.
 * TIDM_EINVAL if the set is MariaDB.
 */
int tidm_gtid_set_encode_mysql(const tidm_gtid_set *set, tidm_buf *out);

#endif
