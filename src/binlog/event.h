/*
 * event.h - binlog events: the 19-byte header, typed event bodies, and the decoder that
 * turns one complete event buffer into a tidm_binlog_event.
 *
 * The same decoder serves files (file.h) and replication packets (repl/): the caller hands
 * it exactly one event (header + body + CRC if any) and gets back a struct whose fields
 * point into those bytes or into decoder-owned scratch memory. The decoder keeps the state
 * that later events need: the current FORMAT_DESCRIPTION (post-header lengths, checksum
 * algorithm) and the table-map cache (table id -> tidm_binlog_table, rows.h).
 *
 * Lifetime: an event and every pointer in it stay valid until the next call of
 * tidm_binlog_decoder_decode() on the same decoder (or the next payload step, payload.h
 * below), or until the caller's event bytes are released, whichever comes first. The
 * tidm_binlog_table a TABLE_MAP or rows event points to stays valid until the table id
 * is remapped by a later TABLE_MAP or the decoder is freed.
 *
 * Threads: a decoder has one owner; nothing is shared between decoders.
 * Errors: functions return 0 or a negative TIDM_E* code and set tidm_err: TIDM_ECORRUPT
 * (bad bytes, bad CRC; the message says what), TIDM_EUNSUPPORTED (a valid event we do not
 * decode, e.g. an unknown type without the IGNORABLE flag), TIDM_ENOTFOUND (rows event
 * for a table id with no TABLE_MAP).
 */
#ifndef TIDM_BINLOG_EVENT_H
#define TIDM_BINLOG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binlog/rows.h"
#include "util/buf.h"

#define TIDM_BINLOG_HEADER_LEN 19
#define TIDM_BINLOG_MAGIC "\xfe\x62\x69\x6e"
#define TIDM_BINLOG_MAGIC_LEN 4
/* Largest event accepted (MySQL/MariaDB cap events at 1 GiB, max_log_event_size). */
#define TIDM_BINLOG_MAX_EVENT (1u << 30)
/* Largest decompressed TRANSACTION_PAYLOAD / MariaDB compressed event accepted. */
#define TIDM_BINLOG_MAX_DECOMPRESSED ((size_t)1 << 30)

