/* A byte ring that keeps the most recent `size` bytes: writers never block, the oldest bytes are
 * overwritten. Readers keep their own position (a 64-bit count of bytes ever written) and learn
 * how much they missed. Not locked: callers serialise. */
#ifndef BH_LIB_RING_H
#define BH_LIB_RING_H

#include "types.h"

struct ring {
	u8 *buf;
	u64 size;     /* bytes, > 0 */
	u64 written;  /* total bytes ever written */
};

void ring_init(struct ring *r, u8 *buf, u64 size);
void ring_write(struct ring *r, const void *data, u64 len);
/* Copies bytes from position *pos on (clamped to the oldest byte still held) into buf, at most
 * len; advances *pos; returns the number copied. *missed (may be NULL) gets the bytes that were
 * overwritten before they could be read. */
u64 ring_read(const struct ring *r, u64 *pos, void *buf, u64 len, u64 *missed);
/* Position of the oldest byte still held. */
u64 ring_oldest(const struct ring *r);

#endif
