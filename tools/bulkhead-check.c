/* bulkhead-check: checks a Bulkhead configuration file on the host, with the hypervisor's own
 * parser (hv/config.c) and partition plan (hv/plan.c), before it is written to a boot medium.
 * Usage: see usage() below and docs/config.md. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "types.h"
#include "hv/config.h"
#include "hv/plan.h"
#include "lib/error.h"

#define PROG "bulkhead-check"
#define CONFIG_MAX_SIZE (1 * MiB) /* the most the UEFI loader reads (boot/efi) */
#define MAX_CPU_COUNT 4096
#define HOST_PATH_MAX 4096

static const char usage_text[] =
	"usage: " PROG " [--cpus N] [--memory SIZE] [--root DIR] FILE.cfg\n"
	"\n"
	"Checks a Bulkhead configuration file before it goes onto a boot medium: every line,\n"
	"then the partition plan (required keys, CPU conflicts, the service CPU, files, memory).\n"
	"Each problem is printed to stderr as FILE:LINE: message, then one summary line to stdout.\n"
	"\n"
	"  --cpus N       the target machine has N logical CPUs, numbered 0 to N-1\n"
	"  --memory SIZE  memory free for partitions on the target (the boot log's\n"
	"                 'summary: memory ... free' line), e.g. 2G, 512M, 1536M\n"
	"  --root DIR     the folder that stands for the root of the boot volume, where\n"
	"                 kernels, initrds and modules are looked up (default: FILE's folder)\n"
	"  -h, --help     show this text\n"
	"\n"
	"Without --cpus, CPUs are not checked against the machine (only against each other and\n"
	"the service CPU); without --memory, memory is not checked against the machine.\n"
	"\n"
	"Exit status: 0 no errors, 1 errors found, 2 bad usage or FILE unreadable.\n";

static NORETURN void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: " PROG " [--cpus N] [--memory SIZE] [--root DIR] FILE.cfg "
			"(--help for more)\n");
	exit(2);
}

/* "2G", "512M", "1536m", "64K", "1048576": bytes. False if malformed, zero or too large. */
static bool parse_size(const char *s, u64 *out)
{
	u64 v = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (u64)(*p - '0');
	}
	switch (*p) {
	case 'k': case 'K': mult = KiB; p++; break;
	case 'm': case 'M': mult = MiB; p++; break;
	case 'g': case 'G': mult = GiB; p++; break;
	case 't': case 'T': mult = 1024 * GiB; p++; break;
	default: break;
	}
	if (mult != 1 && (!strcmp(p, "iB") || !strcmp(p, "B")))
		p += strlen(p);
	if (*p || v == 0 || v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool parse_count(const char *s, u32 *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > MAX_CPU_COUNT)
		return false;
	*out = (u32)v;
	return true;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The boot volume is FAT, where names are case-insensitive: when `rel` does not exist as
 * written under root, looks for it one component at a time, ignoring case. */
static bool find_ignoring_case(const char *root, const char *rel, char *out, size_t size)
{
	char cur[HOST_PATH_MAX];
	const char *p = rel;

	if ((size_t)snprintf(cur, sizeof(cur), "%s", root) >= sizeof(cur))
		return false;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char name[256], found[256];
		struct dirent *d;
		DIR *dir;

		if (n == 0 || n >= sizeof(name)) {
			if (n)
				return false;
			p++;
			continue;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		found[0] = '\0';
		dir = opendir(cur);
		if (!dir)
			return false;
		while ((d = readdir(dir))) {
			if (!strcmp(d->d_name, name)) {
				strcpy(found, d->d_name);
				break;
			}
			if (!found[0] && !strcasecmp(d->d_name, name))
				strcpy(found, d->d_name);
		}
		closedir(dir);
		if (!found[0])
			return false;
		size_t len = strlen(cur);
		if ((size_t)snprintf(cur + len, sizeof(cur) - len, "/%s", found) >=
		    sizeof(cur) - len)
			return false;
		p += n;
	}
	if ((size_t)snprintf(out, size, "%s", cur) >= size)
		return false;
	return true;
}

/* plan_machine.file_size: `path` is on the boot volume ('/' or '\' separators, from its root). */
static s64 host_file_size(void *ctx, const char *path)
{
	const char *root = ctx;
	char rel[CFG_PATH_MAX], full[HOST_PATH_MAX];
	struct stat st;
	size_t n = 0;
	FILE *f;

	while (*path == '/' || *path == '\\')
		path++;
	for (; *path && n < sizeof(rel) - 1; path++)
		rel[n++] = *path == '\\' ? '/' : *path;
	rel[n] = '\0';
	if (!n)
		return BH_ENOENT;
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", root, rel) >= sizeof(full))
		return BH_ENOENT;
	if (stat(full, &st) != 0) {
		if (!find_ignoring_case(root, rel, full, sizeof(full)) || stat(full, &st) != 0)
			return BH_ENOENT;
	}
	if (!S_ISREG(st.st_mode))
		return BH_EINVAL;
	f = fopen(full, "rb");
	if (!f)
		return BH_EINVAL;
	fclose(f);
	return (s64)st.st_size;
}

/* The whole file; exits with status 2 when it cannot be read. */
static char *read_config(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t n;

	if (!f || is_dir(path)) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", path,
			f ? strerror(EISDIR) : strerror(errno));
		exit(2);
	}
	text = malloc(CONFIG_MAX_SIZE + 1);
	if (!text) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(2);
	}
	n = fread(text, 1, CONFIG_MAX_SIZE + 1, f);
	if (ferror(f)) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fclose(f);
	if (n > CONFIG_MAX_SIZE) {
		fprintf(stderr, PROG ": %s is larger than %llu bytes, the most Bulkhead reads\n", path,
			(unsigned long long)CONFIG_MAX_SIZE);
		exit(2);
	}
	*len = n;
	return text;
}

