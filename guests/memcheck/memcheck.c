/* memcheck: a Multiboot 2 kernel that tests the RAM its partition was given, forever.
 *
 * It takes the available (type 1) entries of the Multiboot 2 memory map below 4 GiB (it runs in
 * 32-bit protected mode without paging), less its own image (code, data, .bss and stack) and the
 * boot information, and in each round writes every 32-bit word with a pattern that depends on
 * the word's address and on the round number, then reads everything back. A word that still
 * holds the previous round's value, or that aliases another address, therefore fails.
 *
 *   MEMCHECK start bytes=<n>
 *   MEMCHECK name=<name> ranges=<count>
 *   MEMCHECK range 0x<start>-0x<end>                   (one per tested range, end exclusive)
 *   MEMCHECK ok bytes=<n> rounds=<k>                    (after each good round, k from 1)
 *   MEMCHECK FAIL addr=0x<a> expected=0x<e> got=0x<g>   (first bad word of a round; the next
 *                                                        round starts right after)
 */
#include "guest.h"
#include "io.h"

#define MAX_RANGES 64
#define MAX_EXCLUDES 2
/* Highest address tested: 32-bit flat addressing; the last page is left out so that an end
 * address always fits in 32 bits. */
#define ADDR_LIMIT 0xFFFFF000ull

/* Pattern: a bijection of the address for a given round, and different in every round for a
 * given address (the multipliers are odd, the final xorshift is invertible). */
#define K_ADDR 0x9E3779B1u
#define K_ROUND 0x85EBCA77u

struct range {
	u32 start, end; /* [start, end), both multiples of 4 */
};

extern char __image_start[], __image_end[];

static struct range ranges[MAX_RANGES];
static u32 range_count;
static bool ranges_overflowed;
static struct range excludes[MAX_EXCLUDES];
static u32 exclude_count;

void guest_main(u32 magic, u32 info);

static void add_exclude(u64 start, u64 end)
{
	if (exclude_count < MAX_EXCLUDES && start < end)
		excludes[exclude_count++] = (struct range){ (u32)(start & ~3ull),
			(u32)MIN((end + 3) & ~3ull, ADDR_LIMIT) };
}

/* Adds [start, end) less every exclusion, splitting it where they cut. */
static void add_range(u32 start, u32 end, u32 first_exclude)
{
	for (u32 i = first_exclude; i < exclude_count; i++) {
		const struct range *x = &excludes[i];

		if (x->end <= start || x->start >= end)
			continue;
		if (x->start > start)
			add_range(start, x->start, i + 1);
		if (x->end < end)
			add_range(x->end, end, i + 1);
		return;
	}
	if (start >= end)
		return;
	if (range_count == MAX_RANGES) {
		ranges_overflowed = true;
		return;
	}
	ranges[range_count++] = (struct range){ start, end };
}

static u64 collect_ranges(uptr info)
{
	struct mb2_mmap_entry e;
	u64 bytes = 0;

	for (u32 i = 0; mb2_mmap_entry(info, i, &e); i++) {
		u64 start = (e.base + 3) & ~3ull, end;

		if (e.type != MB2_MEMORY_AVAILABLE || e.length > ~0ull - e.base)
			continue;
		end = (e.base + e.length) & ~3ull;
		if (end > ADDR_LIMIT)
			end = ADDR_LIMIT;
		if (start >= end)
			continue;
		add_range((u32)start, (u32)end, 0);
	}
	for (u32 i = 0; i < range_count; i++)
		bytes += ranges[i].end - ranges[i].start;
	return bytes;
}

static inline u32 pattern_seed(u32 addr, u32 round)
{
	return addr * K_ADDR + round * K_ROUND;
}

static void fill(u32 round)
{
	for (u32 i = 0; i < range_count; i++) {
		u32 x = pattern_seed(ranges[i].start, round);

		for (u32 a = ranges[i].start; a < ranges[i].end; a += 4) {
			*(volatile u32 *)(uptr)a = x ^ (x >> 15);
			x += 4 * K_ADDR;
		}
	}
}

/* True if every word holds its pattern; otherwise reports the first one that does not. */
static bool verify(u32 round)
{
	for (u32 i = 0; i < range_count; i++) {
		u32 x = pattern_seed(ranges[i].start, round);

		for (u32 a = ranges[i].start; a < ranges[i].end; a += 4) {
			u32 expected = x ^ (x >> 15);
			u32 got = *(volatile u32 *)(uptr)a;

			if (got != expected) {
				con_printf("MEMCHECK FAIL addr=0x%08x expected=0x%08x got=0x%08x\n",
					   a, expected, got);
				return false;
			}
			x += 4 * K_ADDR;
		}
	}
	return true;
}

void guest_main(u32 magic, u32 info)
{
	char name[64];
	u32 info_size;
	u64 bytes;

	con_init();
	if (magic != MB2_BOOT_MAGIC) {
		con_printf("MEMCHECK FAIL boot magic=0x%08x, expected 0x%08x\n", magic,
			   MB2_BOOT_MAGIC);
		halt_forever();
	}
	info_size = mb2_check(info);
	if (!info_size) {
		con_printf("MEMCHECK FAIL boot information at 0x%08x is malformed\n", info);
		halt_forever();
	}
	add_exclude((uptr)__image_start, (uptr)__image_end);
	add_exclude(info, (u64)info + info_size);
	bytes = collect_ranges(info);
	cmdline_name(mb2_cmdline(info), name, sizeof(name));

	con_printf("MEMCHECK start bytes=%llu\n", (unsigned long long)bytes);
	con_printf("MEMCHECK name=%s ranges=%u\n", name, range_count);
	for (u32 i = 0; i < range_count; i++)
		con_printf("MEMCHECK range 0x%08x-0x%08x\n", ranges[i].start, ranges[i].end);
	if (ranges_overflowed)
		con_printf("MEMCHECK warning: more than %u ranges, the rest is not tested\n",
			   MAX_RANGES);
	if (!bytes) {
		con_printf("MEMCHECK FAIL no available memory to test\n");
		halt_forever();
	}

	for (u32 round = 1;; round++) {
		fill(round);
		if (verify(round))
			con_printf("MEMCHECK ok bytes=%llu rounds=%u\n", (unsigned long long)bytes,
				   round);
	}
}
