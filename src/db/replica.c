/*
 * replica.c - replica-side replication protocol over MariaDB Connector/C. See replica.h.
 *
 * Design:
 * - Session setup uses ordinary statements through conn.h. Protocol commands go through
 *   the handle's `methods->db_command` (the same entry Connector/C's own mariadb_rpl.c
 *   uses): COM_REGISTER_SLAVE with result check, COM_BINLOG_DUMP[_GTID] without (the
 *   answer is the stream). Stream packets are read with mysql_net_read_packet(), which
 *   reassembles >16 MiB packets and turns an ERR packet into mysql_errno/mysql_error.
 * - Every command buffer is built with explicit little-endian stores and length checks
 *   (names longer than the one-byte length fields are refused, not truncated).
 * - Error 1236 is classified by its message: the server's words for a purged or missing
 *   binlog ("purged", "could not find", "binary log") become TIDM_ENOTFOUND with the SPEC
 *   §5 message; connection loss (client 2006/2013/2055, server shutdown 1053, killed
 *   1927) becomes TIDM_ECONN so that the stream reconnects.
 */
#include "db/replica.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/event.h"
#include "db/conn_int.h"
#include <ma_pvio.h> /* after mysql.h (conn_int.h): the read-ahead cache of the socket */
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

enum {
	COM_REGISTER_SLAVE_ = 0x15,
	COM_BINLOG_DUMP_ = 0x12,
	COM_BINLOG_DUMP_GTID_ = 0x1e,
	BINLOG_SEND_ANNOTATE_ROWS_ = 0x02, /* MariaDB */
	ER_MASTER_FATAL_READ_ = 1236,
	ER_PARSE_ = 1064,
	ER_UNKNOWN_SYSVAR_ = 1193,
	ER_SERVER_SHUTDOWN_ = 1053,
	ER_CONNECTION_KILLED_ = 1927,
	CR_SERVER_GONE_ = 2006,
	CR_SERVER_LOST_ = 2013,
	CR_SERVER_LOST_EXTENDED_ = 2055,
};

uint32_t tidm_replica_server_id(const char *job_name)
{
	/* FNV-1a 32 over the name, then mapped into [1e9, 2e9) */
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)(job_name ? job_name : ""); *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return 1000000000u + h % 1000000000u;
}

static void put_u16(tidm_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	tidm_buf_put(b, x, 2);
}

static void put_u32(tidm_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	tidm_buf_put(b, x, 4);
}

