/* The tiny JSON writer (see json.h). */
#include "lib/json.h"
#include "lib/format.h"
#include "lib/string.h"

void json_init(struct json *j, char *buf, size_t size)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->size = size;
	if (size)
		buf[0] = '\0';
}

/* Keeps one byte for the terminating NUL. */
static void put(struct json *j, const char *s, size_t n)
{
	if (j->overflow || !j->size || n > j->size - 1 - j->len) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void put_char(struct json *j, char c)
{
	put(j, &c, 1);
}

/* Before any value: the comma between items, unless it follows its key. */
static void value_prefix(struct json *j)
{
	u32 bit = 1u << j->depth;

	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth && (j->has_items & bit))
		put_char(j, ',');
	j->has_items |= bit;
}

static void container_begin(struct json *j, char open)
{
	value_prefix(j);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->bad_nesting = true;
		return;
	}
	put_char(j, open);
	j->depth++;
	j->has_items &= ~(1u << j->depth);
}

static void container_end(struct json *j, char close)
{
	if (!j->depth || j->after_key) {
		j->bad_nesting = true;
		return;
	}
	j->depth--;
	put_char(j, close);
}

void json_object_begin(struct json *j) { container_begin(j, '{'); }
void json_object_end(struct json *j) { container_end(j, '}'); }
void json_array_begin(struct json *j) { container_begin(j, '['); }
void json_array_end(struct json *j) { container_end(j, ']'); }

static void put_escaped(struct json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	put_char(j, '"');
	for (size_t i = 0; i < n; i++) {
		u8 c = (u8)s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			put(j, esc, 2);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			put(j, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			put(j, esc, 6);
		} else {
			put_char(j, (char)c);
		}
	}
	put_char(j, '"');
}

void json_key(struct json *j, const char *key)
{
	if (j->after_key) {
		j->bad_nesting = true;
		return;
	}
	value_prefix(j);
	put_escaped(j, key, strlen(key));
	put_char(j, ':');
	j->after_key = true;
}

void json_string_n(struct json *j, const char *s, size_t n)
{
	value_prefix(j);
	put_escaped(j, s, n);
}

void json_string(struct json *j, const char *s)
{
	json_string_n(j, s ? s : "", s ? strlen(s) : 0);
}

void json_u64(struct json *j, u64 v)
{
	char num[24];
	int n = fmt_snprintf(num, sizeof(num), "%llu", (unsigned long long)v);

	value_prefix(j);
	put(j, num, (size_t)n);
}

void json_s64(struct json *j, s64 v)
{
	char num[24];
	int n = fmt_snprintf(num, sizeof(num), "%lld", (long long)v);

	value_prefix(j);
	put(j, num, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
	value_prefix(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
	value_prefix(j);
	put(j, "null", 4);
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_kv_u64(struct json *j, const char *key, u64 v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

void json_kv_hex(struct json *j, const char *key, u64 v)
{
	char num[24];

	fmt_snprintf(num, sizeof(num), "0x%llx", (unsigned long long)v);
	json_kv_string(j, key, num);
}

const char *json_finish(struct json *j)
{
	if (j->overflow || j->bad_nesting || j->depth || j->after_key)
		return NULL;
	return j->buf;
}
