/*
 * secrets.c - sealing passwords with libsodium's secretbox (see secrets.h).
 *
 * The key file is created with O_CREAT | O_EXCL and mode 0600, written in full and synced
 * before use, so two daemons starting at once on one directory cannot end with different
 * keys (the loser reads the winner's file). A key file with any group or other permission
 * bit is refused rather than fixed: someone may already have read it.
 */
#include "service/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/err.h"

struct tidm_secrets {
	unsigned char key[crypto_secretbox_KEYBYTES];
};

static int read_key(tidm_secrets *s, const char *path)
{
	struct stat sb;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return tidm_err_set(errno == ENOENT ? TIDM_ENOTFOUND : TIDM_ERROR, "cannot read the secret key %s: %s",
				    path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = tidm_err_set(TIDM_ERROR, "the secret key %s is not a regular file", path);
	} else if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = tidm_err_set(TIDM_EAUTH,
				  "the secret key %s may be read or written by others (mode %04o): it must be mode 0600, "
				  "owned by the daemon's user; the passwords it seals may be known by now: change them, "
				  "then run chmod 600 on it",
				  path, (unsigned)(sb.st_mode & 07777));
	} else if ((got = read(fd, s->key, sizeof(s->key))) != (ssize_t)sizeof(s->key) || sb.st_size != sizeof(s->key)) {
		rc = tidm_err_set(TIDM_ECORRUPT, "the secret key %s is %lld bytes, expected %u", path,
				  (long long)sb.st_size, (unsigned)sizeof(s->key));
	}
	close(fd);
	return rc;
}

static int create_key(tidm_secrets *s, const char *path)
{
	char tmp[1100];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return tidm_err_set(TIDM_ERROR, "cannot create the secret key %s: %s", tmp, strerror(errno));
	randombytes_buf(s->key, sizeof(s->key));
	if (write(fd, s->key, sizeof(s->key)) != (ssize_t)sizeof(s->key) || fsync(fd) != 0)
		rc = tidm_err_set(TIDM_ERROR, "cannot write the secret key %s: %s", tmp, strerror(errno));
	close(fd);
	/* link() fails when another process created the key first: then use that one */
	if (rc == 0 && link(tmp, path) != 0) {
		if (errno == EEXIST)
			rc = read_key(s, path);
		else
			rc = tidm_err_set(TIDM_ERROR, "cannot create the secret key %s: %s", path, strerror(errno));
	}
	unlink(tmp);
	return rc;
}

int tidm_secrets_open(tidm_secrets **out, const char *data_dir)
{
	char path[1024];
	tidm_secrets *s;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return tidm_err_set(TIDM_ERROR, "libsodium cannot be initialised");
	if ((size_t)snprintf(path, sizeof(path), "%s/secret.key", data_dir) >= sizeof(path))
		return tidm_err_set(TIDM_EINVAL, "data directory path too long: %s", data_dir);
	s = sodium_malloc(sizeof(*s));
	if (!s)
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	rc = read_key(s, path);
	if (rc == TIDM_ENOTFOUND) {
		tidm_err_clear();
		rc = create_key(s, path);
	}
	if (rc < 0) {
		sodium_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void tidm_secrets_close(tidm_secrets *s)
{
	if (s)
		sodium_free(s); /* zeroes it */
}

int tidm_secrets_seal(tidm_secrets *s, const char *plain, size_t len, char **out)
{
	size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	size_t b64len = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
	unsigned char *buf = malloc(blen);
	char *b64 = malloc(b64len);

	*out = NULL;
	if (!buf || !b64) {
		free(buf);
		free(b64);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, len, buf, s->key);
	sodium_bin2base64(b64, b64len, buf, blen, sodium_base64_VARIANT_ORIGINAL);
	free(buf);
	*out = b64;
	return 0;
}

int tidm_secrets_unseal(tidm_secrets *s, const char *sealed, char **out, size_t *len)
{
	size_t slen = strlen(sealed), blen = 0, plen;
	unsigned char *buf = malloc(slen + 1);
	char *plain = NULL;
	int rc = 0;

	*out = NULL;
	if (!buf)
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	if (sodium_base642bin(buf, slen + 1, sealed, slen, NULL, &blen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		rc = tidm_err_set(TIDM_ECORRUPT, "a sealed password in the job store is damaged (not a sealed value)");
		goto out;
	}
	plen = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	plain = malloc(plen + 1);
	if (!plain) {
		rc = tidm_err_set(TIDM_ENOMEM, "out of memory");
		goto out;
	}
	if (crypto_secretbox_open_easy((unsigned char *)plain, buf + crypto_secretbox_NONCEBYTES,
				       blen - crypto_secretbox_NONCEBYTES, buf, s->key) != 0) {
		rc = tidm_err_set(TIDM_EAUTH, "a sealed password in the job store does not open with the data "
					      "directory's secret.key (another key, or the value was altered): "
					      "create the job again with its password");
		free(plain);
		plain = NULL;
		goto out;
	}
	plain[plen] = '\0';
	*out = plain;
	if (len)
		*len = plen;
out:
	free(buf);
	return rc;
}

void tidm_secrets_free_plain(char *plain)
{
	if (plain) {
		sodium_memzero(plain, strlen(plain));
		free(plain);
	}
}
