/* A byte ring that keeps the most recent bytes. Byte number n (counting every byte ever written)
 * lives at buf[n % size] while n >= written - size. */
#include "lib/ring.h"
#include "lib/string.h"

void ring_init(struct ring *r, u8 *buf, u64 size)
{
	r->buf = buf;
	r->size = size;
	r->written = 0;
}

u64 ring_oldest(const struct ring *r)
{
	return r->written > r->size ? r->written - r->size : 0;
}

void ring_write(struct ring *r, const void *data, u64 len)
{
	const u8 *src = data;
	u64 pos = r->written;

	r->written += len;
	if (!r->size)
		return;
	if (len > r->size) { /* only the last `size` bytes survive */
		src += len - r->size;
		pos += len - r->size;
		len = r->size;
	}
	while (len) {
		u64 at = pos % r->size;
		u64 n = MIN(len, r->size - at);

		memcpy(r->buf + at, src, (size_t)n);
		src += n;
		pos += n;
		len -= n;
	}
}

u64 ring_read(const struct ring *r, u64 *pos, void *buf, u64 len, u64 *missed)
{
	u64 oldest = ring_oldest(r);
	u8 *dst = buf;
	u64 lost = 0, copied = 0;

	if (*pos < oldest) {
		lost = oldest - *pos;
		*pos = oldest;
	} else if (*pos > r->written) {
		*pos = r->written; /* a position from the future: nothing to read */
	}
	if (missed)
		*missed = lost;
	if (!r->size)
		return 0;
	len = MIN(len, r->written - *pos);
	while (copied < len) {
		u64 at = *pos % r->size;
		u64 n = MIN(len - copied, r->size - at);

		memcpy(dst + copied, r->buf + at, (size_t)n);
		copied += n;
		*pos += n;
	}
	return copied;
}
