/*
 * log.h - the log of tidm: one line per message on stderr (or a file), with a timestamp,
 * level, job (when known) and message. Thread-safe (a line is written with one write()).
 * Formats: text (default) "TIME LEVEL [job NAME: ]MESSAGE", or json (--log-format json):
 * one object per line {"time":"2026-01-02T03:04:05.678Z","level":"info","job":"NAME"|null,
 * "message":"..."} (valid UTF-8: invalid bytes become U+FFFD).
 * Never pass a password to these functions.
 */
#ifndef TIDM_UTIL_LOG_H
#define TIDM_UTIL_LOG_H

#include <stdbool.h>

enum tidm_log_level { TIDM_LOG_DEBUG, TIDM_LOG_INFO, TIDM_LOG_WARN, TIDM_LOG_ERROR };

void tidm_log_set_level(enum tidm_log_level lvl);
/* Write to fd instead of stderr (2). */
void tidm_log_set_fd(int fd);
/* "text" or "json"; -1 for anything else. */
int tidm_log_set_format_name(const char *name);
/* The job of lines that name none: the process's (tidm migrate), the calling thread's (a
 * job's thread in the daemon). JSON lines only; text lines stay as written. */
void tidm_log_set_default_job(const char *job);
void tidm_log_set_thread_job(const char *job);
void tidm_log(enum tidm_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line about `job` (text: prefixed "job NAME: "). */
void tidm_log_job(enum tidm_log_level lvl, const char *job, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A message to the user at the end of a command: text "tidm: MESSAGE" (no time; always
 * written), or a JSON line like any other. */
void tidm_say(enum tidm_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool tidm_log_is_json(void);

#define tidm_debug(...) tidm_log(TIDM_LOG_DEBUG, __VA_ARGS__)
#define tidm_info(...) tidm_log(TIDM_LOG_INFO, __VA_ARGS__)
#define tidm_warn(...) tidm_log(TIDM_LOG_WARN, __VA_ARGS__)
#define tidm_error(...) tidm_log(TIDM_LOG_ERROR, __VA_ARGS__)

#endif
