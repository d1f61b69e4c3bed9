/*
 * file.c - binlog file reader: mmap + magic check + event framing on top of the decoder.
 *
 * Design: the whole file is mapped read-only (binlogs are append-only and read once, so the
 * page cache does the buffering and events need no copy); each call frames one event from
 * its 19-byte header, checks that the declared size fits in what is left, and passes the
 * exact event bytes to tidm_binlog_decoder_decode(). Errors carry the start offset of the
 * offending event; the reader is then stuck on that error, so a caller cannot skip past
 * bytes it did not understand.
 */
#include "binlog/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

struct tidm_binlog_file {
	const uint8_t *p;
	size_t n;
	void *map; /* non-NULL when mapped by us */
	size_t off, ev_off;
	int err;
	tidm_binlog_decoder *dec;
};

static int check_magic(tidm_binlog_file *f)
{
	if (f->n < TIDM_BINLOG_MAGIC_LEN)
		return tidm_err_set(TIDM_ECORRUPT, "truncated binlog file: %zu bytes, no magic, at offset 0",
				    f->n);
	if (memcmp(f->p, TIDM_BINLOG_MAGIC, TIDM_BINLOG_MAGIC_LEN) != 0)
		return tidm_err_set(TIDM_ECORRUPT,
				    "not a binlog file: bad magic %02x %02x %02x %02x at offset 0",
				    f->p[0], f->p[1], f->p[2], f->p[3]);
	f->off = f->ev_off = TIDM_BINLOG_MAGIC_LEN;
	return 0;
}

static int open_common(tidm_binlog_file **out, tidm_binlog_file *f)
{
	int rc;
	f->dec = tidm_binlog_decoder_new();
	if (!f->dec) {
		tidm_binlog_file_close(f);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	rc = check_magic(f);
	if (rc < 0) {
		tidm_binlog_file_close(f);
		return rc;
	}
	*out = f;
	return 0;
}

int tidm_binlog_file_open_mem(tidm_binlog_file **out, const uint8_t *p, size_t n)
{
	tidm_binlog_file *f = calloc(1, sizeof(*f));
	*out = NULL;
	if (!f)
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	f->p = p;
	f->n = n;
	return open_common(out, f);
}

int tidm_binlog_file_open(tidm_binlog_file **out, const char *path)
{
	struct stat st;
	tidm_binlog_file *f;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tidm_err_set(TIDM_ENOTFOUND, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tidm_err_set(TIDM_ENOTFOUND, "%s is not a regular file", path);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	f->n = (size_t)st.st_size;
	if (f->n > 0) {
		f->map = mmap(NULL, f->n, PROT_READ, MAP_PRIVATE, fd, 0);
		if (f->map == MAP_FAILED) {
			f->map = NULL;
			close(fd);
			free(f);
			return tidm_err_set(TIDM_ENOTFOUND, "cannot map %s: %s", path, strerror(errno));
		}
		(void)madvise(f->map, f->n, MADV_SEQUENTIAL);
		f->p = f->map;
	} else {
		f->p = (const uint8_t *)"";
	}
	close(fd);
	return open_common(out, f);
}

void tidm_binlog_file_close(tidm_binlog_file *f)
{
	if (!f)
		return;
	if (f->map)
		munmap(f->map, f->n);
	tidm_binlog_decoder_free(f->dec);
	free(f);
}

int tidm_binlog_file_next(tidm_binlog_file *f, tidm_binlog_event *ev)
{
	tidm_binlog_header h;
	size_t left;
	int rc;

	if (f->err)
		return tidm_err_set(f->err, "reader stopped by an earlier error at offset %zu", f->ev_off);
	left = f->n - f->off;
	if (left == 0)
		return 0;
	f->ev_off = f->off;
	if (left < TIDM_BINLOG_HEADER_LEN) {
		rc = tidm_err_set(TIDM_ECORRUPT,
				  "truncated event: %zu bytes left, a header needs 19, at offset %zu",
				  left, f->off);
		goto fail;
	}
	(void)tidm_binlog_header_parse(&h, f->p + f->off, left);
	if (h.event_size < TIDM_BINLOG_HEADER_LEN || h.event_size > TIDM_BINLOG_MAX_EVENT) {
		rc = tidm_err_set(TIDM_ECORRUPT, "corrupt event: type %u with size %u at offset %zu",
				  h.type, h.event_size, f->off);
		goto fail;
	}
	if (h.event_size > left) {
		const char *tn = tidm_binlog_type_name(h.type);
		rc = tidm_err_set(TIDM_ECORRUPT,
				  "truncated %s event: header says %u bytes, %zu left, at offset %zu",
				  tn ? tn : "unknown", h.event_size, left, f->off);
		goto fail;
	}
	rc = tidm_binlog_decoder_decode(f->dec, ev, f->p + f->off, h.event_size, 0);
	if (rc < 0) {
		char msg[1024];
		strncpy(msg, tidm_err_msg(), sizeof(msg) - 1);
		msg[sizeof(msg) - 1] = '\0';
		tidm_err_set(rc, "%s, at offset %zu", msg, f->off);
		goto fail;
	}
	f->off += h.event_size;
	return 1;
fail:
	f->err = rc;
	return rc;
}

uint64_t tidm_binlog_file_offset(const tidm_binlog_file *f) { return f->ev_off; }
uint64_t tidm_binlog_file_size(const tidm_binlog_file *f) { return f->n; }
tidm_binlog_decoder *tidm_binlog_file_decoder(tidm_binlog_file *f) { return f->dec; }
