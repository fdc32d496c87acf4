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

/* The console wire: the physical UART, shared by the log (any CPU) and the service CPU's shell
 * and partition output, one write at a time. The wire remembers what its current line holds so
 * that a log line never lands in the middle of the shell's prompt or of a guest's line. */
enum wire_kind {
	WIRE_LINES,   /* complete lines ("\n" sent as CR LF); a shown prompt is erased first */
	WIRE_RAW,     /* an attached guest's bytes, as they are */
	WIRE_PROMPT,  /* the shell's prompt (and the line being edited, when redrawn) */
	WIRE_ECHO,    /* the line editor's echo; ending in "\n" means the line was entered */
};
void wire_write(enum wire_kind kind, const char *s, size_t n);
/* True (once) if another line erased the prompt since it was drawn and the wire has been quiet
 * for quiet_ns since (a burst of lines is not interleaved with prompts): the shell redraws it. */
bool wire_prompt_lost(u64 quiet_ns);
/* The shell gave up its prompt (a partition's console is attached). */
void wire_prompt_clear(void);

/* Copies up to `size` of the most recent ring bytes into buf; returns the count. */
size_t log_ring_read(char *buf, size_t size);

#endif
