/* Log: one line per call, "[seconds.micros] L: text", to the UART and the ring. */
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

static void emit_locked(const char *s, size_t n)
{
	ring_append(s, n);
	if (log_state.console)
		uart_write(log_state.console, s, n);
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
