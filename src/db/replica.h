/*
 * replica.h - the replica side of the MySQL/MariaDB replication protocol on an open
 * tidm_conn (db/conn.h): session setup, COM_REGISTER_SLAVE, COM_BINLOG_DUMP /
 * COM_BINLOG_DUMP_GTID and reading the event packets that follow
 * (reference/binlog-protocol.md section 1). Lives in db/ because it talks to libmariadb.
 *
 * Sequence: tidm_replica_prepare() -> tidm_replica_register() -> tidm_replica_dump() or
 * tidm_replica_dump_gtid() -> tidm_replica_read() until it returns 0 or an error. After
 * the dump command the connection carries only the binlog stream: close it when done
 * (there is no way back to statements).
 *
 * Errors (and the thread's last error, util/err.h):
 *   TIDM_ENOTFOUND  the server answered 1236 because the requested binlog is gone (purged,
 *                   "could not find", "binary log"): the message is exactly the SPEC §5
 *                   text followed by the server's message in parentheses;
 *   TIDM_ECONN      lost connection, read timeout (dead link), server shutdown: reconnect;
 *   TIDM_ECORRUPT   a packet that is no event, EOF or error;
 *   TIDM_ERROR      any other server error (message and errno kept).
 * Threads: as the connection (one owner).
 */
#ifndef TIDM_DB_REPLICA_H
#define TIDM_DB_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/conn.h"
#include "util/gtid.h"

/* The SPEC §5 message for a purged binlog (the error message starts with it). */
#define TIDM_REPLICA_PURGED_MSG                                                                    \
	"The required binary log for migration no longer exists on the source database. Please "  \
	"make sure binary log files are kept for long enough time for migration to succeed."

/* COM_BINLOG_DUMP flag: the server ends the stream (EOF) at the end of the binlog instead
 * of waiting for new events. */
#define TIDM_REPLICA_NON_BLOCK 0x01

typedef struct tidm_replica_setup {
	uint32_t server_id;	 /* this replica's id (tidm_replica_server_id()); only for @slave_uuid */
	unsigned heartbeat_ms;	 /* 0 = no heartbeats */
	/* MariaDB GTID start: `d-s-n,...` (the last GTID applied per domain) or NULL. */
	const char *mariadb_connect_state;
} tidm_replica_setup;

/*
 * A replica server_id for `job_name`: a stable hash of the name mapped into
 * [1000000000, 2000000000), far above the ids people give real servers.
 */
uint32_t tidm_replica_server_id(const char *job_name);

/*
 * Session setup before registering (binlog-protocol.md 1.1): declares the client
 * checksum-aware (@master_binlog_checksum and @source_binlog_checksum =
 * @@global.binlog_checksum), the heartbeat period, @slave_uuid/@replica_uuid (MySQL), and
 * for MariaDB @mariadb_slave_capability=4 plus the GTID start variables when
 * mariadb_connect_state is set. *checksum_alg receives what the server will assume for the
 * first (fake) ROTATE: TIDM_BINLOG_CSUM_CRC32 (1) or OFF (0); a server without
 * @@binlog_checksum (before 5.6.1) gives OFF.
 */
int tidm_replica_prepare(tidm_conn *c, const tidm_replica_setup *s, uint8_t *checksum_alg);

/* COM_REGISTER_SLAVE with `server_id` (non-zero); hostname (may be NULL) and port are what
 * SHOW REPLICA HOSTS shows. */
int tidm_replica_register(tidm_conn *c, uint32_t server_id, const char *hostname, unsigned port);

/*
 * COM_BINLOG_DUMP from (file, pos). MariaDB GTID mode: file "" and pos 4 after
 * tidm_replica_prepare() with mariadb_connect_state. pos must be < 4 GiB (the field is 32
 * bits): TIDM_EINVAL otherwise. flags: TIDM_REPLICA_NON_BLOCK. On MariaDB the stream also
 * asks for ANNOTATE_ROWS events (flag 0x02) so that positions have no holes.
 */
int tidm_replica_dump(tidm_conn *c, uint32_t server_id, const char *file, uint64_t pos, unsigned flags);

/*
 * COM_BINLOG_DUMP_GTID (MySQL): the server skips the transactions of `executed` (MySQL
 * flavour, may be empty or NULL) and streams the rest, from `file`/`pos` when file is
 * non-empty, else from the oldest binlog that has what is missing (pos 4).
 */
int tidm_replica_dump_gtid(tidm_conn *c, uint32_t server_id, const tidm_gtid_set *executed,
			   const char *file, uint64_t pos, unsigned flags);

/*
 * The next packet of the stream: 1 with the event bytes in *p, *n (the 0x00 status byte
 * removed; borrowed, valid until the next call on this connection); 0 at the end of the
 * stream (EOF packet, after a NON_BLOCK dump); negative on error (see top). A read blocks
 * until the server sends something or the connection's read timeout
 * (tidm_conn_opts.read_timeout) passes, which is reported as TIDM_ECONN.
 */
int tidm_replica_read(tidm_conn *c, const uint8_t **p, size_t *n);

/*
 * Wait up to timeout_ms for the next packet: 1 when bytes are buffered or the socket is
 * readable (or when it cannot tell: TLS, compression; then tidm_replica_read() blocks up to
 * the read timeout), 0 when nothing arrived in time. Never fails: errors surface in the
 * following tidm_replica_read().
 */
int tidm_replica_poll(tidm_conn *c, int timeout_ms);

/* The source's current binlog position. */
typedef struct tidm_replica_status {
	char file[512];
	uint64_t pos;
	char *gtid; /* malloc'd; MySQL Executed_Gtid_Set or MariaDB @@gtid_binlog_pos; "" when none */
} tidm_replica_status;

/*
 * Read the current position: SHOW BINARY LOG STATUS on MySQL 8.2+ (SHOW MASTER STATUS
 * when that fails with a syntax error, or on older servers and MariaDB), and on MariaDB
 * @@global.gtid_binlog_pos. TIDM_ENOTFOUND when binary logging is off (empty result).
 * Free out->gtid with tidm_replica_status_dispose().
 */
int tidm_replica_status_read(tidm_conn *c, tidm_replica_status *out);
void tidm_replica_status_dispose(tidm_replica_status *st);

/* The statement that lists binlog files on this server: "SHOW BINARY LOGS" (every
 * supported version accepts it; MySQL 8.4 removed "SHOW MASTER LOGS"). */
const char *tidm_replica_list_logs_sql(const tidm_conn *c);

#endif
