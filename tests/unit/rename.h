/* Force-included (-include) when lib/string.c is compiled for the host unit test: its functions
 * get other names, so the test binary keeps using the C library's own memcpy & co, and the
 * test calls lib_memcpy etc. explicitly (tests/unit/test_lib.c declares them). */
#ifndef BH_TESTS_RENAME_H
#define BH_TESTS_RENAME_H

#define memcpy lib_memcpy
#define memmove lib_memmove
#define memset lib_memset
#define memcmp lib_memcmp
#define strlen lib_strlen
#define strnlen lib_strnlen
#define strcmp lib_strcmp
#define strncmp lib_strncmp
#define strchr lib_strchr
#define strlcpy lib_strlcpy
#define memchr lib_memchr

#endif
