/* The console shell's grammar (see shell_parse.h). */
#include "hv/shell_parse.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

const struct shell_command_spec shell_commands[SHELL_CMD_COUNT] = {
	[SHELL_HELP]     = { "help", "", 0, 0, "this list" },
	[SHELL_LIST]     = { "list", "", 0, 0,
			     "partitions: state, CPUs, memory, uptime, restarts, exits/s" },
	[SHELL_CONSOLE]  = { "console", "NAME", 1, 1,
			     "attach to a partition's console (replays recent output first)" },
	[SHELL_START]    = { "start", "NAME", 1, 1, "start a stopped partition" },
	[SHELL_STOP]     = { "stop", "NAME", 1, 1, "stop a partition, taking its CPUs back" },
	[SHELL_RESTART]  = { "restart", "NAME", 1, 1,
			     "reload a partition from its boot images and start it again" },
	[SHELL_INFO]     = { "info", "NAME", 1, 1,
			     "configuration, exits by reason, last failure with registers" },
	[SHELL_LOG]      = { "log", "[LINES]", 0, 1, "recent hypervisor log (default 20 lines)" },
	[SHELL_CPUS]     = { "cpus", "", 0, 0, "physical CPUs and who owns them" },
	[SHELL_MEM]      = { "mem", "", 0, 0, "physical memory by owner" },
	[SHELL_VERSION]  = { "version", "", 0, 0, "hypervisor version and backend" },
	[SHELL_REBOOT]   = { "reboot", "", 0, 0, "reset the whole machine" },
	[SHELL_POWEROFF] = { "poweroff", "", 0, 0, "power the whole machine off (ACPI S5)" },
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits into words, keeping the first SHELL_MAX_WORDS; false if there are more (then a --json
 * among the others still sets *json, so the error is answered the way it was asked). */
static bool split_words(char *line, const char **words, u32 *count, bool *json)
{
	char *s = line;
	bool fits = true;

	*count = 0;
	for (;;) {
		char *word;

		while (is_blank(*s))
			*s++ = '\0';
		if (!*s)
			return fits;
		word = s;
		while (*s && !is_blank(*s))
			s++;
		if (*count < SHELL_MAX_WORDS) {
			words[(*count)++] = word;
			continue;
		}
		fits = false;
		if (s - word == 6 && !memcmp(word, "--json", 6))
			*json = true;
	}
}

static int find_command(const char *name)
{
	for (int i = 0; i < SHELL_CMD_COUNT; i++)
		if (!strcmp(shell_commands[i].name, name))
			return i;
	return -1;
}

/* Takes --json out of the word list; any other --option is an error. */
static int take_options(const char **words, u32 *count, bool *json, char *why, size_t why_len)
{
	u32 kept = 0;
	int err = 0;

	for (u32 i = 0; i < *count; i++) {
		if (!strcmp(words[i], "--json")) {
			*json = true;
		} else if (words[i][0] == '-' && words[i][1] == '-' && !err) {
			fmt_snprintf(why, why_len, "unknown option '%.40s' (only --json)", words[i]);
			err = BH_EINVAL;
		} else {
			words[kept++] = words[i];
		}
	}
	*count = kept;
	return err;
}

int shell_parse(char *line, struct shell_request *req, char *why, size_t why_len)
{
	const char *words[SHELL_MAX_WORDS];
	const struct shell_command_spec *spec;
	u32 count;
	int cmd, err;

	memset(req, 0, sizeof(*req));
	bool fits = split_words(line, words, &count, &req->json);

	err = take_options(words, &count, &req->json, why, why_len);
	if (!fits) {
		fmt_snprintf(why, why_len, "too many words (at most %d)", SHELL_MAX_WORDS);
		return BH_EINVAL;
	}
	if (err)
		return err;
	if (!count) {
		if (!req->json)
			return BH_ENOENT;
		fmt_snprintf(why, why_len, "no command (try 'help')");
		return BH_EINVAL;
	}
	cmd = find_command(words[0]);
	if (cmd < 0) {
		fmt_snprintf(why, why_len, "unknown command '%.40s' (try 'help')", words[0]);
		return BH_EINVAL;
	}
	spec = &shell_commands[cmd];
	req->cmd = (enum shell_cmd)cmd;
	req->argc = count - 1;
	for (u32 i = 1; i < count; i++)
		req->argv[i - 1] = words[i];
	if (req->argc < spec->min_args || req->argc > spec->max_args) {
		fmt_snprintf(why, why_len, "usage: %s%s%s", spec->name, spec->args[0] ? " " : "",
			     spec->args);
		return BH_EINVAL;
	}
	return 0;
}

bool shell_parse_uint(const char *s, u32 min, u32 max, u32 *out)
{
	u64 v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (u64)(*s - '0');
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*out = (u32)v;
	return true;
}
