/*
 * fence.h - the target sessions of a job's earlier run end before a new run writes.
 *
 * A connection tidm gave up on (a stalled link it closed, a tidm killed with -9 while a
 * link was partitioned) may still be open on the target, its last statements held in the
 * network. When the link heals, TCP delivers them and the server runs them: a
 * transaction of an earlier run committed after the new run replayed past it - a row
 * deleted since comes back, a keyless row is added twice, a checkpoint moves backwards.
 * So every connection that writes a job's rows or checkpoints is recorded on the target
 * (tidm_meta.sessions: job, the server's connection id, the server's boot time), and
 * before a run writes anything it ends the recorded sessions of earlier runs that still
 * exist (KILL CONNECTION), waits until they are gone, and forgets them.
 * A session is only ended when the server has not restarted since it was recorded (boot
 * time within 10 s; ids start over at a restart) and it belongs to the same user.
 */
#ifndef TIDM_DB_FENCE_H
#define TIDM_DB_FENCE_H

#include "db/conn.h"

/* Record `session` (a connection that is about to write for `job`); autocommit. */
int tidm_fence_record(tidm_conn *session, const char *job);
/* End the recorded sessions of `job` (other than `c`'s own), wait until they are gone (at
 * most 30 s each, then warn and go on: a killed session runs nothing more), forget them. */
int tidm_fence_previous(tidm_conn *c, const char *job);

#endif
