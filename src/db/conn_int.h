/*
 * conn_int.h - private to src/db/: the libmariadb handle behind a tidm_conn, for db/
 * modules that speak protocol commands the statement API does not cover (replica.c:
 * COM_REGISTER_SLAVE, COM_BINLOG_DUMP[_GTID] and raw packet reads). Nothing outside
 * src/db/ may include this header.
 */
#ifndef TIDM_DB_CONN_INT_H
#define TIDM_DB_CONN_INT_H

#include <mysql.h>

#include "db/conn.h"

/* The handle of an open connection (borrowed: valid until tidm_conn_close). */
MYSQL *tidm_conn_handle(tidm_conn *c);
/* The connection's password (borrowed), to scrub it from server messages; may be NULL. */
const char *tidm_conn_password(const tidm_conn *c);

#endif
