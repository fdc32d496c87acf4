/* Command-line words: `key=value`, separated by blanks. */
#include "guest.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool cmdline_get(const char *cmdline, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	if (!size)
		return false;
	while (p && *p) {
		while (blank(*p))
			p++;
		if (!memcmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			for (p += klen + 1; *p && !blank(*p) && n < size - 1; p++)
				out[n++] = (*p >= 0x21 && *p <= 0x7e) ? *p : '?';
			out[n] = '\0';
			return true;
		}
		while (*p && !blank(*p))
			p++;
	}
	out[0] = '\0';
	return false;
}

void cmdline_name(const char *cmdline, char *out, size_t size)
{
	if (!cmdline_get(cmdline, "name", out, size) || !out[0])
		snformat(out, size, "unknown");
}
