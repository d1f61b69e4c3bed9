/*
 * err.h - error codes and the thread-local "last error" of tidm.
 *
 * Functions return 0 on success and a negative TIDM_E* code on failure. The code says
 * what the caller can do; the message (set once, where the failure is understood) says
 * what happened and where. tidm_err_set() records message, optional MySQL errno and the
 * setting __FILE__:__LINE__ in thread-local state; the caller may read it with
 * tidm_err_msg() until the next tidm_err_set()/tidm_err_clear() on the same thread.
 *
 * Threads: all state here is per thread; nothing is shared.
 */
#ifndef TIDM_UTIL_ERR_H
#define TIDM_UTIL_ERR_H

#include <stddef.h>

enum {
	TIDM_OK = 0,
	TIDM_ERROR = -1,     /* generic failure; message says what */
	TIDM_EAGAIN = -2,    /* need more bytes / try again */
	TIDM_ECORRUPT = -3,  /* malformed input (bytes on the wire, files) */
	TIDM_ENOTFOUND = -4, /* an object does not exist */
	TIDM_EDUPKEY = -5,   /* duplicate key on the target */
	TIDM_ECONN = -6,     /* connection lost or refused: retryable */
	TIDM_ECANCELED = -7, /* stopped by the user or a signal */
	TIDM_EINVAL = -8,    /* bad user input (job file, arguments) */
	TIDM_EAUTH = -9,     /* authentication / privilege failure: not retryable */
	TIDM_ENOMEM = -10,   /* out of memory */
	TIDM_EUNSUPPORTED = -11, /* valid input we do not handle: reported, never guessed */
	TIDM_ECONFLICT = -12,    /* the object's state forbids the operation, or the name is taken */
};

/* Record an error for this thread; returns `code` so callers can `return tidm_err_set(...)`. */
#define tidm_err_set(code, ...) tidm_err_set_at(__FILE__, __LINE__, (code), 0, __VA_ARGS__)
/* Same, also recording the server's errno (e.g. 1045) as the raw cause. */
#define tidm_err_set_db(code, dberr, ...) tidm_err_set_at(__FILE__, __LINE__, (code), (dberr), __VA_ARGS__)
int tidm_err_set_at(const char *file, int line, int code, unsigned dberr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Prefix the current message with context ("table `a`.`b`: "); keeps code and cause. */
void tidm_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message of this thread ("" when none). Valid until the next set/clear. */
const char *tidm_err_msg(void);
/* The last code (0 when none), server errno (0 when none), and where it was set. */
int tidm_err_code(void);
unsigned tidm_err_dberr(void);
const char *tidm_err_where(void);
void tidm_err_clear(void);

/* Name of a code, e.g. "ECORRUPT". */
const char *tidm_err_name(int code);

#endif