static void put_u64(tidm_buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

/* Case-insensitive substring test. */
static bool has_word(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* Record the error left on the handle by a command or a stream read; returns the code. */
static int stream_error(tidm_conn *c, const char *what)
{
	MYSQL *my = tidm_conn_handle(c);
	unsigned e = mysql_errno(my);
	const char *msg = mysql_error(my);

	if (e == ER_MASTER_FATAL_READ_ &&
	    (has_word(msg, "purged") || has_word(msg, "could not find") || has_word(msg, "binary log")))
		return tidm_err_set_db(TIDM_ENOTFOUND, e, "%s (%s, errno %u)", TIDM_REPLICA_PURGED_MSG, msg, e);
	if (e == CR_SERVER_GONE_ || e == CR_SERVER_LOST_ || e == CR_SERVER_LOST_EXTENDED_ ||
	    e == ER_SERVER_SHUTDOWN_ || e == ER_CONNECTION_KILLED_ || e == 0)
		return tidm_err_set_db(TIDM_ECONN, e, "source binlog stream: %s: connection lost: %s (errno %u)",
				       what, e ? msg : "no answer", e);
	return tidm_err_set_db(TIDM_ERROR, e, "source binlog stream: %s: %s (errno %u)", what, msg, e);
}

int tidm_replica_prepare(tidm_conn *c, const tidm_replica_setup *s, uint8_t *checksum_alg)
{
	const tidm_server_info *info = tidm_conn_info(c);
	char *alg = NULL;
	int rc;

	*checksum_alg = TIDM_BINLOG_CSUM_OFF;
	rc = tidm_conn_execf(c, "SET @master_binlog_checksum = @@global.binlog_checksum, "
				"@source_binlog_checksum = @@global.binlog_checksum");
	if (rc < 0) {
		if (tidm_err_dberr() != ER_UNKNOWN_SYSVAR_)
			return rc;
		tidm_debug("source has no binlog_checksum (before 5.6.1): events carry no CRC");
		tidm_err_clear();
	} else {
		if ((rc = tidm_conn_query_value(c, &alg, "SELECT @master_binlog_checksum")) < 0)
			return rc;
		if (alg && strcasecmp(alg, "CRC32") == 0)
			*checksum_alg = TIDM_BINLOG_CSUM_CRC32;
		else if (alg && *alg && strcasecmp(alg, "NONE") != 0) {
			rc = tidm_err_set(TIDM_EUNSUPPORTED, "source binlog_checksum '%s' is not supported "
							     "(CRC32 or NONE)",
					  alg);
			free(alg);
			return rc;
		}
		free(alg);
	}
	if (s->heartbeat_ms) {
		unsigned long long ns = (unsigned long long)s->heartbeat_ms * 1000000ull;
		if ((rc = tidm_conn_execf(c, "SET @master_heartbeat_period = %llu, @source_heartbeat_period = %llu",
					  ns, ns)) < 0)
			return rc;
	}
	if (info->flavor == TIDM_FLAVOR_MARIADB) {
		if ((rc = tidm_conn_execf(c, "SET @mariadb_slave_capability = 4")) < 0)
			return rc;
		if (s->mariadb_connect_state) {
			for (const char *p = s->mariadb_connect_state; *p; p++)
				if (!isdigit((unsigned char)*p) && *p != '-' && *p != ',' && *p != ' ')
					return tidm_err_set(TIDM_EINVAL, "bad MariaDB GTID position '%s'",
							    s->mariadb_connect_state);
			if ((rc = tidm_conn_execf(c, "SET @slave_connect_state = '%s'", s->mariadb_connect_state)) < 0 ||
			    (rc = tidm_conn_execf(c, "SET @slave_gtid_strict_mode = 1")) < 0 ||
			    (rc = tidm_conn_execf(c, "SET @slave_gtid_ignore_duplicates = 0")) < 0)
				return rc;
		}
	} else {
		/* a second dump with the same uuid would kill ours (kill_zombie_dump_threads) */
		uint32_t id = s->server_id;
		char uuid[40];
		snprintf(uuid, sizeof(uuid), "%08x-7469-646d-8000-%012llx", id,
			 (unsigned long long)id * 2654435761ull & 0xffffffffffffull);
		if ((rc = tidm_conn_execf(c, "SET @slave_uuid = '%s', @replica_uuid = '%s'", uuid, uuid)) < 0)
			return rc;
	}
	return 0;
}

/* Send a protocol command; check_ok: read and check the OK/ERR answer. */
static int send_cmd(tidm_conn *c, unsigned cmd, const tidm_buf *b, bool check_ok, const char *what)
{
	MYSQL *my = tidm_conn_handle(c);

	if (my->methods->db_command(my, (enum enum_server_command)cmd, b->data, b->len, check_ok ? 0 : 1, NULL) != 0)
		return stream_error(c, what);
	return 0;
}

int tidm_replica_register(tidm_conn *c, uint32_t server_id, const char *hostname, unsigned port)
{
	tidm_buf b = TIDM_BUF_INIT;
	size_t hl = hostname ? strlen(hostname) : 0;
	int rc;

	if (server_id == 0)
		return tidm_err_set(TIDM_EINVAL, "replica server_id must not be 0");
	if (hl > 60)
		hl = 60; /* shown in SHOW REPLICA HOSTS only; the server's limit is 60 */
	put_u32(&b, server_id);
	tidm_buf_putc(&b, (char)hl);
	tidm_buf_put(&b, hostname ? hostname : "", hl);
	tidm_buf_putc(&b, 0); /* user */
	tidm_buf_putc(&b, 0); /* password */
	put_u16(&b, (uint16_t)port);
	put_u32(&b, 0); /* rank */
	put_u32(&b, 0); /* master id */
	rc = send_cmd(c, COM_REGISTER_SLAVE_, &b, true, "COM_REGISTER_SLAVE");
	tidm_buf_dispose(&b);
	return rc;
}

int tidm_replica_dump(tidm_conn *c, uint32_t server_id, const char *file, uint64_t pos, unsigned flags)
{
	tidm_buf b = TIDM_BUF_INIT;
	int rc;

	if (pos > UINT32_MAX)
		return tidm_err_set(TIDM_EINVAL,
				    "binlog position %llu is beyond 4 GiB: COM_BINLOG_DUMP cannot request it",
				    (unsigned long long)pos);
	if (tidm_conn_info(c)->flavor == TIDM_FLAVOR_MARIADB)
		flags |= BINLOG_SEND_ANNOTATE_ROWS_;
	put_u32(&b, (uint32_t)(pos < 4 ? 4 : pos));
	put_u16(&b, (uint16_t)flags);
	put_u32(&b, server_id);
	tidm_buf_puts(&b, file ? file : "");
	tidm_debug("COM_BINLOG_DUMP file '%s' pos %llu flags %#x server_id %u", file ? file : "",
		   (unsigned long long)pos, flags, server_id);
	rc = send_cmd(c, COM_BINLOG_DUMP_, &b, false, "COM_BINLOG_DUMP");
	tidm_buf_dispose(&b);
	return rc;
}

int tidm_replica_dump_gtid(tidm_conn *c, uint32_t server_id, const tidm_gtid_set *executed,
			   const char *file, uint64_t pos, unsigned flags)
{
	tidm_buf b = TIDM_BUF_INIT, set = TIDM_BUF_INIT;
	size_t fl = file ? strlen(file) : 0;
	int rc;

	if (executed && !tidm_gtid_set_is_empty(executed) && (rc = tidm_gtid_set_encode_mysql(executed, &set)) < 0)
		return rc;
	if (!executed || tidm_gtid_set_is_empty(executed)) {
		uint8_t zero[8] = {0};
		tidm_buf_put(&set, zero, 8); /* n_sids = 0 */
	}
	if (set.len > UINT32_MAX) {
		tidm_buf_dispose(&set);
		return tidm_err_set(TIDM_EINVAL, "GTID set too large for COM_BINLOG_DUMP_GTID");
	}
	put_u16(&b, (uint16_t)flags);
	put_u32(&b, server_id);
	put_u32(&b, (uint32_t)fl);
	tidm_buf_put(&b, file ? file : "", fl);
	put_u64(&b, fl ? (pos < 4 ? 4 : pos) : 4);
	put_u32(&b, (uint32_t)set.len);
	tidm_buf_put(&b, set.data, set.len);
	tidm_debug("COM_BINLOG_DUMP_GTID file '%s' pos %llu, %zu bytes of GTID set, server_id %u", file ? file : "",
		   (unsigned long long)pos, set.len, server_id);
	rc = send_cmd(c, COM_BINLOG_DUMP_GTID_, &b, false, "COM_BINLOG_DUMP_GTID");
	tidm_buf_dispose(&b);
	tidm_buf_dispose(&set);
	return rc;
}

int tidm_replica_read(tidm_conn *c, const uint8_t **p, size_t *n)
{
	MYSQL *my = tidm_conn_handle(c);
	unsigned long len = mysql_net_read_packet(my);
	const uint8_t *d;

	*p = NULL;
	*n = 0;
	/* packet_error is ((unsigned int)-1) in Connector/C: an ERR packet or an I/O failure */
	if (len == (unsigned long)(unsigned int)-1 || len == (unsigned long)-1)
		return stream_error(c, "reading events");
	d = my->net.read_pos;
	if (len == 0 || !d)
		return tidm_err_set(TIDM_ECORRUPT, "source binlog stream: empty packet");
	if (d[0] == 0xfe && len < 9)
		return 0;
	if (d[0] != 0x00)
		return tidm_err_set(TIDM_ECORRUPT, "source binlog stream: unexpected packet type 0x%02x (%lu bytes)",
				    d[0], len);
	if (len - 1 < TIDM_BINLOG_HEADER_LEN)
		return tidm_err_set(TIDM_ECORRUPT, "source binlog stream: event packet of %lu bytes is shorter than "
						   "an event header",
				    len);
	*p = d + 1;
	*n = (size_t)(len - 1);
	return 1;
}

int tidm_replica_poll(tidm_conn *c, int timeout_ms)
{
	MYSQL *my = tidm_conn_handle(c);
	MARIADB_PVIO *pvio = my->net.pvio;
	struct pollfd pfd;
	int k;

	/* bytes already read ahead by Connector/C, or a layer whose buffer we cannot see */
	if (!pvio || pvio->ctls || my->net.compress)
		return 1;
	if (pvio->cache && pvio->cache_pos < pvio->cache + pvio->cache_size)
		return 1;
	pfd.fd = (int)mysql_get_socket(my);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 1;
	k = poll(&pfd, 1, timeout_ms);
	if (k < 0)
		return errno == EINTR ? 0 : 1;
	return k > 0;
}

/* Run one status statement; rc 0 with the row filled, or the query's error. */
static int read_status_stmt(tidm_conn *c, const char *sql, tidm_replica_status *out)
{
	tidm_res *r;
	int rc = tidm_conn_query(c, &r, sql);

	if (rc < 0)
		return rc;
	if (tidm_res_next(r) != 1 || tidm_res_cols(r) < 2 || !tidm_res_get(r, 0)) {
		tidm_res_free(r);
		return tidm_err_set(TIDM_ENOTFOUND, "source: %s returned no binlog position: is binary logging "
						    "(log_bin) enabled on the source?",
				    sql);
	}
	snprintf(out->file, sizeof(out->file), "%s", tidm_res_get(r, 0));
	out->pos = strtoull(tidm_res_get(r, 1) ? tidm_res_get(r, 1) : "0", NULL, 10);
	free(out->gtid);
	out->gtid = NULL;
	/* MySQL: File, Position, Binlog_Do_DB, Binlog_Ignore_DB, Executed_Gtid_Set */
	for (unsigned i = 2; i < tidm_res_cols(r); i++) {
		const char *name = tidm_res_col_name(r, i);
		if (name && strcasecmp(name, "Executed_Gtid_Set") == 0 && tidm_res_get(r, i)) {
			tidm_buf g = TIDM_BUF_INIT;
			/* SHOW output wraps long sets with newlines */
			for (const char *q = tidm_res_get(r, i); *q; q++)
				if (*q != '\n' && *q != '\r')
					tidm_buf_putc(&g, *q);
			out->gtid = tidm_buf_detach(&g);
			tidm_buf_dispose(&g);
		}
	}
	tidm_res_free(r);
	return 0;
}

int tidm_replica_status_read(tidm_conn *c, tidm_replica_status *out)
{
	const tidm_server_info *info = tidm_conn_info(c);
	int rc;

	memset(out, 0, sizeof(*out));
	if (info->flavor == TIDM_FLAVOR_MYSQL && info->version >= 80200) {
		rc = read_status_stmt(c, "SHOW BINARY LOG STATUS", out);
		if (rc < 0 && tidm_err_dberr() == ER_PARSE_) {
			tidm_err_clear();
			rc = read_status_stmt(c, "SHOW MASTER STATUS", out);
		}
	} else {
		rc = read_status_stmt(c, "SHOW MASTER STATUS", out);
	}
	if (rc < 0)
		goto fail;
	if (info->flavor == TIDM_FLAVOR_MARIADB) {
		free(out->gtid);
		out->gtid = NULL;
		if ((rc = tidm_conn_query_value(c, &out->gtid, "SELECT @@global.gtid_binlog_pos")) < 0)
			goto fail;
	}
	if (!out->gtid) {
		out->gtid = strdup("");
		if (!out->gtid)
			abort();
	}
	return 0;
fail:
	tidm_replica_status_dispose(out);
	return rc;
}

void tidm_replica_status_dispose(tidm_replica_status *st)
{
	if (!st)
		return;
	free(st->gtid);
	st->gtid = NULL;
}

const char *tidm_replica_list_logs_sql(const tidm_conn *c)
{
	(void)c;
	return "SHOW BINARY LOGS";
}
