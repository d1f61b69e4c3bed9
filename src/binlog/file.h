/*
 * file.h - reading a binlog file (or an in-memory copy of one) event by event.
 *
 * A file is the 4-byte magic `\xfe bin` followed by complete events back to back. The
 * reader maps the file, checks the magic, and hands each event to its decoder; events
 * inside a TRANSACTION_PAYLOAD are not expanded here (use tidm_binlog_decoder_payload_*
 * on tidm_binlog_file_decoder()). On a truncated or corrupt event the reader stops and
 * reports the byte offset where that event starts; the events before it have already
 * been returned.
 *
 * Lifetime: an event returned by tidm_binlog_file_next() points into the mapped file and
 * decoder memory; it stays valid until the next call or tidm_binlog_file_close().
 * Threads: one owner.
 */
#ifndef TIDM_BINLOG_FILE_H
#define TIDM_BINLOG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "binlog/event.h"

typedef struct tidm_binlog_file tidm_binlog_file;

/* Open and map `path`. TIDM_ENOTFOUND (cannot open), TIDM_ECORRUPT (bad magic or shorter
 * than 4 bytes: offset 0). *out is NULL on error. */
int tidm_binlog_file_open(tidm_binlog_file **out, const char *path);
/* Read from caller memory (borrowed: must outlive the reader). Same checks. */
int tidm_binlog_file_open_mem(tidm_binlog_file **out, const uint8_t *p, size_t n);
void tidm_binlog_file_close(tidm_binlog_file *f);

/*
 * Decode the next event: 1 with *ev filled; 0 at the clean end of the file; negative on
 * error (TIDM_ECORRUPT for a truncated or damaged event, TIDM_EUNSUPPORTED for an event we
 * refuse), with a message that ends "at offset N". After an error, _offset() is N and
 * further calls return the same error.
 */
int tidm_binlog_file_next(tidm_binlog_file *f, tidm_binlog_event *ev);

/* Start offset of the event last returned (or of the failing event after an error). */
uint64_t tidm_binlog_file_offset(const tidm_binlog_file *f);
/* Size of the file in bytes. */
uint64_t tidm_binlog_file_size(const tidm_binlog_file *f);
/* The decoder the reader uses (for payload iteration and rows). */
tidm_binlog_decoder *tidm_binlog_file_decoder(tidm_binlog_file *f);

#endif
