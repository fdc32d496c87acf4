/* The serial console on the service CPU (see console.h for the policy). */
#include "hv/console.h"
#include "arch/spinlock.h"
#include "arch/tsc.h"
#include "drivers/uart.h"
#include "hv/log.h"
#include "hv/partition.h"
#include "hv/shell.h"
#include "lib/format.h"
#include "lib/ring.h"
#include "lib/string.h"

/* Bytes copied out of a ring at a time; the guests' timers are ticked after each piece. Small:
 * each byte costs the service CPU two UART accesses (slow under emulation, slower on a busy
 * host), and Linux checks at boot that its timer interrupts arrive within a few ticks. */
#define DRAIN_CHUNK 16
#define DRAIN_BUDGET 128        /* bytes per partition per turn: the keys stay responsive */
#define KEYS_PER_TURN 64
#define TYPED_MAX 256           /* typing ahead of a guest that reads slowly (or never) */
#define RATE_PERIOD_NS 1000000000ull
#define FOCUS_SHELL (-1)
#define PROMPT_QUIET_NS 20000000ull /* redraw an erased prompt after 20 ms without output */

/* The wire's view of one partition's ring. */
struct part_view {
	struct spinlock lock;   /* one drainer at a time: the service CPU or a failing vCPU */
	u64 pos;                /* next ring byte not yet shown */
	char line[CONSOLE_LINE_MAX];
	u32 line_len;           /* the unfinished line, shown once complete (shell focus) */
	u64 exits_seen;         /* exits at the last rate sample */
	u64 exits_per_s;
};

static struct part_view views[MAX_PARTITIONS];

static struct {
	struct uart *uart;
	volatile s32 focus;     /* FOCUS_SHELL or the attached partition's id */
	u8 hotkey;
	u8 typed[TYPED_MAX];    /* typed for the attached partition, not yet in its vUART */
	u32 typed_head, typed_len;
	u64 last_sample_ns;
	char replay[CONSOLE_REPLAY];
} con = { .focus = FOCUS_SHELL, .hotkey = CONSOLE_HOTKEY_DEFAULT };

/* Control codes are typed as Ctrl plus the character 0x40 above them: 0x1c is Ctrl-\. */
const char *console_hotkey_name(void)
{
	static char name[8];
	char c = (char)(con.hotkey + 0x40);

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	fmt_snprintf(name, sizeof(name), "ctrl-%c", c);
	return name;
}

/* ------------------------------------------------------------------ output */

static void show_line(const struct partition *p, struct part_view *v)
{
	char out[CONSOLE_LINE_MAX + CFG_NAME_MAX + 8];
	int n = fmt_snprintf(out, sizeof(out), "[%s] %.*s\n", p->cfg->name, (int)v->line_len,
			     v->line);

	wire_write(WIRE_LINES, out, (size_t)MIN((size_t)n, sizeof(out) - 1));
	v->line_len = 0;
}

/* Shell focus: bytes become prefixed lines (CRs dropped, long lines in pieces). */
static void show_as_lines(const struct partition *p, struct part_view *v, const u8 *b, u64 n)
{
	for (u64 i = 0; i < n; i++) {
		if (b[i] == '\r')
			continue;
		if (b[i] == '\n') {
			show_line(p, v);
			continue;
		}
		v->line[v->line_len++] = (char)b[i];
		if (v->line_len == CONSOLE_LINE_MAX)
			show_line(p, v);
	}
}

static void report_dropped(const struct partition *p, struct part_view *v, u64 missed,
			   bool raw)
{
	char msg[96];
	int n;

	if (raw) {
		n = fmt_snprintf(msg, sizeof(msg), "\r\n[bulkhead: %llu bytes of %s dropped]\r\n",
				 (unsigned long long)missed, p->cfg->name);
		wire_write(WIRE_RAW, msg, (size_t)n);
		return;
	}
	if (v->line_len)
		show_line(p, v);
	n = fmt_snprintf(msg, sizeof(msg), "[%s] ... %llu bytes dropped (the console fell "
			 "behind)\n", p->cfg->name, (unsigned long long)missed);
	wire_write(WIRE_LINES, msg, (size_t)n);
}

/* Shows up to `budget` new bytes of p (all of them for ~0), calling tick (if any) after each
 * piece. Caller holds v->lock. */
static void drain_locked(struct partition *p, struct part_view *v, u64 budget,
			 void (*tick)(void))
{
	u8 chunk[DRAIN_CHUNK];

	while (budget) {
		s32 focus = con.focus;
		u64 missed, n;

		if (focus != FOCUS_SHELL && focus != (s32)p->id)
			return; /* another partition is attached: this one waits */
		spin_lock(&p->lock);
		n = ring_read(&p->console, &v->pos, chunk, MIN((u64)sizeof(chunk), budget), &missed);
		spin_unlock(&p->lock);
		if (missed)
			report_dropped(p, v, missed, focus != FOCUS_SHELL);
		if (!n)
			return;
		if (focus == FOCUS_SHELL)
			show_as_lines(p, v, chunk, n);
		else
			wire_write(WIRE_RAW, (const char *)chunk, (size_t)n);
		budget -= n;
		if (tick)
			tick();
	}
}

static bool has_console(const struct partition *p)
{
	return p->console.buf != NULL;
}