enum tidm_binlog_type {
	TIDM_BINLOG_UNKNOWN = 0,
	TIDM_BINLOG_START_V3 = 1,
	TIDM_BINLOG_QUERY = 2,
	TIDM_BINLOG_STOP = 3,
	TIDM_BINLOG_ROTATE = 4,
	TIDM_BINLOG_INTVAR = 5,
	TIDM_BINLOG_LOAD = 6,
	TIDM_BINLOG_SLAVE = 7,
	TIDM_BINLOG_CREATE_FILE = 8,
	TIDM_BINLOG_APPEND_BLOCK = 9,
	TIDM_BINLOG_EXEC_LOAD = 10,
	TIDM_BINLOG_DELETE_FILE = 11,
	TIDM_BINLOG_NEW_LOAD = 12,
	TIDM_BINLOG_RAND = 13,
	TIDM_BINLOG_USER_VAR = 14,
	TIDM_BINLOG_FORMAT_DESCRIPTION = 15,
	TIDM_BINLOG_XID = 16,
	TIDM_BINLOG_BEGIN_LOAD_QUERY = 17,
	TIDM_BINLOG_EXECUTE_LOAD_QUERY = 18,
	TIDM_BINLOG_TABLE_MAP = 19,
	TIDM_BINLOG_PRE_GA_WRITE_ROWS = 20,
	TIDM_BINLOG_PRE_GA_UPDATE_ROWS = 21,
	TIDM_BINLOG_PRE_GA_DELETE_ROWS = 22,
	TIDM_BINLOG_WRITE_ROWS_V1 = 23,
	TIDM_BINLOG_UPDATE_ROWS_V1 = 24,
	TIDM_BINLOG_DELETE_ROWS_V1 = 25,
	TIDM_BINLOG_INCIDENT = 26,
	TIDM_BINLOG_HEARTBEAT = 27,
	TIDM_BINLOG_IGNORABLE = 28,
	TIDM_BINLOG_ROWS_QUERY = 29,
	TIDM_BINLOG_WRITE_ROWS_V2 = 30,
	TIDM_BINLOG_UPDATE_ROWS_V2 = 31,
	TIDM_BINLOG_DELETE_ROWS_V2 = 32,
	TIDM_BINLOG_GTID = 33,
	TIDM_BINLOG_ANONYMOUS_GTID = 34,
	TIDM_BINLOG_PREVIOUS_GTIDS = 35,
	TIDM_BINLOG_TRANSACTION_CONTEXT = 36,
	TIDM_BINLOG_VIEW_CHANGE = 37,
	TIDM_BINLOG_XA_PREPARE = 38,
	TIDM_BINLOG_PARTIAL_UPDATE_ROWS = 39,
	TIDM_BINLOG_TRANSACTION_PAYLOAD = 40,
	TIDM_BINLOG_HEARTBEAT_V2 = 41,
	TIDM_BINLOG_GTID_TAGGED = 42,
	TIDM_BINLOG_MARIA_ANNOTATE_ROWS = 160,
	TIDM_BINLOG_MARIA_BINLOG_CHECKPOINT = 161,
	TIDM_BINLOG_MARIA_GTID = 162,
	TIDM_BINLOG_MARIA_GTID_LIST = 163,
	TIDM_BINLOG_MARIA_START_ENCRYPTION = 164,
	TIDM_BINLOG_MARIA_QUERY_COMPRESSED = 165,
	TIDM_BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
	TIDM_BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
	TIDM_BINLOG_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
	TIDM_BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V2 = 169,
	TIDM_BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_V2 = 170,
	TIDM_BINLOG_MARIA_DELETE_ROWS_COMPRESSED_V2 = 171,
	TIDM_BINLOG_MARIA_PARTIAL_ROW_DATA = 172,
};

/* Header flags (binlog-protocol.md 2.1). */
#define TIDM_BINLOG_F_BINLOG_IN_USE 0x0001
#define TIDM_BINLOG_F_ARTIFICIAL 0x0020
#define TIDM_BINLOG_F_IGNORABLE 0x0080

/* Checksum algorithms of the FDE. */
enum { TIDM_BINLOG_CSUM_OFF = 0, TIDM_BINLOG_CSUM_CRC32 = 1, TIDM_BINLOG_CSUM_UNDEF = 255 };

typedef struct tidm_binlog_header {
	uint32_t timestamp;
	uint8_t type;
	uint32_t server_id;
	uint32_t event_size;
	uint32_t log_pos;
	uint16_t flags;
} tidm_binlog_header;

/* Name of an event type as printed by `tidm binlog decode` ("WRITE_ROWS_V2",
 * "MARIA_GTID", ...); NULL for a number no server defines. */
const char *tidm_binlog_type_name(unsigned type);
/* A rows event (WRITE/UPDATE/DELETE v1, v2, PARTIAL_UPDATE, MariaDB compressed): iterate
 * its rows with tidm_binlog_rows_begin(). */
bool tidm_binlog_is_rows_event(unsigned type);

/* Parse the 19-byte common header at p (n readable). TIDM_EAGAIN when n < 19. */
int tidm_binlog_header_parse(tidm_binlog_header *out, const uint8_t *p, size_t n);

/* ---- event bodies (all pointers borrowed, see "Lifetime" above) ---- */

typedef struct tidm_binlog_fde {
	uint16_t binlog_version;
	char server_version[51];
	uint32_t created;
	uint8_t header_len;
	uint8_t checksum_alg;	 /* TIDM_BINLOG_CSUM_*; UNDEF for pre-5.6.1 writers */
	bool mariadb;
} tidm_binlog_fde;

typedef struct tidm_binlog_rotate {
	uint64_t position;
	const char *name; /* not NUL-terminated */
	size_t name_len;
} tidm_binlog_rotate;

