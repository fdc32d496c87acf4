/* A tiny JSON writer into a fixed buffer, for the console's one-line answers. Strings are
 * escaped so the output is always valid JSON and plain ASCII: quotes, backslashes and control
 * characters as JSON escapes, bytes >= 0x7f as \u00XX (guests and files may hand us anything).
 * Nothing is ever written past the buffer: running out of room sets `overflow`, and
 * json_finish() then fails, so a truncated answer is never sent. */
#ifndef BH_LIB_JSON_H
#define BH_LIB_JSON_H

#include "types.h"

#define JSON_MAX_DEPTH 16

struct json {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
	bool after_key;     /* the next value belongs to the key just written */
	bool bad_nesting;   /* an end without a begin, a key outside an object, too deep */
	u32 depth;
	u32 has_items;      /* bit d: the container at depth d already holds an item */
};

void json_init(struct json *j, char *buf, size_t size);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* A key inside an object; the next call writes its value. */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_string_n(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, u64 v);
void json_s64(struct json *j, s64 v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key + value in one call. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, u64 v);
void json_kv_bool(struct json *j, const char *key, bool v);
/* "0x..." hex string, for addresses and registers (JSON numbers lose precision past 2^53). */
void json_kv_hex(struct json *j, const char *key, u64 v);

/* The finished, NUL-terminated text, or NULL if it overflowed or is not balanced. */
const char *json_finish(struct json *j);

#endif
