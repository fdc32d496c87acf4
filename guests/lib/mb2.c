/* Multiboot 2 boot information: a u32 total_size, a u32 reserved, then tags (u32 type, u32 size,
 * payload), each starting on an 8-byte boundary, ended by a tag of type 0. The guests trust
 * nothing in it: every tag must lie inside total_size. */
#include "guest.h"

#define MB2_MAX_INFO (1u << 20)

struct mb2_tag {
	u32 type;
	u32 size;
};

u32 mb2_check(uptr info)
{
	u32 total, off = 8;

	if (!info || (info & 7))
		return 0;
	total = *(const u32 *)info;
	if (total < 16 || total > MB2_MAX_INFO)
		return 0;
	while (off + sizeof(struct mb2_tag) <= total) {
		const struct mb2_tag *t = (const struct mb2_tag *)(info + off);

		if (t->size < sizeof(*t) || t->size > total - off)
			return 0;
		if (t->type == MB2_TAG_END)
			return total;
		off += (t->size + 7) & ~7u;
	}
	return 0; /* no end tag inside total_size */
}

static const struct mb2_tag *find_tag(uptr info, u32 type)
{
	u32 total = *(const u32 *)info, off = 8;

	while (off + sizeof(struct mb2_tag) <= total) {
		const struct mb2_tag *t = (const struct mb2_tag *)(info + off);

		if (t->type == MB2_TAG_END)
			break;
		if (t->type == type)
			return t;
		off += (t->size + 7) & ~7u;
	}
	return NULL;
}

const char *mb2_cmdline(uptr info)
{
	const struct mb2_tag *t = find_tag(info, MB2_TAG_CMDLINE);
	const char *s;

	if (!t || t->size <= sizeof(*t))
		return NULL;
	s = (const char *)(t + 1);
	/* The string must be terminated inside the tag. */
	for (u32 i = 0; i < t->size - sizeof(*t); i++)
		if (!s[i])
			return s;
	return NULL;
}

struct mb2_mmap_tag {
	u32 type, size, entry_size, entry_version;
};

bool mb2_mmap_entry(uptr info, u32 i, struct mb2_mmap_entry *out)
{
	const struct mb2_mmap_tag *t = (const void *)find_tag(info, MB2_TAG_MMAP);
	u32 count;

	if (!t || t->size < sizeof(*t) || t->entry_size < sizeof(*out) || (t->entry_size & 7))
		return false;
	count = (t->size - (u32)sizeof(*t)) / t->entry_size;
	if (i >= count)
		return false;
	memcpy(out, (const u8 *)(t + 1) + i * t->entry_size, sizeof(*out));
	return true;
}
