/*
 * test_secrets.c - sealed passwords (service/secrets.h): a round trip (also across a
 * reopen of the key file), a nonce per value, a key file created mode 0600, one readable
 * by others refused, another key and a tampered or truncated value failing cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "service/secrets.h"
#include "util/err.h"

static char dir[256], dir2[256], keypath[300];

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/tidm-sec-XXXXXX", t);
	snprintf(dir2, sizeof(dir2), "%s/tidm-sec2-XXXXXX", t);
	if (!mkdtemp(dir) || !mkdtemp(dir2))
		return -1;
	snprintf(keypath, sizeof(keypath), "%s/secret.key", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[300];
	(void)state;
	unlink(keypath);
	snprintf(p, sizeof(p), "%s/secret.key", dir2);
	unlink(p);
	rmdir(dir);
	rmdir(dir2);
	return 0;
}

static void test_secrets__round_trip(void **state)
{
	tidm_secrets *s = NULL;
	char *a = NULL, *b = NULL, *plain = NULL;
	size_t len = 0;
	struct stat sb;
	(void)state;

	assert_int_equal(tidm_secrets_open(&s, dir), 0);
	assert_int_equal(stat(keypath, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 32);
	assert_int_equal(tidm_secrets_seal(s, "p@ss w0rd", 9, &a), 0);
	assert_int_equal(tidm_secrets_seal(s, "p@ss w0rd", 9, &b), 0);
	assert_null(strstr(a, "p@ss"));
	assert_string_not_equal(a, b); /* a nonce per value */
	assert_int_equal(tidm_secrets_unseal(s, a, &plain, &len), 0);
	assert_int_equal(len, 9);
	assert_string_equal(plain, "p@ss w0rd");
	tidm_secrets_free_plain(plain);
	tidm_secrets_close(s);

	/* the key file is read again: the value still opens; the empty password too */
	assert_int_equal(tidm_secrets_open(&s, dir), 0);
	assert_int_equal(tidm_secrets_unseal(s, b, &plain, NULL), 0);
	assert_string_equal(plain, "p@ss w0rd");
	tidm_secrets_free_plain(plain);
	free(b);
	assert_int_equal(tidm_secrets_seal(s, "", 0, &b), 0);
	assert_int_equal(tidm_secrets_unseal(s, b, &plain, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(plain, "");
	tidm_secrets_free_plain(plain);
	tidm_secrets_close(s);
	free(a);
	free(b);
}

static void test_secrets__wrong_key_and_tampering(void **state)
{
	tidm_secrets *s = NULL, *other = NULL;
	char *a = NULL, *plain = NULL;
	(void)state;

	assert_int_equal(tidm_secrets_open(&s, dir), 0);
	assert_int_equal(tidm_secrets_open(&other, dir2), 0);
	assert_int_equal(tidm_secrets_seal(s, "secret-pw", 9, &a), 0);

	assert_int_equal(tidm_secrets_unseal(other, a, &plain, NULL), TIDM_EAUTH);
	assert_null(plain);
	assert_string_equal(tidm_err_msg(), "a sealed password in the job store does not open with the data directory's "
					    "secret.key (another key, or the value was altered): create the job again "
					    "with its password");
	/* one character of the ciphertext changed */
	size_t n = strlen(a);
	a[n / 2] = a[n / 2] == 'A' ? 'B' : 'A';
	assert_int_equal(tidm_secrets_unseal(s, a, &plain, NULL), TIDM_EAUTH);
	assert_null(plain);
	/* truncated, and not base64 */
	a[10] = '\0';
	assert_int_equal(tidm_secrets_unseal(s, a, &plain, NULL), TIDM_ECORRUPT);
	assert_int_equal(tidm_secrets_unseal(s, "!!not base64!!", &plain, NULL), TIDM_ECORRUPT);
	assert_string_equal(tidm_err_msg(), "a sealed password in the job store is damaged (not a sealed value)");
	assert_null(plain);
	free(a);
	tidm_secrets_close(s);
	tidm_secrets_close(other);
}

static void test_secrets__key_readable_by_others(void **state)
{
	tidm_secrets *s = NULL;
	char want[600];
	(void)state;

	assert_int_equal(tidm_secrets_open(&s, dir), 0);
	tidm_secrets_close(s);
	assert_int_equal(chmod(keypath, 0644), 0);
	s = NULL;
	assert_int_equal(tidm_secrets_open(&s, dir), TIDM_EAUTH);
	assert_null(s);
	snprintf(want, sizeof(want),
		 "the secret key %s may be read or written by others (mode 0644): it must be mode 0600, owned by the "
		 "daemon's user; the passwords it seals may be known by now: change them, then run chmod 600 on it",
		 keypath);
	assert_string_equal(tidm_err_msg(), want);
	/* a key of the wrong size */
	assert_int_equal(chmod(keypath, 0600), 0);
	assert_int_equal(truncate(keypath, 16), 0);
	assert_int_equal(tidm_secrets_open(&s, dir), TIDM_ECORRUPT);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_secrets__round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets__wrong_key_and_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets__key_readable_by_others, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
