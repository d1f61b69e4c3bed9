/*
 * watchdog.h - private to src/db/: the stalled-link watchdog behind
 * tidm_conn_opts.stall_timeout (the contract is in db/conn.h, "Stalled links").
 *
 * conn.c registers each watched connection with its socket and thread id, and brackets
 * every call that waits on the server with tidm_wd_busy()/tidm_wd_idle(). One process-wide
 * thread looks at the waits that have lasted a period; a verdict of "stalled" shuts the
 * socket down (the blocked call returns lost-connection) and sets the slot's fired flag.
 * All functions accept NULL (an unwatched connection) and are thread-safe.
 */
#ifndef TIDM_DB_WATCHDOG_H
#define TIDM_DB_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>

#include "db/conn.h"

typedef struct tidm_wd_slot tidm_wd_slot;

/* NULL when o->stall_timeout is 0. `fd` is the connection's socket, `thread_id` its
 * server session. */
tidm_wd_slot *tidm_wd_register(const tidm_conn_opts *o, int fd, unsigned long thread_id);
/* Waits for a look in progress at this slot to end, then forgets it. */
void tidm_wd_unregister(tidm_wd_slot *s);
/* A call starts waiting on the server; `what` (first bytes kept) names it in the WARN. */
void tidm_wd_busy(tidm_wd_slot *s, const char *what, size_t len);
void tidm_wd_idle(tidm_wd_slot *s);
/* The watchdog closed this connection's link (once true, stays true). */
bool tidm_wd_fired(const tidm_wd_slot *s);

#endif
