/*
 * hosting.h - where a MySQL-protocol server runs, as far as the server itself tells:
 * self-managed, Amazon RDS, Amazon Aurora, Azure Database for MySQL (Flexible Server) or
 * Google Cloud SQL. Fix hints differ per hosting (a parameter group is not my.cnf).
 *
 * Detection (one or two small queries on an open connection):
 *   Aurora    aurora_version() answers (tidm_conn_info()->aurora, read at open);
 *   RDS       @@basedir under /rdsdbbin/, or a schema `rdsadmin` exists;
 *   Azure     the server parameter aad_auth_only exists (Flexible Server's Entra ID switch);
 *   Cloud SQL a cloudsql_* variable exists (cloudsql_iam_authentication, ...);
 *   otherwise self-managed. A query the user may not run counts as "not that hosting".
 */
#ifndef TIDM_DB_HOSTING_H
#define TIDM_DB_HOSTING_H

#include "db/conn.h"

enum tidm_hosting { TIDM_HOSTING_SELF, TIDM_HOSTING_RDS, TIDM_HOSTING_AURORA, TIDM_HOSTING_AZURE, TIDM_HOSTING_CLOUDSQL };

/* 0 with *out set; a negative code only for a lost connection. */
int tidm_conn_detect_hosting(tidm_conn *c, enum tidm_hosting *out);
const char *tidm_hosting_name(enum tidm_hosting h);

#endif
