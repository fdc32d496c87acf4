/* The console's line editor (see ledit.h). */
#include "lib/ledit.h"
#include "lib/string.h"

#define ESC_NONE 0
#define ESC_SEEN 1
#define ESC_CSI 2   /* ESC [ : parameters, then a final byte */
#define ESC_SS3 3   /* ESC O : one final byte */

#define CTRL_C 0x03
#define CTRL_U 0x15

void ledit_init(struct ledit *e)
{
	memset(e, 0, sizeof(*e));
}

/* Copies a NUL-terminated line that fits (every stored line does); returns its length. */
static u32 copy_line(char *dst, const char *src)
{
	u32 n = 0;

	while (src[n] && n + 1 < LEDIT_LINE_MAX) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
	return n;
}

static void echo_put(struct ledit_echo *echo, const char *s, u32 n)
{
	u32 room = (u32)sizeof(echo->buf) - echo->len;

	if (n > room)
		n = room;
	memcpy(echo->buf + echo->len, s, n);
	echo->len += n;
}

/* Erases what the terminal shows of the line: back to its start, then clear to the end. */
static void echo_erase_line(const struct ledit *e, struct ledit_echo *echo)
{
	for (u32 i = 0; i < e->len; i++)
		echo_put(echo, "\b", 1);
	if (e->len)
		echo_put(echo, "\x1b[K", 3);
}

static void set_line(struct ledit *e, const char *s, struct ledit_echo *echo)
{
	echo_erase_line(e, echo);
	e->len = copy_line(e->line, s);
	e->overlong = false;
	echo_put(echo, e->line, e->len);
}

static void history_add(struct ledit *e)
{
	const char *newest;

	if (!e->len)
		return;
	newest = e->history_count ? e->history[(e->history_count - 1) % LEDIT_HISTORY] : NULL;
	if (newest && !strcmp(newest, e->line))
		return;
	copy_line(e->history[e->history_count % LEDIT_HISTORY], e->line);
	e->history_count++;
}

static u32 history_depth(const struct ledit *e)
{
	return e->history_count < LEDIT_HISTORY ? e->history_count : LEDIT_HISTORY;
}

/* Up (older) or down (newer) through the history; the draft comes back past the newest. */
static void history_move(struct ledit *e, bool older, struct ledit_echo *echo)
{
	if (older) {
		if (e->browse == history_depth(e)) {
			echo_put(echo, "\a", 1);
			return;
		}
		if (e->browse == 0)
			copy_line(e->draft, e->line);
		e->browse++;
	} else {
		if (e->browse == 0) {
			echo_put(echo, "\a", 1);
			return;
		}
		e->browse--;
	}
	if (e->browse == 0)
		set_line(e, e->draft, echo);
	else
		set_line(e, e->history[(e->history_count - e->browse) % LEDIT_HISTORY], echo);
}

static void line_reset(struct ledit *e)
{
	e->len = 0;
	e->line[0] = '\0';
	e->overlong = false;
	e->browse = 0;
}

static enum ledit_event enter(struct ledit *e, struct ledit_echo *echo)
{
	bool overlong = e->overlong;

	echo_put(echo, "\r\n", 2);
	e->line[e->len] = '\0';
	if (overlong) {
		line_reset(e);
		return LEDIT_OVERLONG;
	}
	history_add(e);
	e->browse = 0;
	e->len = 0;
	e->completed = true; /* the text stays in line[] for ledit_line() */
	return LEDIT_LINE;
}

/* Inside an escape sequence: only the arrows mean something. */
static void escape_byte(struct ledit *e, u8 c, struct ledit_echo *echo)
{
	if (e->esc == ESC_SEEN) {
		e->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
		return;
	}
	if (e->esc == ESC_CSI && c >= 0x20 && c < 0x40)
		return; /* parameter and intermediate bytes */
	e->esc = ESC_NONE;
	if (c == 'A')
		history_move(e, true, echo);
	else if (c == 'B')
		history_move(e, false, echo);
}

enum ledit_event ledit_feed(struct ledit *e, u8 c, struct ledit_echo *echo)
{
	bool after_cr = e->after_cr;

	e->after_cr = c == '\r';
	if (c == '\n' && after_cr)
		return LEDIT_NONE; /* the LF of CR LF: the line stays readable */
	if (e->completed) {
		e->completed = false;
		e->line[0] = '\0';
	}
	if (e->esc != ESC_NONE) {
		escape_byte(e, c, echo);
		return LEDIT_NONE;
	}
	if (c == '\r' || c == '\n')
		return enter(e, echo);
	if (c == 0x1b) {
		e->esc = ESC_SEEN;
	} else if (c == 0x08 || c == 0x7f) {
		if (e->len) {
			e->len--; /* an overlong line stays refused: its tail is lost */
			e->line[e->len] = '\0';
			echo_put(echo, "\b \b", 3);
		}
	} else if (c == CTRL_C) {
		echo_put(echo, "^C\r\n", 4);
		line_reset(e);
		return LEDIT_CANCEL;
	} else if (c == CTRL_U) {
		echo_erase_line(e, echo);
		line_reset(e);
	} else if (c >= 0x20 && c < 0x7f) {
		if (e->len + 1 < LEDIT_LINE_MAX) {
			e->line[e->len++] = (char)c;
			e->line[e->len] = '\0';
			echo_put(echo, (const char *)&c, 1);
		} else {
			e->overlong = true;
			echo_put(echo, "\a", 1);
		}
	}
	return LEDIT_NONE;
}

const char *ledit_line(const struct ledit *e)
{
	return e->line;
}

const char *ledit_current(const struct ledit *e, u32 *len)
{
	*len = e->len;
	return e->completed ? "" : e->line;
}
