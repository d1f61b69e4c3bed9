/*
 * log.h - the plain log of tidm: one line per message on stderr (or a file), with a
 * timestamp and level. Thread-safe (a line is written with one write()).
 * Never pass a password to these functions.
 */
#ifndef TIDM_UTIL_LOG_H
#define TIDM_UTIL_LOG_H

enum tidm_log_level { TIDM_LOG_DEBUG, TIDM_LOG_INFO, TIDM_LOG_WARN, TIDM_LOG_ERROR };

void tidm_log_set_level(enum tidm_log_level lvl);
/* Write to fd instead of stderr (2). */
void tidm_log_set_fd(int fd);
void tidm_log(enum tidm_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tidm_debug(...) tidm_log(TIDM_LOG_DEBUG, __VA_ARGS__)
#define tidm_info(...) tidm_log(TIDM_LOG_INFO, __VA_ARGS__)
#define tidm_warn(...) tidm_log(TIDM_LOG_WARN, __VA_ARGS__)
#define tidm_error(...) tidm_log(TIDM_LOG_ERROR, __VA_ARGS__)

#endif
