/* Configuration parser. Line oriented: `key = value`, `# comment`, `[partition NAME]`. */
#include "hv/config.h"
#include "lib/format.h"
#include "lib/string.h"

static const char *const global_keys[] = {
	"console", "baud", "log_level", "poweroff_when_ready", "service_cpu",
	"debug_fault_cpu", "debug_phantom_cpu", "console_hotkey",
};
static const char *const partition_keys[] = {
	"cpus", "memory", "kernel", "initrd", "module", "cmdline", "on_crash", "watchdog",
};
#define KEY_MODULE 4 /* partition_keys[KEY_MODULE] may be given more than once */

struct parser {
	struct config *cfg;
	u32 line;
	struct cfg_partition *part; /* current section, NULL for the global one */
	/* Line where each key was first given: globally, and in the current section. */
	u32 global_seen[ARRAY_SIZE(global_keys)];
	u32 part_seen[ARRAY_SIZE(partition_keys)];
};

static void config_verror(struct config *cfg, u32 line, const char *fmt, va_list ap)
{
	if (cfg->error_count < CFG_MAX_ERRORS) {
		struct cfg_error *e = &cfg->errors[cfg->error_count];

		e->line = line;
		fmt_vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	cfg->error_count++;
}

void config_error(struct config *cfg, u32 line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verror(cfg, line, fmt, ap);
	va_end(ap);
}

static void PRINTF_LIKE(2, 3) report(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->part)
		p->part->valid = false;
	va_start(ap, fmt);
	config_verror(p->cfg, p->line, fmt, ap);
	va_end(ap);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

static bool token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Copies a value into a fixed buffer; a value that does not fit is an error, not a truncation. */
static bool copy_value(struct parser *p, char *dst, size_t size, const char *key,
		       const char *s, size_t n)
{
	if (n >= size) {
		report(p, "value of '%s' is too long (%zu characters, at most %zu)", key, n, size - 1);
		return false;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* Parses an unsigned number: decimal or 0x hex, with an optional K/M/G suffix if `sized`. */
static bool parse_number(const char *s, size_t n, bool sized, u64 *out)
{
	u64 v = 0, base = 10, mult = 1;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (sized && n > i) {
		char c = s[n - 1];

		if (c == 'K' || c == 'k')
			mult = KiB;
		else if (c == 'M' || c == 'm')
			mult = MiB;
		else if (c == 'G' || c == 'g')
			mult = GiB;
		if (mult != 1)
			n--;
	}
	if (i >= n)
		return false;
	for (; i < n; i++) {
		u64 d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (u64)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (u64)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (u64)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool parse_bool(const char *s, size_t n, bool *out)
{
	if (token_is(s, n, "yes") || token_is(s, n, "true") || token_is(s, n, "on") ||
	    token_is(s, n, "1")) {
		*out = true;
		return true;
	}
	if (token_is(s, n, "no") || token_is(s, n, "false") || token_is(s, n, "off") ||
	    token_is(s, n, "0")) {
		*out = false;
		return true;
	}
	return false;
}

/* CPU list: "1", "1,3", "2-5", "1,4-6". */
static bool parse_cpu_list(struct parser *p, const char *s, size_t n, u64 *out)
{
	u64 mask = 0;
	size_t i = 0;

	for (;;) {
		size_t start = i;
		u64 lo, hi;

		while (i < n && s[i] != ',')
			i++;
		const char *item = s + start;
		size_t len = i - start;

		trim(&item, &len);
		if (len == 0) {
			report(p, "empty item in CPU list '%.*s'", (int)n, s);
			return false;
		}
		const char *dash = memchr(item, '-', len);
		if (dash) {
			const char *b = dash + 1;
			size_t alen = (size_t)(dash - item), blen = len - alen - 1;

			trim(&item, &alen);
			trim(&b, &blen);
			if (!parse_number(item, alen, false, &lo) || !parse_number(b, blen, false, &hi))
				goto bad;
			if (lo > hi) {
				report(p, "bad CPU range '%.*s' (the first CPU is above the last)",
				       (int)len, item);
				return false;
			}
		} else {
			if (!parse_number(item, len, false, &lo))
				goto bad;
			hi = lo;
		}
		if (hi >= 64) {
			report(p, "CPU %llu is out of range (CPUs are numbered 0-63)",
			       (unsigned long long)hi);
			return false;
		}
		for (u64 c = lo; c <= hi; c++) {
			if (mask & (1ULL << c)) {
				report(p, "CPU %llu listed twice", (unsigned long long)c);
				return false;
			}
			mask |= 1ULL << c;
		}
		if (i >= n)
			break;
		i++; /* skip ',' */
		continue;
bad:
		report(p, "bad CPU list item '%.*s' (a CPU number or a range such as 2-5)",
		       (int)len, item);
		return false;
	}
	*out = mask;
	return true;
}

static bool parse_console(const char *s, size_t n, u16 *port)
{
	u64 v;

	if (token_is(s, n, "com1")) {
		*port = 0x3f8;
		return true;
	}
	if (token_is(s, n, "com2")) {
		*port = 0x2f8;
		return true;
	}
	if (token_is(s, n, "com3")) {
		*port = 0x3e8;
		return true;
	}
	if (token_is(s, n, "com4")) {
		*port = 0x2e8;
		return true;
	}
	if (parse_number(s, n, false, &v) && v > 0 && v <= 0xfff8) {
		*port = (u16)v;
		return true;
	}
	return false;
}

static bool parse_log_level(const char *s, size_t n, enum log_level *out)
{
	for (int l = LOG_ERROR; l <= LOG_DEBUG; l++) {
		if (token_is(s, n, log_level_name((enum log_level)l))) {
			*out = (enum log_level)l;
			return true;
		}
	}
	return false;
}

/* "ctrl-X": the control code of X (a letter or one of @ [ \ ] ^ _). Keys the console needs
 * for itself (Backspace, Tab, Enter, Escape, Ctrl-C, Ctrl-U) and the escapes of QEMU (Ctrl-A)
 * and telnet (Ctrl-]) are refused: a hotkey must reach the hypervisor and nothing else. */
static bool parse_hotkey(const char *s, size_t n, u8 *out, const char **why)
{
	char c;

	*why = "expected ctrl- and a letter or one of @ [ \\ ] ^ _, e.g. ctrl-\\";
	if (n != 6 || (memcmp(s, "ctrl-", 5) != 0 && memcmp(s, "Ctrl-", 5) != 0 &&
		       memcmp(s, "CTRL-", 5) != 0))
		return false;
	c = s[5];
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c < '@' || c > '_')
		return false;
	*out = (u8)(c - '@');
	switch (*out) {
	case 0x01: *why = "ctrl-a is QEMU's escape key"; return false;
	case 0x1d: *why = "ctrl-] is telnet's escape key"; return false;
	case 0x03: *why = "ctrl-c interrupts programs in the guests"; return false;
	case 0x08: case 0x09: case 0x0a: case 0x0d: case 0x15: case 0x1b:
		*why = "the console uses that key for editing (Backspace, Tab, Enter, Ctrl-U, "
		       "Escape)";
		return false;
	}
	return true;
}

static void global_key(struct parser *p, const char *key, const char *v, size_t n)
{
	struct config *cfg = p->cfg;
	u64 num;

	if (!strcmp(key, "console")) {
		if (!parse_console(v, n, &cfg->console_port))
			report(p, "bad console '%.*s' (com1-com4 or an I/O port)", (int)n, v);
	} else if (!strcmp(key, "baud")) {
		if (!parse_number(v, n, false, &num) || num < 50 || num > 115200 || 115200 % num)
			report(p, "bad baud rate '%.*s' (a divisor of 115200)", (int)n, v);
		else
			cfg->baud = (u32)num;
	} else if (!strcmp(key, "log_level")) {
		if (!parse_log_level(v, n, &cfg->log_level))
			report(p, "bad log_level '%.*s' (error, warn, info or debug)", (int)n, v);
	} else if (!strcmp(key, "poweroff_when_ready")) {
		if (!parse_bool(v, n, &cfg->poweroff_when_ready))
			report(p, "bad value '%.*s' for poweroff_when_ready (yes or no)", (int)n, v);
	} else if (!strcmp(key, "service_cpu")) {
		if (!parse_number(v, n, false, &num) || num >= 64)
			report(p, "bad service_cpu '%.*s' (a CPU number 0-63)", (int)n, v);
		else
			cfg->service_cpu = (u32)num;
	} else if (!strcmp(key, "debug_fault_cpu")) {
		if (!parse_number(v, n, false, &num) || num >= 64)
			report(p, "bad debug_fault_cpu '%.*s' (a CPU number 0-63)", (int)n, v);
		else
			cfg->debug_fault_cpu = (s32)num;
	} else if (!strcmp(key, "console_hotkey")) {
		const char *why;

		if (!parse_hotkey(v, n, &cfg->console_hotkey, &why))
			report(p, "bad console_hotkey '%.*s': %s", (int)n, v, why);
	} else { /* debug_phantom_cpu */
		if (!parse_number(v, n, false, &num) || num > 0x7fffffff)
			report(p, "bad debug_phantom_cpu '%.*s' (an APIC ID)", (int)n, v);
		else
			cfg->debug_phantom_cpu = (s32)num;
	}
}

/* "path [arguments]": the first word names the file, the rest is handed to the guest. */
static bool file_value(struct parser *p, struct cfg_file *f, const char *key,
		       const char *v, size_t n)
{
	size_t plen = 0;

	while (plen < n && !is_space(v[plen]))
		plen++;
	const char *args = v + plen;
	size_t alen = n - plen;

	trim(&args, &alen);
	if (plen >= sizeof(f->path)) {
		report(p, "path of '%s' is too long (%zu characters, at most %zu)", key, plen,
		       sizeof(f->path) - 1);
		return false;
	}
	if (alen >= sizeof(f->args)) {
		report(p, "arguments of '%s' are too long (%zu characters, at most %zu)", key, alen,
		       sizeof(f->args) - 1);
		return false;
	}
	memcpy(f->path, v, plen);
	f->path[plen] = '\0';
	memcpy(f->args, args, alen);
	f->args[alen] = '\0';
	f->line = p->line;
	return true;
}

static void partition_key(struct parser *p, const char *key, const char *v, size_t n)
{
	struct cfg_partition *part = p->part;
	u64 num;

	if (!strcmp(key, "cpus")) {
		if (parse_cpu_list(p, v, n, &part->cpus))
			part->cpus_line = p->line;
	} else if (!strcmp(key, "memory")) {
		if (!parse_number(v, n, true, &num) || num == 0)
			report(p, "bad memory size '%.*s' (e.g. 256M or 1G)", (int)n, v);
		else if (num % (2 * MiB))
			report(p, "memory size '%.*s' is not a multiple of 2M", (int)n, v);
		else {
			part->memory = num;
			part->memory_line = p->line;
		}
	} else if (!strcmp(key, "kernel")) {
		file_value(p, &part->kernel, key, v, n);
	} else if (!strcmp(key, "initrd")) {
		file_value(p, &part->initrd, key, v, n);
	} else if (!strcmp(key, "module")) {
		if (part->module_count == CFG_MAX_MODULES)
			report(p, "too many modules (at most %d)", CFG_MAX_MODULES);
		else if (file_value(p, &part->modules[part->module_count], key, v, n))
			part->module_count++;
	} else if (!strcmp(key, "cmdline")) {
		copy_value(p, part->cmdline, sizeof(part->cmdline), key, v, n);
	} else if (!strcmp(key, "on_crash")) {
		if (token_is(v, n, "restart"))
			part->on_crash = CFG_ON_CRASH_RESTART;
		else if (token_is(v, n, "stop"))
			part->on_crash = CFG_ON_CRASH_STOP;
		else
			report(p, "bad on_crash '%.*s' (restart or stop)", (int)n, v);
	} else { /* watchdog */
		if (!parse_number(v, n, false, &num) || num > CFG_WATCHDOG_MAX_S)
			report(p, "bad watchdog '%.*s' (seconds, 0 for none, at most %d)", (int)n, v,
			       CFG_WATCHDOG_MAX_S);
		else
			part->watchdog_s = (u32)num;
	}
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static void section_header(struct parser *p, const char *s, size_t n)
{
	struct config *cfg = p->cfg;
	const char *name;
	size_t nlen;

	p->part = NULL;
	memset(p->part_seen, 0, sizeof(p->part_seen));
	if (n < 2 || s[n - 1] != ']' || n < 11 || memcmp(s, "[partition", 10) != 0 ||
	    !is_space(s[10])) {
		report(p, "bad section header '%.*s' (expected [partition NAME])", (int)n, s);
		return;
	}
	name = s + 10;
	nlen = n - 11;
	trim(&name, &nlen);
	if (nlen == 0 || nlen >= CFG_NAME_MAX) {
		report(p, "partition name must be 1-%d characters", CFG_NAME_MAX - 1);
		return;
	}
	for (size_t i = 0; i < nlen; i++) {
		if (!name_char_ok(name[i])) {
			report(p, "bad partition name '%.*s' (letters, digits, '-' and '_')",
			       (int)nlen, name);
			return;
		}
	}
	for (u32 i = 0; i < cfg->partition_count; i++) {
		if (token_is(name, nlen, cfg->partitions[i].name)) {
			report(p, "partition '%.*s' already defined at line %u", (int)nlen, name,
			       cfg->partitions[i].line);
			return;
		}
	}
	if (cfg->partition_count == CFG_MAX_PARTITIONS) {
		report(p, "too many partitions (at most %d)", CFG_MAX_PARTITIONS);
		return;
	}
	p->part = &cfg->partitions[cfg->partition_count++];
	memset(p->part, 0, sizeof(*p->part));
	memcpy(p->part->name, name, nlen);
	p->part->line = p->line;
	p->part->valid = true;
}

static int key_index(const char *const *keys, size_t count, const char *key)
{
	for (size_t i = 0; i < count; i++)
		if (!strcmp(keys[i], key))
			return (int)i;
	return -1;
}

/* A key that is not valid where it stands; says where it belongs if it is valid elsewhere. */
static void unknown_key(struct parser *p, const char *key, size_t klen)
{
	char k[32];

	if (klen < sizeof(k)) {
		memcpy(k, key, klen);
		k[klen] = '\0';
		if (p->part && key_index(global_keys, ARRAY_SIZE(global_keys), k) >= 0) {
			report(p, "'%s' is a global setting: put it before the first [partition] "
				  "section", k);
			return;
		}
		if (!p->part && key_index(partition_keys, ARRAY_SIZE(partition_keys), k) >= 0) {
			report(p, "'%s' belongs in a [partition NAME] section", k);
			return;
		}
	}
	if (p->part)
		report(p, "unknown key '%.*s' in partition '%s'", (int)klen, key, p->part->name);
	else
		report(p, "unknown key '%.*s'", (int)klen, key);
}

static void parse_line(struct parser *p, const char *s, size_t n, bool *in_bad_section)
{
	char key[32];
	const char *eq, *v;
	size_t klen, vlen;

	trim(&s, &n);
	if (n == 0 || s[0] == '#')
		return;
	if (s[0] == '[') {
		section_header(p, s, n);
		*in_bad_section = p->part == NULL;
		return;
	}
	if (*in_bad_section)
		return; /* the header was already reported; its keys would only add noise */
	eq = memchr(s, '=', n);
	if (!eq) {
		report(p, "expected 'key = value'");
		return;
	}
	klen = (size_t)(eq - s);
	trim(&s, &klen);
	v = eq + 1;
	vlen = n - (size_t)(v - s);
	trim(&v, &vlen);
	if (klen == 0) {
		report(p, "missing key before '='");
		return;
	}
	if (klen >= sizeof(key)) { /* longer than any key */
		unknown_key(p, s, klen);
		return;
	}
	memcpy(key, s, klen);
	key[klen] = '\0';
	if (vlen == 0) {
		report(p, "missing value for '%s'", key);
		return;
	}
	if (p->part) {
		int k = key_index(partition_keys, ARRAY_SIZE(partition_keys), key);

		if (k < 0) {
			unknown_key(p, key, klen);
		} else if (k != KEY_MODULE && p->part_seen[k]) {
			report(p, "'%s' is given twice in partition '%s' (first at line %u)", key,
			       p->part->name, p->part_seen[k]);
		} else {
			p->part_seen[k] = p->line;
			partition_key(p, key, v, vlen);
		}
	} else {
		int k = key_index(global_keys, ARRAY_SIZE(global_keys), key);

		if (k < 0) {
			unknown_key(p, key, klen);
		} else if (p->global_seen[k]) {
			report(p, "'%s' is given twice (first at line %u)", key, p->global_seen[k]);
		} else {
			p->global_seen[k] = p->line;
			global_key(p, key, v, vlen);
		}
	}
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->console_port = 0x3f8;
	cfg->baud = 115200;
	cfg->log_level = LOG_INFO;
	cfg->debug_fault_cpu = -1;
	cfg->debug_phantom_cpu = -1;
	cfg->console_hotkey = 0x1c; /* Ctrl-\ */
}

u32 config_parse(struct config *cfg, const char *text, size_t len)
{
	struct parser p = { .cfg = cfg };
	bool in_bad_section = false;
	size_t i = 0;

	config_defaults(cfg);
	/* A UTF-8 byte order mark, as some Windows editors write. */
	if (len >= 3 && (u8)text[0] == 0xef && (u8)text[1] == 0xbb && (u8)text[2] == 0xbf)
		i = 3;
	while (i < len) {
		size_t start = i;

		while (i < len && text[i] != '\n' && text[i] != '\0')
			i++;
		p.line++;
		if (i < len && text[i] == '\0') {
			report(&p, "NUL byte in configuration (is this a text file?)");
			break;
		}
		parse_line(&p, text + start, i - start, &in_bad_section);
		i++;
	}
	return cfg->error_count;
}

void config_for_each_file(const struct config *cfg,
			  void (*fn)(const struct cfg_file *file, void *ctx), void *ctx)
{
	for (u32 i = 0; i < cfg->partition_count; i++) {
		const struct cfg_partition *part = &cfg->partitions[i];

		if (part->kernel.path[0])
			fn(&part->kernel, ctx);
		if (part->initrd.path[0])
			fn(&part->initrd, ctx);
		for (u32 m = 0; m < part->module_count; m++)
			if (part->modules[m].path[0])
				fn(&part->modules[m], ctx);
	}
}

const char *log_level_name(enum log_level level)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	return (unsigned)level < ARRAY_SIZE(names) ? names[level] : "?";
}