typedef struct tidm_binlog_query {
	uint32_t thread_id;
	uint32_t exec_time;
	uint16_t error_code;
	const char *db; /* default database, not NUL-terminated */
	size_t db_len;
	const char *sql; /* statement text in charset_client (decompressed for type 165) */
	size_t sql_len;
	/* status variables; has_* says whether the event carried them */
	bool has_flags2, has_sql_mode, has_charset, has_time_zone, has_ddl_xid, has_charset_db;
	uint32_t flags2;
	uint64_t sql_mode;
	uint16_t charset_client, collation_connection, collation_server, collation_database;
	const char *time_zone;
	size_t time_zone_len;
	uint64_t ddl_xid;
} tidm_binlog_query;

/* MySQL GTID / ANONYMOUS_GTID / GTID_TAGGED. Optional tails are flagged by has_*. */
typedef struct tidm_binlog_gtid {
	uint8_t flags;
	uint8_t sid[16];
	int64_t gno;
	const char *tag; /* GTID_TAGGED only; NULL/0 when untagged */
	size_t tag_len;
	bool has_logical_ts, has_commit_ts, has_trx_length, has_server_version;
	int64_t last_committed, sequence_number;
	uint64_t immediate_commit_ts, original_commit_ts; /* microseconds since epoch */
	uint64_t transaction_length;
	uint32_t immediate_server_version, original_server_version;
} tidm_binlog_gtid;

typedef struct tidm_binlog_maria_gtid {
	uint64_t seq_no;
	uint32_t domain_id;
	uint32_t server_id;
	uint8_t flags2;
	uint64_t commit_id; /* when flags2 & 2 */
	int32_t xa_format_id; /* when flags2 & (64|128) */
	const uint8_t *xa_data; /* gtrid then bqual */
	uint8_t xa_gtrid_len, xa_bqual_len;
} tidm_binlog_maria_gtid;

typedef struct tidm_binlog_maria_gtid_list {
	uint32_t count;
	uint8_t flags;
	const uint8_t *entries; /* count x (u32 domain, u32 server_id, u64 seq) */
} tidm_binlog_maria_gtid_list;

typedef struct tidm_binlog_user_var {
	const char *name;
	size_t name_len;
	bool is_null;
	uint8_t value_type; /* 0 STRING, 1 REAL, 2 INT, 3 ROW, 4 DECIMAL */
	uint32_t charset;
	const uint8_t *value;
	size_t value_len;
	uint8_t flags; /* bit 0: unsigned (when present) */
} tidm_binlog_user_var;

typedef struct tidm_binlog_payload {
	uint64_t payload_size;
	uint64_t uncompressed_size;
	uint8_t compression; /* 0 ZSTD, 255 NONE */
	const uint8_t *data;
	size_t data_len;
} tidm_binlog_payload;

typedef struct tidm_binlog_xa_prepare {
	bool one_phase;
	int32_t format_id;
	uint32_t gtrid_len, bqual_len;
	const uint8_t *data;
} tidm_binlog_xa_prepare;

typedef struct tidm_binlog_heartbeat {
	const char *name;
	size_t name_len;
	uint64_t position; /* v1: header log_pos (or MariaDB's 64-bit sub-header); v2: TLV */
} tidm_binlog_heartbeat;

