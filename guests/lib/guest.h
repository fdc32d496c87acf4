/* The shared runtime of the test guests: COM1 output, formatting, strings, the command line,
 * CPUID helpers and Multiboot 2 information parsing. Built for 32- and 64-bit guests alike. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include "types.h"

/* --- COM1 (0x3f8), polled ------------------------------------------------------------------- */
#define COM1_BASE 0x3f8

/* Programs COM1 for 115200 8N1, FIFOs on, interrupts off. */
void con_init(void);
/* Waits (bounded) for the transmit holding register to be empty, then writes the byte. */
void con_putc(char c);
void con_write(const char *s);
int con_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int con_vprintf(const char *fmt, va_list ap);
/* Number of bytes whose wait for THRE timed out since the last call (the byte was written
 * anyway). Lets the attacker tell whether its own UART still works. */
u32 con_take_stalls(void);

/* --- formatting: %s %c %d %i %u %x %X %p with flags '0' '-', width, and l/ll/z ---------------- */
int vformat(void (*put)(void *ctx, char c), void *ctx, const char *fmt, va_list ap);
/* Like snprintf: always NUL-terminates (if size > 0), returns the length it wanted. */
int snformat(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* --- strings (also what the compiler may call on its own) ------------------------------------ */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* --- command line ------------------------------------------------------------------------------ */
/* Copies the value of the first `key=` word of `cmdline` (words are separated by blanks; the
 * value is cut to size - 1 bytes, non-printable characters become '?') into out. False, with
 * out empty, if there is no such word (or cmdline is NULL). */
bool cmdline_get(const char *cmdline, const char *key, char *out, size_t size);
/* The `name=` value, or "unknown" if there is none or it is empty. */
void cmdline_name(const char *cmdline, char *out, size_t size);

/* --- CPUID -------------------------------------------------------------------------------------- */
/* CPUID.1:ECX bit 31. */
bool cpu_hypervisor_present(void);
/* The 12-byte signature of leaf 0x40000000 (EBX, ECX, EDX) as a string, stopping at a NUL and
 * with non-printable bytes as '?'; "none" when no hypervisor is present. out: >= 13 bytes. */
void cpu_hypervisor_signature(char *out);
/* TSC ticks per millisecond from the hypervisor's timing leaf 0x40000010, 0 if it has none. */
u64 cpu_tsc_khz(void);

/* --- Multiboot 2 information (what memcheck and the attacker are handed) ---------------------- */
#define MB2_BOOT_MAGIC 0x36D76289u
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MMAP 6
#define MB2_MEMORY_AVAILABLE 1
#define MB2_MEMORY_RESERVED 2

struct mb2_mmap_entry {
	u64 base;
	u64 length;
	u32 type;
	u32 reserved;
};

/* Checks the fixed header and that every tag lies inside total_size; returns total_size or 0
 * if the structure is not well formed. Tags past a malformed one are never looked at. */
u32 mb2_check(uptr info);
/* The command line string, or NULL. Only after mb2_check() succeeded. */
const char *mb2_cmdline(uptr info);
/* The memory map: the i-th entry into *out; false past the end (or without a map). */
bool mb2_mmap_entry(uptr info, u32 i, struct mb2_mmap_entry *out);

#endif
