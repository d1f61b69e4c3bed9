/*
 * triggers.h - the check, at a job's start, for triggers on the target's selected tables.
 *
 * A trigger on the target runs for every row tidm writes there (each row of the full
 * copy, each replicated change), on top of what the source's own triggers already did
 * (their effects are in the source's binlog as rows and are replicated as such): a target
 * restored from a dump that kept its triggers would get rows, or changes, the source does
 * not have. So a job refuses to start while such triggers exist, unless the job file says
 * `target: {triggers: allow}`, in which case each is named in a warning.
 *
 * Threads: any; uses only the connection it is given.
 */
#ifndef TIDM_SYNC_TRIGGERS_H
#define TIDM_SYNC_TRIGGERS_H

#include "db/conn.h"
#include "jobdef/jobdef.h"

/*
 * Look for triggers on the target (`tgt`) whose table is selected by cfg->objects.
 * None: 0. Some and cfg->target.allow_triggers: a warning naming each, 0. Some otherwise:
 * TIDM_EUNSUPPORTED with a message naming each table and trigger and the two ways on.
 * A failed query: its error, prefixed with what was being read.
 */
int tidm_target_triggers_check(tidm_conn *tgt, const tidm_job_config *cfg);

#endif
