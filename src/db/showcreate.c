/*
 * showcreate.c - table definitions without their counters (showcreate.h).
 *
 * DESIGN
 *  A byte scan: an option is only dropped when its name, preceded by a space, is followed
 *  by a digit, so a column or comment that merely contains the words is kept.
 */
#include "db/showcreate.h"

#include <string.h>

void tidm_showcreate_sans_counters(tidm_buf *out, const char *def, size_t n)
{
	static const char *const opts[] = {" AUTO_INCREMENT=", " AUTO_RANDOM_BASE="};
	size_t i = 0, j, k = 0;

	while (i < n) {
		for (j = 0; j < sizeof(opts) / sizeof(opts[0]); j++) {
			k = strlen(opts[j]);
			if (n - i > k && !memcmp(def + i, opts[j], k) && def[i + k] >= '0' && def[i + k] <= '9')
				break;
		}
		if (j < sizeof(opts) / sizeof(opts[0])) {
			i += k;
			while (i < n && def[i] >= '0' && def[i] <= '9')
				i++;
			continue;
		}
		tidm_buf_putc(out, def[i++]);
	}
}
