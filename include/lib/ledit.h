/* A line editor for the serial console: one byte in, what to echo out, and whether a line is
 * complete. Pure (no I/O), so it is unit-tested on the host.
 *   printable bytes      appended (a line that is full rings the bell; the overlong line is
 *                        refused whole when Enter comes, never cut and run)
 *   Backspace (0x08, 0x7f)  deletes the last character
 *   Enter (CR, LF, CR LF)   ends the line
 *   Ctrl-C               abandons the line;  Ctrl-U clears it
 *   Up / Down (ESC [ A / ESC [ B, or ESC O A / B)  walk the history of entered lines
 * Other control bytes and escape sequences are ignored. */
#ifndef BH_LIB_LEDIT_H
#define BH_LIB_LEDIT_H

#include "types.h"

#define LEDIT_LINE_MAX 160        /* including the NUL */
#define LEDIT_HISTORY 16
#define LEDIT_ECHO_MAX (3 * LEDIT_LINE_MAX + 8)

enum ledit_event {
	LEDIT_NONE = 0,   /* still editing */
	LEDIT_LINE,       /* a line is complete: ledit_line() */
	LEDIT_CANCEL,     /* Ctrl-C: the line was abandoned */
	LEDIT_OVERLONG,   /* Enter on a line that did not fit: it was dropped */
};

struct ledit_echo {
	char buf[LEDIT_ECHO_MAX];
	u32 len;
};

struct ledit {
	char line[LEDIT_LINE_MAX];
	u32 len;
	bool overlong;
	bool completed;               /* line[] holds the line just entered */
	u8 esc;                       /* escape sequence state: 0, ESC seen, CSI or SS3 seen */
	bool after_cr;                /* an LF right after CR is part of the same Enter */
	char history[LEDIT_HISTORY][LEDIT_LINE_MAX];
	u32 history_count;            /* lines ever stored (the newest is count - 1) */
	u32 browse;                   /* 0: editing a new line; n: showing the n-th newest */
	char draft[LEDIT_LINE_MAX];   /* the new line, kept while browsing the history */
};

void ledit_init(struct ledit *e);
/* Feeds one byte; the bytes to echo are appended to *echo (the caller clears it). */
enum ledit_event ledit_feed(struct ledit *e, u8 c, struct ledit_echo *echo);
/* The completed line (valid after LEDIT_LINE until the next feed). */
const char *ledit_line(const struct ledit *e);
/* The line being edited, for redrawing it after other output. */
const char *ledit_current(const struct ledit *e, u32 *len);

#endif