void console_partition_flush(struct partition *p)
{
	struct part_view *v = &views[p->id];

	if (!has_console(p))
		return;
	spin_lock(&v->lock);
	drain_locked(p, v, ~0ull, NULL);
	if (con.focus == FOCUS_SHELL && v->line_len)
		show_line(p, v); /* its last words, even without a newline */
	spin_unlock(&v->lock);
}

static void drain_all(void (*tick)(void))
{
	for (u32 i = 0; i < partition_count; i++) {
		struct partition *p = partitions[i];
		struct part_view *v = &views[p->id];

		if (!has_console(p))
			continue;
		spin_lock(&v->lock);
		drain_locked(p, v, DRAIN_BUDGET, tick);
		spin_unlock(&v->lock);
	}
}

/* ------------------------------------------------------------------ focus */

/* Rewinds the view so the drain replays the last CONSOLE_REPLAY bytes, from a line start. */
static void rewind_for_replay(struct partition *p, struct part_view *v)
{
	u64 start, pos, n;

	spin_lock(&p->lock);
	start = p->console.written > CONSOLE_REPLAY ? p->console.written - CONSOLE_REPLAY : 0;
	start = MAX(start, ring_oldest(&p->console));
	pos = start;
	n = ring_read(&p->console, &pos, con.replay, sizeof(con.replay), NULL);
	spin_unlock(&p->lock);
	if (start > 0) { /* skip the partial first line */
		const char *nl = memchr(con.replay, '\n', (size_t)n);

		if (nl)
			start += (u64)(nl - con.replay) + 1;
	}
	v->pos = start;
	v->line_len = 0;
}

void console_attach(struct partition *p)
{
	struct part_view *v = &views[p->id];

	log_info("console: attached to partition %s (%s returns to the shell)", p->cfg->name,
		 console_hotkey_name());
	wire_prompt_clear();
	spin_lock(&v->lock);
	rewind_for_replay(p, v);
	con.typed_len = 0;
	con.focus = (s32)p->id;
	spin_unlock(&v->lock);
}

static void detach(void)
{
	struct partition *p = partitions[con.focus];
	struct part_view *v = &views[p->id];

	spin_lock(&v->lock);
	con.focus = FOCUS_SHELL;
	v->line_len = 0; /* what it showed raw is not shown again as a line */
	spin_unlock(&v->lock);
	con.typed_len = 0; /* typed ahead and never read: it was meant for that console only */
	log_info("console: back to the hypervisor shell");
	shell_prompt();
}

/* ------------------------------------------------------------------ input */

/* The hotkey is acted on when it is read, so it works even when the guest reads nothing; other
 * bytes queue for the guest's receive FIFO (a full queue drops the byte: the guest is not
 * reading, and the operator must not be stuck). */
static void key_for_partition(u8 c)
{
	if (c == con.hotkey) {
		detach();
		return;
	}
	if (con.typed_len < TYPED_MAX)
		con.typed[(con.typed_head + con.typed_len++) % TYPED_MAX] = c;
}

static void feed_focused_partition(void)
{
	struct partition *p;

	if (con.focus == FOCUS_SHELL)
		return;
	p = partitions[con.focus];
	while (con.typed_len && partition_console_input(p, con.typed[con.typed_head])) {
		con.typed_head = (con.typed_head + 1) % TYPED_MAX;
		con.typed_len--;
	}
}

static void handle_keys(void)
{
	for (int i = 0; i < KEYS_PER_TURN; i++) {
		int c = uart_getc(con.uart);

		if (c < 0)
			break;
		if (con.focus != FOCUS_SHELL)
			key_for_partition((u8)c);
		else if (c != con.hotkey) /* the hotkey at the shell: nothing to return from */
			shell_key((u8)c);
	}
	feed_focused_partition();
}

/* ------------------------------------------------------------------ rates */

static u64 partition_exits(const struct partition *p)
{
	u64 total = 0;

	for (u32 v = 0; v < p->vcpu_count; v++)
		for (int r = 0; r < EXIT_REASON_COUNT; r++)
			total += p->vcpus[v].exits[r];
	return total;
}

static void sample_rates(void)
{
	u64 now = tsc_uptime_ns();
	u64 elapsed = now - con.last_sample_ns;

	if (elapsed < RATE_PERIOD_NS)
		return;
	for (u32 i = 0; i < partition_count; i++) {
		struct part_view *v = &views[partitions[i]->id];
		u64 exits = partition_exits(partitions[i]);

		/* Counters restart from 0 when a partition restarts. */
		v->exits_per_s = exits >= v->exits_seen ?
			(exits - v->exits_seen) * RATE_PERIOD_NS / elapsed : 0;
		v->exits_seen = exits;
	}
	con.last_sample_ns = now;
}

u64 console_exits_per_s(const struct partition *p)
{
	return views[p->id].exits_per_s;
}

/* ------------------------------------------------------------------ the service CPU */

void console_start(struct uart *u, u8 hotkey)
{
	con.uart = u;
	con.hotkey = hotkey ? hotkey : CONSOLE_HOTKEY_DEFAULT;
	con.last_sample_ns = tsc_uptime_ns();
	log_info("console: the shell is ready: type 'help' (%s returns from a partition's "
		 "console)", console_hotkey_name());
	shell_prompt();
}

void console_service(void (*tick)(void))
{
	handle_keys();
	tick();
	drain_all(tick);
	sample_rates();
	if (con.focus == FOCUS_SHELL && wire_prompt_lost(PROMPT_QUIET_NS))
		shell_prompt();
}
