/*
 * showcreate.h - comparing table definitions as SHOW CREATE TABLE prints them.
 *
 * Two readings of one table's definition differ when rows moved its counters in between
 * (AUTO_INCREMENT=n, TiDB's AUTO_RANDOM_BASE=n) though nothing about the table changed.
 * The full phase (is the snapshot's definition still the table's?) and the DDL guard of
 * replication (was this statement applied?) compare definitions without them.
 */
#ifndef TIDM_DB_SHOWCREATE_H
#define TIDM_DB_SHOWCREATE_H

#include <stddef.h>

#include "util/buf.h"

/* Append the n bytes of `def` to `out` without its " AUTO_INCREMENT=<digits>" and
 * " AUTO_RANDOM_BASE=<digits>" table options. */
void tidm_showcreate_sans_counters(tidm_buf *out, const char *def, size_t n);

#endif
