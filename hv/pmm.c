/* Physical memory manager (see include/hv/pmm.h).
 *
 * The map is an array of ranges sorted by base. Invariants kept by every operation:
 *   - every base and size is a multiple of PAGE_SIZE, every size is non-zero;
 *   - ranges do not overlap, and base + size never wraps (the last page of the 64-bit space,
 *     whose end is not representable, is never described);
 *   - two ranges that touch have different kinds (touching ranges of one kind are merged).
 * Undescribed holes between ranges are allowed.
 *
 * Every change goes through paint(), which overwrites one interval with one kind and checks
 * table space before it moves anything, so a failing call leaves the map as it was. */
#include "types.h"
#include "lib/error.h"
#include "lib/string.h"
#include "hv/pmm.h"

#define U64_MAX (~(u64)0)

static bool kind_valid(enum pmm_kind kind)
{
	return (unsigned int)kind < (unsigned int)PMM_KIND_COUNT;
}

static u64 range_end(const struct pmm_range *r)
{
	return r->base + r->size;
}

const char *pmm_kind_name(enum pmm_kind kind)
{
	switch (kind) {
	case PMM_FREE: return "free";
	case PMM_HV: return "hypervisor";
	case PMM_FIRMWARE: return "firmware";
	case PMM_ACPI_RECLAIM: return "acpi-reclaim";
	case PMM_ACPI_NVS: return "acpi-nvs";
	case PMM_PARTITION: return "partition";
	default: return "unknown";
	}
}

void pmm_init(struct pmm *pmm)
{
	memset(pmm, 0, sizeof(*pmm));
}

