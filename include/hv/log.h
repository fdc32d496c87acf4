/* The hypervisor log: levels, timestamps since entry, written to the console UART and kept in an
 * in-memory ring that the shell can replay. Safe to call from any CPU. */
#ifndef BH_HV_LOG_H
#define BH_HV_LOG_H

#include "types.h"
#include "hv/config.h"

#define LOG_RING_SIZE (64 * 1024)

struct uart;

void log_init(struct uart *console, enum log_level level);
void log_set_level(enum log_level level);
void log_printf(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_vprintf(enum log_level level, const char *fmt, va_list ap);

#define log_err(...) log_printf(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

/* Raw text to the console, bypassing level and timestamp (fault reports). Uses the console lock
 * with a bound, so it prints even if a CPU died holding it. */
void log_raw(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Copies up to `size` of the most recent ring bytes into buf; returns the count. */
size_t log_ring_read(char *buf, size_t size);

#endif