/* Default root: the folder of the configuration file. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	dir = strndup(path, (size_t)(slash - path));
	return dir;
}

static const char *plural(u32 n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int main(int argc, char **argv)
{
	static struct config cfg; /* large: not on the stack */
	struct plan_machine machine = { .file_size = host_file_size };
	const char *file = NULL, *root = NULL;
	char *text, *root_dir;
	size_t len;
	u32 valid, shown;
	bool options_done = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		const char *opts[] = { "--cpus", "--memory", "--root" };
		int which = -1;

		if (options_done || arg[0] != '-' || !arg[1]) {
			if (file)
				usage_error("more than one file given ('%s')", arg);
			file = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			options_done = true;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		for (int o = 0; o < 3; o++) {
			size_t n = strlen(opts[o]);

			if (!strcmp(arg, opts[o])) {
				if (i + 1 >= argc)
					usage_error("%s needs a value", arg);
				which = o;
				value = argv[++i];
			} else if (!strncmp(arg, opts[o], n) && arg[n] == '=') {
				which = o;
				value = arg + n + 1;
			}
		}
		if (which < 0)
			usage_error("unknown option '%s'", arg);
		if (which == 0 && !parse_count(value, &machine.cpu_count))
			usage_error("bad --cpus '%s' (a number of CPUs, 1-4096)", value);
		if (which == 1 && !parse_size(value, &machine.free_memory))
			usage_error("bad --memory '%s' (a size such as 2G or 512M)", value);
		if (which == 2) {
			if (!is_dir(value))
				usage_error("--root '%s' is not a folder", value);
			root = value;
		}
	}
	if (!file)
		usage_error("%s", "no configuration file given");

	text = read_config(file, &len);
	root_dir = root ? strdup(root) : folder_of(file);
	if (!root_dir) {
		fprintf(stderr, PROG ": out of memory\n");
		return 2;
	}
	machine.ctx = root_dir;

	config_parse(&cfg, text, len);
	valid = plan_check(&cfg, &machine);

	shown = MIN(cfg.error_count, (u32)CFG_MAX_ERRORS);
	for (u32 i = 0; i < shown; i++) {
		if (cfg.errors[i].line)
			fprintf(stderr, "%s:%u: %s\n", file, cfg.errors[i].line, cfg.errors[i].msg);
		else
			fprintf(stderr, "%s: %s\n", file, cfg.errors[i].msg);
	}
	if (cfg.error_count > shown)
		fprintf(stderr, "%s: %u more %s not shown\n", file, cfg.error_count - shown,
			plural(cfg.error_count - shown, "error", "errors"));

	if (!cfg.error_count) {
		printf("%s: ok, %u %s\n", file, cfg.partition_count,
		       plural(cfg.partition_count, "partition", "partitions"));
	} else {
		printf("%s: %u %s valid, %u refused, %u %s\n", file, valid,
		       plural(valid, "partition", "partitions"), cfg.partition_count - valid,
		       cfg.error_count, plural(cfg.error_count, "error", "errors"));
	}
	free(text);
	free(root_dir);
	return cfg.error_count ? 1 : 0;
}
