/*
 * txn_split.h - applying one source transaction as several target transactions.
 *
 * A target may refuse a transaction above a size (TiDB: `txn-total-size-limit`, 100 MiB by
 * default, error 8004 "Transaction is too large"). With `spec.max-txn-bytes` set (or
 * defaulted from the target's limit, see tidm_txn_split_resolve) the applier commits a
 * worker's part of a source transaction whenever the statements it sent since its last
 * commit exceed that many bytes: a "piece". The piece's checkpoint is a position inside
 * the source transaction:
 *
 *   (file, pos, txn_row) = the transaction starting at file:pos, its first txn_row rows
 *                          (counted over every rows event of the transaction, in binlog
 *                          order, whatever worker they went to) are applied by this worker
 *
 * A checkpoint at a transaction boundary has txn_row 0. On restart the stream begins at the
 * lowest checkpoint's file:pos, which is the start of a split transaction when one was cut
 * short; each worker skips exactly the rows its checkpoint covers (tidm_txn_pos_applied).
 *
 * Contract: the row ordinal must be a function of the transaction's content (it is: rows
 * are numbered in binlog order), and a worker never records a piece of a row before its
 * checkpoint (pieces are cut only on rows the worker was sent, i.e. not skipped).
 */
#ifndef TIDM_SYNC_TXN_SPLIT_H
#define TIDM_SYNC_TXN_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/conn.h"
#include "jobdef/jobdef.h"

/* TiDB's default `txn-total-size-limit` (bytes). */
#define TIDM_TIDB_TXN_LIMIT_DEFAULT 104857600ull

/*
 * The default piece size for a target: 0 (never split) on MySQL and MariaDB, which have no
 * transaction size limit of their own; on TiDB half of `limit` (its txn-total-size-limit;
 * 0 = unknown, taken as the default 100 MiB). Half, because TiDB counts the key-value
 * pairs it writes (row key and value, plus one entry per secondary index) while tidm
 * counts the bytes of its statements: with several indexes a row costs TiDB more than
 * its SQL text. Never below 1 MiB. Pure.
 */
uint64_t tidm_txn_split_default(enum tidm_flavor flavor, uint64_t limit);

/*
 * Parse a value of `performance.txn-total-size-limit` as SHOW CONFIG prints it: a whole
 * number of bytes, possibly in exponent form ("1.048576e+08"). Returns 0, or -1 for text
 * that is no non-negative number. Pure.
 */
int tidm_txn_limit_parse(const char *value, uint64_t *out);

/*
 * Whether the row `row` of the transaction starting at txn_file:txn_pos is covered by the
 * checkpoint cp_file:cp_pos/cp_row: the transaction started before the checkpoint, or it is
 * the checkpoint's transaction and the row comes before cp_row. Pure.
 */
bool tidm_txn_pos_applied(const char *txn_file, uint64_t txn_pos, uint64_t row, const char *cp_file, uint64_t cp_pos,
			  uint64_t cp_row);

/*
 * The piece size to use on the target behind `c`: cfg's max-txn-bytes when the job file
 * sets it, else tidm_txn_split_default() with TiDB's limit as `SHOW CONFIG` reports it
 * (the smallest over its TiDB instances; unreadable: the default, said in an info line).
 * Never fails; *out = 0 means never split.
 */
void tidm_txn_split_resolve(tidm_conn *c, const tidm_job_config *cfg, uint64_t *out);

#endif
