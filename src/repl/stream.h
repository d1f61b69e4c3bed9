/*
 * stream.h - the binlog stream of a live source, for the applier: connects as a replica
 * (db/replica.h), decodes every event (binlog/event.h) and keeps the position, survives
 * network faults.
 *
 * Positions. The stream tracks the current binlog file (from ROTATE events, the fake one
 * at the start of every file included) and the position after each event (its header's
 * log_pos, or start + size where a server writes 0; a heartbeat between transactions
 * naming a later position of the current file moves it there: that is how a MySQL
 * primary reports transactions it skipped in a GTID dump). It also tracks transaction
 * boundaries: a transaction ends at XID, a COMMIT/ROLLBACK/XA COMMIT query, XA_PREPARE,
 * or the single statement after a GTID event that was not preceded by BEGIN (DDL). The
 * event that ends one has `trx_end` set; (file, next_pos) and the executed GTID set at
 * that event are a safe restart point, and what the applier checkpoints. Outside any
 * transaction every event is a restart point.
 *
 * Reconnect. A lost link (read error, or no packet for opts.conn.stall_timeout seconds,
 * or 2.5 heartbeat periods when that is 0 or shorter: the connection's read timeout is set
 * from it, rounded up to whole seconds) makes the stream reconnect with backoff 0.5 s doubling to
 * 30 s, forever, until it succeeds or the caller's cancel flag is set. It resumes from the
 * last transaction boundary it has seen: by GTID when the stream was started by GTID
 * (MySQL: COM_BINLOG_DUMP_GTID with the executed set; MariaDB: @slave_connect_state), else
 * by file + position. tidm_repl_stream_next() then returns TIDM_REPL_RECONNECTED once:
 * the caller must drop any transaction it has only partly received; the events after it
 * start at that boundary, so nothing is lost or repeated. (There is no rewind call: the
 * applier restarts a stream from its checkpoint with tidm_repl_stream_open().)
 *
 * Lifetime: the event returned by tidm_repl_stream_next() and every pointer in it are
 * valid until the next call on the stream or tidm_repl_stream_close().
 * Cancel: the flag is polled every 100 ms while waiting for a packet and while waiting to
 * reconnect (over TLS, where the socket cannot be watched: when the next heartbeat arrives,
 * within one period).
 * Threads: one owner. The cancel flag may be set from a signal handler or another thread.
 * The strings in tidm_repl_opts are borrowed and must outlive the stream.
 */
#ifndef TIDM_REPL_STREAM_H
#define TIDM_REPL_STREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "binlog/event.h"
#include "db/conn.h"
#include "util/gtid.h"

/* tidm_repl_stream_next(): the stream reconnected; drop a partial transaction. */
#define TIDM_REPL_RECONNECTED 2

enum tidm_repl_start {
	TIDM_REPL_START_NOW = 0, /* the source's current position (SHOW MASTER STATUS) */
	TIDM_REPL_START_FILE,	 /* start_file + start_pos */
	TIDM_REPL_START_GTID,	 /* start_gtid: what the caller already has (MySQL or MariaDB) */
};

typedef struct tidm_repl_opts {
	tidm_conn_opts conn; /* source connection; the stream sets read_timeout itself */
	uint32_t server_id;  /* 0 = tidm_replica_server_id(job_name) */
	const char *job_name;
	enum tidm_repl_start start;
	const char *start_file;
	uint64_t start_pos;  /* 0 = 4 */
	const char *start_gtid;
	unsigned heartbeat_ms;	  /* 0 = 1000 */
	bool return_heartbeats;	  /* else heartbeats are consumed inside the stream */
	bool until_open_pos;	  /* end (0) once the source position current at open is reached */
	bool non_block;		  /* end (0) at the end of the source's binlog (tests) */
	volatile sig_atomic_t *cancel; /* polled; NULL = never */
} tidm_repl_opts;

#define TIDM_REPL_OPTS_INIT {.conn = {.role = TIDM_ROLE_SOURCE}}

typedef struct tidm_repl_event {
	tidm_binlog_event ev;
	tidm_binlog_decoder *dec; /* for tidm_binlog_rows_begin() on rows events */
	const char *file;	  /* NUL-terminated name of the binlog file the event is in */
	uint64_t pos;		  /* start offset (for inner payload events: the payload's) */
	uint64_t next_pos;	  /* offset after it (0 for artificial events) */
	bool artificial;	  /* fake ROTATE / fake GTID_LIST / heartbeat, or the FDE re-sent
				     (log_pos 0) before a mid-file start: not at this position */
	bool in_payload;	  /* decoded from inside a TRANSACTION_PAYLOAD */
	bool trx_end;		  /* ends a transaction: a checkpoint may be taken after it */
	bool in_trx;		  /* part of a transaction that has not ended yet (false on trx_end) */
} tidm_repl_event;

typedef struct tidm_repl_stream tidm_repl_stream;

/*
 * Connect, prepare, register and send the dump. Errors: those of tidm_conn_open(),
 * TIDM_EINVAL (bad start GTID or position), TIDM_ENOTFOUND (binlog off); a purged start
 * position shows up on the first tidm_repl_stream_next(). *out is NULL on error.
 */
int tidm_repl_stream_open(tidm_repl_stream **out, const tidm_repl_opts *o);
void tidm_repl_stream_close(tidm_repl_stream *s);

/*
 * Next event: 1 with *out filled; TIDM_REPL_RECONNECTED (see top); 0 at the end
 * (until_open_pos reached, or EOF of a non_block dump); negative: TIDM_ECANCELED (cancel
 * flag), TIDM_ENOTFOUND (binlog purged, SPEC §5 message), TIDM_EAUTH (reconnect refused),
 * TIDM_ECORRUPT / TIDM_EUNSUPPORTED (undecodable event; the message has file and position).
 */
int tidm_repl_stream_next(tidm_repl_stream *s, tidm_repl_event *out);

/* The last transaction boundary (restart point): file, position, executed GTID set.
 * Borrowed; valid until the next call on the stream. */
const char *tidm_repl_stream_file(const tidm_repl_stream *s);
uint64_t tidm_repl_stream_pos(const tidm_repl_stream *s);
const tidm_gtid_set *tidm_repl_stream_gtid(const tidm_repl_stream *s);
/* The source position read at open (SHOW [BINARY LOG|MASTER] STATUS). */
const char *tidm_repl_stream_open_file(const tidm_repl_stream *s);
uint64_t tidm_repl_stream_open_pos(const tidm_repl_stream *s);
/* Number of reconnects so far. */
unsigned tidm_repl_stream_reconnects(const tidm_repl_stream *s);

/* Order of two binlog file names of one server (numeric suffix aware): <0, 0, >0. */
int tidm_repl_file_cmp(const char *a, const char *b);

/*
 * The transaction tracker behind `trx_end`, exposed for tests: feed it each decoded event
 * (top-level and inner payload events, in order); returns true when the event ends a
 * transaction. gtid (optional) receives the GTID of the ended transaction when one was
 * announced by a GTID event (*has_gtid set).
 */
typedef struct tidm_repl_trx {
	bool in_trx, saw_begin, has_gtid;
	tidm_gtid gtid;
} tidm_repl_trx;
bool tidm_repl_trx_feed(tidm_repl_trx *t, const tidm_binlog_event *ev, tidm_gtid *gtid, bool *has_gtid);

#endif