typedef struct tidm_binlog_event {
	tidm_binlog_header hdr;
	const uint8_t *raw;  /* the whole event as given */
	size_t raw_len;
	const uint8_t *body; /* after the header, CRC removed */
	size_t body_len;
	bool unsupported; /* a known type whose body is not decoded (legacy LOAD, pre-GA rows,
			     ignorable unknown types): only hdr is meaningful */
	union {
		tidm_binlog_fde fde;
		tidm_binlog_rotate rotate;
		tidm_binlog_query query;
		uint64_t xid;
		struct {
			uint8_t type;
			uint64_t value;
		} intvar;
		struct {
			uint64_t seed1, seed2;
		} rand;
		tidm_binlog_user_var user_var;
		struct {
			uint16_t type;
			const char *message;
			size_t message_len;
		} incident;
		tidm_binlog_heartbeat heartbeat;
		struct {
			const char *text; /* ROWS_QUERY, ANNOTATE_ROWS */
			size_t len;
		} text;
		struct {
			const char *name; /* BINLOG_CHECKPOINT */
			size_t len;
		} checkpoint;
		tidm_binlog_gtid gtid;
		struct {
			const uint8_t *data; /* PREVIOUS_GTIDS: GTID set, binary (util/gtid.h) */
			size_t len;
		} previous_gtids;
		tidm_binlog_maria_gtid maria_gtid;
		tidm_binlog_maria_gtid_list gtid_list;
		tidm_binlog_xa_prepare xa_prepare;
		tidm_binlog_payload payload;
		const struct tidm_binlog_table *table_map;
		tidm_binlog_rows rows;
	} u;
} tidm_binlog_event;

/* ---- decoder ---- */

typedef struct tidm_binlog_decoder tidm_binlog_decoder;

/* Options of tidm_binlog_decoder_decode(). */
enum {
	/* The event carries no CRC whatever the FDE says (events inside a TRANSACTION_PAYLOAD). */
	TIDM_BINLOG_DECODE_NO_CRC = 1,
	/* Skip CRC verification (still strips the 4 bytes when the FDE says CRC32). */
	TIDM_BINLOG_DECODE_NO_VERIFY = 2,
};

/* New decoder with no FDE seen yet (assumes v4 defaults, no checksum). NULL on OOM. */
tidm_binlog_decoder *tidm_binlog_decoder_new(void);
void tidm_binlog_decoder_free(tidm_binlog_decoder *d);

/* The FDE the decoder currently uses (zeroed until one was decoded). */
const tidm_binlog_fde *tidm_binlog_decoder_fde(const tidm_binlog_decoder *d);

/* Tell the decoder the checksum algorithm to assume before an FDE arrives (replication:
 * what the client declared in @source_binlog_checksum). */
void tidm_binlog_decoder_set_checksum(tidm_binlog_decoder *d, uint8_t alg);

/*
 * Decode one complete event p[0..n) into *out. n must equal the header's event_size.
 * FDE and TABLE_MAP events also update the decoder state. Rows events are only framed
 * here (header, bitmaps, table); iterate their rows with tidm_binlog_rows_begin().
 * Returns 0, TIDM_ECORRUPT, TIDM_EUNSUPPORTED or TIDM_ENOTFOUND (see top).
 */
int tidm_binlog_decoder_decode(tidm_binlog_decoder *d, tidm_binlog_event *out, const uint8_t *p,
			       size_t n, unsigned flags);

/*
 * TRANSACTION_PAYLOAD: decompress `ev` (a decoded payload event) into decoder-owned memory
 * and prepare to iterate its inner events. Then tidm_binlog_decoder_payload_next() decodes
 * the next inner event into *out (returns 1), or returns 0 at the end, or a negative code.
 * Inner events have no CRC and log_pos 0. The decompressed bytes stay valid until the next
 * payload_begin on this decoder; inner events follow the usual lifetime rule.
 * The decompressed size is capped at TIDM_BINLOG_MAX_DECOMPRESSED.
 */
int tidm_binlog_decoder_payload_begin(tidm_binlog_decoder *d, const tidm_binlog_event *ev);
int tidm_binlog_decoder_payload_next(tidm_binlog_decoder *d, tidm_binlog_event *out);

/* CRC32 (zlib polynomial) of p[0..n), continuing from crc (start with 0). Uses PCLMULQDQ
 * folding on x86-64 CPUs that have it, zlib otherwise. Thread-safe. */
uint32_t tidm_binlog_crc32(uint32_t crc, const uint8_t *p, size_t n);
/* Tests only: 0 forces the zlib path, -1 restores the CPU check. */
void tidm_binlog_crc32_force(int clmul);

/* Format a 16-byte server UUID as 8-4-4-4-12 lowercase hex into out[37]. */
void tidm_binlog_uuid_format(char out[37], const uint8_t sid[16]);

#endif
