/* The console shell's grammar, pure so it is unit-tested on the host: a line is split into
 * words, `--json` may stand anywhere, and the command's name and argument count are checked
 * against the table here before any handler runs. */
#ifndef BH_HV_SHELL_PARSE_H
#define BH_HV_SHELL_PARSE_H

#include "types.h"

#define SHELL_MAX_WORDS 8

enum shell_cmd {
	SHELL_HELP, SHELL_LIST, SHELL_CONSOLE, SHELL_START, SHELL_STOP, SHELL_RESTART,
	SHELL_INFO, SHELL_LOG, SHELL_CPUS, SHELL_MEM, SHELL_VERSION, SHELL_REBOOT,
	SHELL_POWEROFF, SHELL_CMD_COUNT
};

struct shell_command_spec {
	const char *name;
	const char *args;     /* usage of the arguments, "" if none */
	u8 min_args, max_args;
	const char *summary;
};

extern const struct shell_command_spec shell_commands[SHELL_CMD_COUNT];

struct shell_request {
	enum shell_cmd cmd;
	bool json;
	u32 argc;                       /* arguments after the command name */
	const char *argv[SHELL_MAX_WORDS];
};

/* Splits `line` in place (blanks become NULs) and checks it. 0 with *req filled; BH_ENOENT for
 * an empty line (nothing to do); BH_EINVAL with a one-line reason in why otherwise. req->json
 * is set even on error when --json was given, so the error can be answered in JSON. */
int shell_parse(char *line, struct shell_request *req, char *why, size_t why_len);

/* Parses an unsigned decimal argument in [min, max]; false if it is not one. */
bool shell_parse_uint(const char *s, u32 min, u32 max, u32 *out);

#endif
