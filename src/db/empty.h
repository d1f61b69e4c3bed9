/*
 * empty.h - which target tables hold rows: the one check that mode physical (dump/) and
 * its precheck item (precheck/) both make before anything is written.
 */
#ifndef TIDM_DB_EMPTY_H
#define TIDM_DB_EMPTY_H

#include <stdbool.h>
#include <stddef.h>

#include "db/conn.h"

/*
 * nonempty[i] = whether table dbs[i].names[i] holds a row, for n tables that exist on `c`
 * as base tables. Asked in statements of 200 tables, (SELECT i FROM t LIMIT 1) UNION ALL
 * ..., so it costs one index probe per table. 0 or a tidm error code.
 */
int tidm_tables_nonempty(tidm_conn *c, const char *const *dbs, const char *const *names, size_t n, bool *nonempty);

/*
 * exists[i] = whether dbs[i].names[i] is a base table on `c` (one information_schema query).
 */
int tidm_tables_exist(tidm_conn *c, const char *const *dbs, const char *const *names, size_t n, bool *exists);

#endif
