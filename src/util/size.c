/*
 * size.c - amounts with unit suffixes (see size.h). Decimal suffixes (kB, MB) are powers
 * of 1000 and binary ones (KiB, MiB) powers of 1024, as the IEC defines them; a bare
 * letter (k, M, G, T) counts as decimal.
 */
#include "util/size.h"

#include <string.h>

static const struct suffix {
	const char *name;
	uint64_t mult;
} suffixes[] = {
	{"k", 1000ull},		{"K", 1000ull},		   {"kB", 1000ull},		 {"KB", 1000ull},
	{"KiB", 1024ull},	{"M", 1000000ull},	   {"MB", 1000000ull},		 {"MiB", 1048576ull},
	{"G", 1000000000ull},	{"GB", 1000000000ull},	   {"GiB", 1073741824ull},	 {"T", 1000000000000ull},
	{"TB", 1000000000000ull}, {"TiB", 1099511627776ull}, {NULL, 0},
};

int tidm_size_parse(const char *s, size_t len, uint64_t *out)
{
	uint64_t n = 0, mult = 1;
	size_t i = 0;

	if (!len || s[0] < '0' || s[0] > '9')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (i < len && s[i] == ' ')
		i++;
	if (i < len) {
		const struct suffix *sf;
		for (sf = suffixes; sf->name; sf++)
			if (strlen(sf->name) == len - i && !memcmp(sf->name, s + i, len - i))
				break;
		if (!sf->name)
			return -1;
		mult = sf->mult;
	}
	if (n > UINT64_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}
