/* Formatted output into a buffer: a printf subset (%d %i %u %x %X %o %p %s %c %%, flags "-0+ #",
 * width, precision, '*', length modifiers hh h l ll z). Output is always terminated when size > 0;
 * the return value is the length the full output would have had. */
#ifndef BH_LIB_FORMAT_H
#define BH_LIB_FORMAT_H

#include "types.h"

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
