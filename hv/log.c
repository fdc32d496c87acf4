/* Log: one line per call, "[seconds.micros] L: text", to the UART and the ring; and the console
 * wire, which the log shares with the service CPU's shell and partition output.
 *
 * The log is written synchronously, from whichever CPU logs: log lines are rare (boot, lifecycle
 * events, failures), a fault report must reach the operator even when the service CPU is the one
 * in trouble, and a failure line must follow the guest output that led to it. Guests' console
 * output is never written here by their own CPUs: it goes to their rings (hv/console.c). */
#include "hv/log.h"
#include "arch/spinlock.h"
#include "arch/tsc.h"
#include "drivers/uart.h"
#include "lib/format.h"
#include "lib/string.h"

#define LOG_LINE_MAX 512
#define RAW_LOCK_SPINS 10000000ull

static struct {
	struct spinlock lock;
	struct uart *console;
	enum log_level level;
	u64 written; /* total bytes ever put in the ring */
	/* What the wire's current line holds, so a line from elsewhere starts cleanly. */
	bool prompt_shown;  /* the shell's prompt and the line being edited */
	bool prompt_lost;   /* ... and it was erased for another line: the shell redraws it */
	bool mid_line;      /* something else (a guest's raw output) left a line unfinished */
	u64 last_write_ns;  /* when anything last went out */
	char ring[LOG_RING_SIZE];
} log_state = { .level = LOG_INFO };

static const char level_letter[] = { 'E', 'W', 'I', 'D' };

void log_init(struct uart *console, enum log_level level)
{
	log_state.console = console;
	log_state.level = level;
}

void log_set_level(enum log_level level)
{
	log_state.level = level;
}

static void ring_append(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log_state.ring[(log_state.written + i) % LOG_RING_SIZE] = s[i];
	log_state.written += n;
}

static void uart_out(const char *s, size_t n, bool translate_newlines)
{
	if (!log_state.console || !n)
		return;
	if (translate_newlines)
		uart_write(log_state.console, s, n);
	else
		for (size_t i = 0; i < n; i++)
			uart_putc(log_state.console, s[i]);
	log_state.mid_line = s[n - 1] != '\n';
	log_state.last_write_ns = tsc_uptime_ns();
}

/* Before a line that is not the shell's own editing: a prompt is erased (CR, erase line), an
 * unfinished guest line is ended. */
static void line_start_locked(void)
{
	if (log_state.prompt_shown) {
		uart_out("\r\x1b[K", 4, false);
		log_state.prompt_shown = false;
		log_state.prompt_lost = true;
		log_state.mid_line = false;
	} else if (log_state.mid_line) {
		uart_out("\n", 1, true);
	}
}

static void emit_locked(const char *s, size_t n)
{
	ring_append(s, n);
	line_start_locked();
	uart_out(s, n, true);
}

void wire_write(enum wire_kind kind, const char *s, size_t n)
{
	spin_lock(&log_state.lock);
	switch (kind) {
	case WIRE_LINES:
		line_start_locked();
		uart_out(s, n, true);
		break;
	case WIRE_RAW:
		uart_out(s, n, false);
		break;
	case WIRE_PROMPT:
		line_start_locked();
		uart_out(s, n, false);
		log_state.prompt_shown = true;
		log_state.prompt_lost = false;
		break;
	case WIRE_ECHO:
		uart_out(s, n, false);
		if (n && s[n - 1] == '\n')
			log_state.prompt_shown = false; /* the line was entered */
		break;
	}
	spin_unlock(&log_state.lock);
}

bool wire_prompt_lost(u64 quiet_ns)
{
	bool lost;

	spin_lock(&log_state.lock);
	lost = log_state.prompt_lost &&
	       tsc_uptime_ns() - log_state.last_write_ns >= quiet_ns;
	if (lost)
		log_state.prompt_lost = false;
	spin_unlock(&log_state.lock);
	return lost;
}

void wire_prompt_clear(void)
{
	spin_lock(&log_state.lock);
	log_state.prompt_shown = false;
	log_state.prompt_lost = false;
	spin_unlock(&log_state.lock);
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	u64 us = tsc_uptime_us();
	int n;

	if (level > log_state.level)
		return;
	n = fmt_snprintf(line, sizeof(line), "[%5llu.%06llu] %c: ", (unsigned long long)(us / 1000000),
			 (unsigned long long)(us % 1000000), level_letter[level]);
	n += fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2; /* keep the newline of an over-long line */
	line[n++] = '\n';
	spin_lock(&log_state.lock);
	emit_locked(line, (size_t)n);
	spin_unlock(&log_state.lock);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void log_raw(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;
	bool locked;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	locked = spin_lock_bounded(&log_state.lock, RAW_LOCK_SPINS);
	emit_locked(line, (size_t)n);
	if (locked)
		spin_unlock(&log_state.lock);
}

size_t log_ring_read(char *buf, size_t size)
{
	size_t n;

	spin_lock(&log_state.lock);
	n = log_state.written < LOG_RING_SIZE ? (size_t)log_state.written : LOG_RING_SIZE;
	if (n > size)
		n = size;
	for (size_t i = 0; i < n; i++)
		buf[i] = log_state.ring[(log_state.written - n + i) % LOG_RING_SIZE];
	spin_unlock(&log_state.lock);
	return n;
}
