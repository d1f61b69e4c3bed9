/*
 * size.h - amounts as a job file writes them: "1048576", "10MB", "64MiB", "512k".
 *
 * Pure; no allocation.
 */
#ifndef TIDM_UTIL_SIZE_H
#define TIDM_UTIL_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* The amount `s` (`len` bytes, not NUL-terminated): digits, then optionally one of the
 * suffixes k/K/KB (1000), KiB (1024), M/MB, MiB, G/GB, GiB, T/TB, TiB (a space between is
 * allowed). 0, or -1 when it is not such an amount or exceeds UINT64_MAX. */
int tidm_size_parse(const char *s, size_t len, uint64_t *out);

#endif