/* Index of the first range ending above addr (pmm->count if none). */
static unsigned int first_ending_above(const struct pmm *pmm, u64 addr)
{
	unsigned int lo = 0, hi = pmm->count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (range_end(&pmm->ranges[mid]) > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Index of the range holding addr, or -1. */
static int find_holding(const struct pmm *pmm, u64 addr)
{
	unsigned int i = first_ending_above(pmm, addr);

	if (i < pmm->count && pmm->ranges[i].base <= addr)
		return (int)i;
	return -1;
}

/* Makes [b, e) (page aligned, b < e) one range of `kind`, whatever was there before, and merges
 * it with touching ranges of the same kind. BH_ENOMEM, with nothing changed, if the result
 * would not fit in the table. */
static int paint(struct pmm *pmm, u64 b, u64 e, enum pmm_kind kind)
{
	struct pmm_range *r = pmm->ranges;
	struct pmm_range rep[3];
	unsigned int i, j, lo, hi, n = 0;
	struct pmm_range mid = { .base = b, .size = 0, .kind = kind };
	u64 mid_end = e;
	bool have_left = false, have_right = false;
	struct pmm_range left = { 0 }, right = { 0 };

	/* ranges[i..j) overlap [b, e) */
	i = first_ending_above(pmm, b);
	for (j = i; j < pmm->count && r[j].base < e; j++)
		;
	lo = i;
	hi = j;

	if (i < j && r[i].base < b) { /* part of r[i] below b survives */
		left = (struct pmm_range){ .base = r[i].base, .size = b - r[i].base, .kind = r[i].kind };
		have_left = true;
	}
	if (i < j && range_end(&r[j - 1]) > e) { /* part of r[j-1] above e survives */
		right = (struct pmm_range){ .base = e, .size = range_end(&r[j - 1]) - e,
					    .kind = r[j - 1].kind };
		have_right = true;
	}

	if (have_left) {
		if (left.kind == kind) {
			mid.base = left.base;
			have_left = false;
		}
	} else if (lo > 0 && range_end(&r[lo - 1]) == b && r[lo - 1].kind == kind) {
		lo--;
		mid.base = r[lo].base;
	}
	if (have_right) {
		if (right.kind == kind) {
			mid_end = range_end(&right);
			have_right = false;
		}
	} else if (hi < pmm->count && r[hi].base == e && r[hi].kind == kind) {
		mid_end = range_end(&r[hi]);
		hi++;
	}
	mid.size = mid_end - mid.base;

	if (have_left)
		rep[n++] = left;
	rep[n++] = mid;
	if (have_right)
		rep[n++] = right;

	/* replace ranges[lo..hi) by rep[0..n) */
	if (pmm->count - (hi - lo) + n > PMM_MAX_RANGES)
		return BH_ENOMEM;
	if (n != hi - lo)
		memmove(&r[lo + n], &r[hi], (pmm->count - hi) * sizeof(*r));
	memcpy(&r[lo], rep, n * sizeof(*r));
	pmm->count = pmm->count - (hi - lo) + n;
	return 0;
}

/* Finds the first hole of the map inside [from, e). On success stores it in [*gb, *ge) and in
 * *delta how the range count changes when the hole is filled with free RAM (+1 for a new range,
 * 0 when it extends a free neighbour, -1 when it joins two). */
static bool next_hole(const struct pmm *pmm, u64 from, u64 e, u64 *gb, u64 *ge, int *delta)
{
	const struct pmm_range *r = pmm->ranges;
	unsigned int i = first_ending_above(pmm, from);
	u64 cur = from;

	while (cur < e) {
		if (i < pmm->count && r[i].base <= cur) {
			cur = range_end(&r[i]);
			i++;
			continue;
		}
		*gb = cur;
		*ge = i < pmm->count && r[i].base < e ? r[i].base : e;
		*delta = 1;
		if (i > 0 && range_end(&r[i - 1]) == *gb && r[i - 1].kind == PMM_FREE)
			(*delta)--;
		if (i < pmm->count && r[i].base == *ge && r[i].kind == PMM_FREE)
			(*delta)--;
		return true;
	}
	return false;
}

/* Fills every hole of [b, e) with free RAM, all or nothing. */
static int fill_free(struct pmm *pmm, u64 b, u64 e)
{
	u64 gb, ge, cur;
	int delta, total = 0;

	for (cur = b; next_hole(pmm, cur, e, &gb, &ge, &delta); cur = ge)
		total += delta;
	if ((int)pmm->count + total > PMM_MAX_RANGES)
		return BH_ENOMEM;
	/* Holes that need no new slot first, so the count never passes the final one. Filling a
	 * hole cannot change another hole's neighbours: holes are separated by existing ranges. */
	for (cur = b; next_hole(pmm, cur, e, &gb, &ge, &delta); cur = ge) {
		if (delta <= 0 && paint(pmm, gb, ge, PMM_FREE) != 0)
			return BH_ENOMEM; /* not reached: checked above */
	}
	for (cur = b; next_hole(pmm, cur, e, &gb, &ge, &delta); cur = ge) {
		if (paint(pmm, gb, ge, PMM_FREE) != 0)
			return BH_ENOMEM; /* not reached: checked above */
	}
	return 0;
}

int pmm_add(struct pmm *pmm, u64 base, u64 size, enum pmm_kind kind)
{
	u64 end = base + size;
	u64 b, e;

	if (!kind_valid(kind) || size == 0 || end <= base)
		return BH_EINVAL;
	if (kind == PMM_FREE) {
		/* shrink to whole pages; a piece smaller than a page describes nothing */
		if (base > U64_MAX - (PAGE_SIZE - 1))
			return 0;
		b = ALIGN_UP(base, PAGE_SIZE);
		e = ALIGN_DOWN(end, PAGE_SIZE);
		if (b >= e)
			return 0;
		return fill_free(pmm, b, e);
	}
	/* widen to whole pages; the end must stay representable */
	if (end > U64_MAX - (PAGE_SIZE - 1))
		return BH_EINVAL;
	b = ALIGN_DOWN(base, PAGE_SIZE);
	e = ALIGN_UP(end, PAGE_SIZE);
	return paint(pmm, b, e, kind);
}

/* Checks an interval given by a caller for claim/free: page aligned base, non-zero size that
 * does not wrap. Stores the exclusive end in *e. */
static bool interval_ok(u64 base, u64 size, u64 *e)
{
	if (size == 0 || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE))
		return false;
	if (base + size <= base)
		return false;
	*e = base + size;
	return true;
}

int pmm_claim(struct pmm *pmm, u64 base, u64 size, enum pmm_kind kind)
{
	u64 e;
	int i;

	if (!kind_valid(kind) || kind == PMM_FREE || !interval_ok(base, size, &e))
		return BH_EINVAL;
	/* free ranges are merged, so an all-free interval lies inside one range */
	i = find_holding(pmm, base);
	if (i < 0 || pmm->ranges[i].kind != PMM_FREE || range_end(&pmm->ranges[i]) < e)
		return BH_EBUSY;
	return paint(pmm, base, e, kind);
}

int pmm_alloc(struct pmm *pmm, u64 size, u64 align, u64 limit, enum pmm_kind kind, u64 *out)
{
	unsigned int i;

	if (!kind_valid(kind) || kind == PMM_FREE || size == 0)
		return BH_EINVAL;
	if (align == 0)
		align = PAGE_SIZE;
	if (align < PAGE_SIZE || (align & (align - 1)) != 0)
		return BH_EINVAL;
	if (size > U64_MAX - (PAGE_SIZE - 1))
		return BH_ENOMEM;
	size = ALIGN_UP(size, PAGE_SIZE);

	for (i = pmm->count; i-- > 0;) {
		const struct pmm_range *r = &pmm->ranges[i];
		u64 top = range_end(r), base;
		int err;

		if (r->kind != PMM_FREE)
			continue;
		if (limit && top > limit)
			top = limit;
		if (top <= r->base || top - r->base < size)
			continue;
		base = ALIGN_DOWN(top - size, align);
		if (base < r->base)
			continue;
		err = paint(pmm, base, base + size, kind);
		if (err)
			return err;
		*out = base;
		return 0;
	}
	return BH_ENOMEM;
}

int pmm_free(struct pmm *pmm, u64 base, u64 size)
{
	u64 e, cur;

	/* the size is rounded up like pmm_alloc's, so the size that was asked for can be passed */
	if (size > U64_MAX - (PAGE_SIZE - 1))
		return BH_EINVAL;
	size = ALIGN_UP(size, PAGE_SIZE);
	if (!interval_ok(base, size, &e))
		return BH_EINVAL;
	for (cur = base; cur < e;) {
		int i = find_holding(pmm, cur);

		if (i < 0 || (pmm->ranges[i].kind != PMM_HV && pmm->ranges[i].kind != PMM_PARTITION))
			return BH_EINVAL;
		cur = range_end(&pmm->ranges[i]);
	}
	return paint(pmm, base, e, PMM_FREE);
}

u64 pmm_total(const struct pmm *pmm, enum pmm_kind kind)
{
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < pmm->count; i++)
		if (pmm->ranges[i].kind == kind)
			sum += pmm->ranges[i].size;
	return sum;
}

enum pmm_kind pmm_kind_at(const struct pmm *pmm, u64 addr)
{
	int i = find_holding(pmm, addr);

	return i < 0 ? PMM_KIND_COUNT : pmm->ranges[i].kind;
}

u64 pmm_top(const struct pmm *pmm)
{
	return pmm->count ? range_end(&pmm->ranges[pmm->count - 1]) : 0;
}
