/*
 * log.c - line logger. See log.h. The level, fd and format are process settings made once
 * by cli/ before threads start; reading them afterwards needs no lock. The job of a line
 * is the caller's (tidm_log_job), else the thread's (tidm_log_set_thread_job), else the
 * process's (tidm_log_set_default_job).
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum tidm_log_level min_level = TIDM_LOG_INFO;
static int log_fd = 2;
static bool json_format;
static char default_job[128];
static _Thread_local char thread_job[128];

void tidm_log_set_level(enum tidm_log_level lvl) { min_level = lvl; }
void tidm_log_set_fd(int fd) { log_fd = fd; }

int tidm_log_set_format_name(const char *name)
{
	if (!strcmp(name, "text"))
		json_format = false;
	else if (!strcmp(name, "json"))
		json_format = true;
	else
		return -1;
	return 0;
}

void tidm_log_set_default_job(const char *job) { snprintf(default_job, sizeof(default_job), "%s", job ? job : ""); }
void tidm_log_set_thread_job(const char *job) { snprintf(thread_job, sizeof(thread_job), "%s", job ? job : ""); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Appends s as a JSON string (quotes included) to out[*n..size-8]; invalid UTF-8 bytes
 * become U+FFFD; cut at the end of the buffer. */
static void put_json_string(char *out, size_t size, size_t *n, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), k = *n;

	out[k++] = '"';
	while (left && k + 12 < size) {
		size_t l = utf8_len(p, left);
		if (l == 0) {
			k += (size_t)snprintf(out + k, size - k, "\\ufffd");
			p++, left--;
		} else if (l > 1) {
			memcpy(out + k, p, l);
			k += l, p += l, left -= l;
		} else {
			unsigned char c = *p;
			if (c == '"' || c == '\\')
				out[k++] = '\\', out[k++] = (char)c;
			else if (c == '\n')
				out[k++] = '\\', out[k++] = 'n';
			else if (c == '\t')
				out[k++] = '\\', out[k++] = 't';
			else if (c < 0x20 || c == 0x7f)
				k += (size_t)snprintf(out + k, size - k, "\\u%04x", c);
			else
				out[k++] = (char)c;
			p++, left--;
		}
	}
	out[k++] = '"';
	*n = k;
}

static void vlog(enum tidm_log_level lvl, const char *job, const char *fmt, va_list ap)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	static const char *lower[] = {"debug", "info", "warn", "error"};
	char line[4096], msg[3072], stamp[40];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int m;

	if (lvl < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	if (!json_format) {
		m = snprintf(line, sizeof(line), "%s %-5s ", stamp, names[lvl]);
		n = (size_t)m;
		if (job) {
			m = snprintf(line + n, sizeof(line) - n - 1, "job %s: ", job);
			n += m > 0 ? (size_t)m : 0;
			if (n > sizeof(line) - 2)
				n = sizeof(line) - 2;
		}
		m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
		if (m < 0)
			m = 0;
		n += (size_t)m;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
		line[n++] = '\n';
	} else {
		const char *jb = job ? job : thread_job[0] ? thread_job : default_job[0] ? default_job : NULL;
		vsnprintf(msg, sizeof(msg), fmt, ap);
		n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"job\":", stamp, lower[lvl]);
		if (jb)
			put_json_string(line, 200 + n, &n, jb);
		else
			n += (size_t)snprintf(line + n, sizeof(line) - n, "null");
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"message\":");
		put_json_string(line, sizeof(line) - 4, &n, msg);
		line[n++] = '}';
		line[n++] = '\n';
	}
	if (write(log_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void tidm_log(enum tidm_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, NULL, fmt, ap);
	va_end(ap);
}

void tidm_log_job(enum tidm_log_level lvl, const char *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, job, fmt, ap);
	va_end(ap);
}

bool tidm_log_is_json(void) { return json_format; }

void tidm_say(enum tidm_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (json_format) {
		vlog(lvl, NULL, fmt, ap);
	} else {
		char line[4096];
		int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
		if (n < 0)
			n = 0;
		if ((size_t)n > sizeof(line) - 2)
			n = (int)sizeof(line) - 2;
		dprintf(log_fd, "tidm: %.*s\n", n, line);
	}
	va_end(ap);
}
