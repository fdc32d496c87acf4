/* Guest kernel loaders: detection, dispatch and what the formats share (field access, messages,
 * segment checks, placement of the pieces the loader chooses, the guest's memory map, GDT).
 * Layout and entry state: docs/guest-boot.md. */
#include "types.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"
#include "hv/loader.h"
#include "loader_internal.h"

/* ------------------------------------------------------------------ little-endian fields */

u16 ld_get16(const u8 *p)
{
	return (u16)(p[0] | (u16)p[1] << 8);
}

u32 ld_get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

u64 ld_get64(const u8 *p)
{
	return (u64)ld_get32(p) | (u64)ld_get32(p + 4) << 32;
}

void ld_put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

void ld_put32(u8 *p, u32 v)
{
	ld_put16(p, (u16)v);
	ld_put16(p + 2, (u16)(v >> 16));
}

void ld_put64(u8 *p, u64 v)
{
	ld_put32(p, (u32)v);
	ld_put32(p + 4, (u32)(v >> 32));
}

/* ------------------------------------------------------------------ messages */

static int vfail(struct ld *ld, const char *name, int err, const char *fmt, va_list ap)
{
	int n;

	if (!ld->why || !ld->why_size)
		return err;
	n = fmt_snprintf(ld->why, ld->why_size, "%s: ", name ? name : "(unnamed)");
	if (n >= 0 && (size_t)n < ld->why_size)
		fmt_vsnprintf(ld->why + n, ld->why_size - (size_t)n, fmt, ap);
	return err;
}

int ld_fail(struct ld *ld, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = vfail(ld, ld->name, err, fmt, ap);
	va_end(ap);
	return err;
}

int ld_fail_named(struct ld *ld, const char *name, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = vfail(ld, name, err, fmt, ap);
	va_end(ap);
	return err;
}

void ld_size_str(char *buf, size_t size, u64 bytes)
{
	if (bytes && bytes % GiB == 0)
		fmt_snprintf(buf, size, "%llu GiB", (unsigned long long)(bytes / GiB));
	else if (bytes && bytes % MiB == 0)
		fmt_snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes / MiB));
	else if (bytes && bytes % KiB == 0)
		fmt_snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes / KiB));
	else
		fmt_snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
}

/* ------------------------------------------------------------------ kernel segments */

static bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	/* callers keep every end below LD_RAM_MAX, so the sums cannot wrap */
	return alen && blen && a < b + blen && b < a + alen;
}

int ld_add_segment(struct ld *ld, const char *what, u64 gpa, u64 memsz, u64 off, u64 filesz,
		   u64 limit)
{
	char ram[24];

	if (filesz > memsz)
		return ld_fail(ld, BH_EINVAL, "%s: file size 0x%llx exceeds its memory size 0x%llx",
			       what, (unsigned long long)filesz, (unsigned long long)memsz);
	if (!ld_fits(off, filesz, ld->size))
		return ld_fail(ld, BH_EINVAL,
			       "%s: file bytes 0x%llx+0x%llx lie beyond the end of the file (0x%llx bytes)",
			       what, (unsigned long long)off, (unsigned long long)filesz,
			       (unsigned long long)ld->size);
	if (!memsz)
		return 0;
	if (!ld_fits(gpa, memsz, ld->ram->size)) {
		ld_size_str(ram, sizeof(ram), ld->ram->size);
		return ld_fail(ld, BH_ERANGE,
			       "%s at 0x%llx+0x%llx lies outside the partition's %s of RAM", what,
			       (unsigned long long)gpa, (unsigned long long)memsz, ram);
	}
	if (!ld_fits(gpa, memsz, limit))
		return ld_fail(ld, BH_ERANGE,
			       "%s at 0x%llx+0x%llx reaches above 4 GiB, out of reach of a 32-bit "
			       "multiboot entry", what, (unsigned long long)gpa,
			       (unsigned long long)memsz);
	for (u32 i = 0; i < ld->nseg; i++) {
		const struct ld_seg *s = &ld->seg[i];

		if (ranges_overlap(gpa, memsz, s->gpa, s->memsz))
			return ld_fail(ld, BH_EINVAL,
				       "%s at 0x%llx+0x%llx overlaps the segment at 0x%llx+0x%llx", what,
				       (unsigned long long)gpa, (unsigned long long)memsz,
				       (unsigned long long)s->gpa, (unsigned long long)s->memsz);
	}
	if (ld->nseg == LD_MAX_SEGMENTS)
		return ld_fail(ld, BH_ENOTSUP, "more than %d loadable segments", LD_MAX_SEGMENTS);
	ld->seg[ld->nseg++] = (struct ld_seg){ gpa, memsz, off, filesz };
	if (ld->nseg == 1 || gpa < ld->kernel_low)
		ld->kernel_low = gpa;
	if (gpa + memsz > ld->kernel_end)
		ld->kernel_end = gpa + memsz;
	return 0;
}

int ld_check_entry(struct ld *ld, u64 entry)
{
	for (u32 i = 0; i < ld->nseg; i++) {
		if (entry >= ld->seg[i].gpa && entry - ld->seg[i].gpa < ld->seg[i].memsz) {
			ld->entry = entry;
			return 0;
		}
	}
	return ld_fail(ld, BH_EINVAL, "entry point 0x%llx is not inside any loaded segment",
		       (unsigned long long)entry);
}

/* ------------------------------------------------------------------ placement */

/* Ranges a placed piece must avoid: the kernel, what was placed before, page 0 and the legacy
 * hole (reserved in the guest's memory map). Returns the first one [gpa, gpa+size) hits. */
static bool hit(const struct ld *ld, u64 gpa, u64 size, struct ld_range *r)
{
	static const struct ld_range fixed[] = {
		{ 0, LD_LOW_START },
		{ LD_LOW_END, LD_HIGH_START - LD_LOW_END },
	};

	for (u32 i = 0; i < ARRAY_SIZE(fixed); i++) {
		if (ranges_overlap(gpa, size, fixed[i].gpa, fixed[i].size)) {
			*r = fixed[i];
			return true;
		}
	}
	for (u32 i = 0; i < ld->nseg; i++) {
		if (ranges_overlap(gpa, size, ld->seg[i].gpa, ld->seg[i].memsz)) {
			*r = (struct ld_range){ ld->seg[i].gpa, ld->seg[i].memsz };
			return true;
		}
	}
	for (u32 i = 0; i < ld->nalloc; i++) {
		if (ranges_overlap(gpa, size, ld->alloc[i].gpa, ld->alloc[i].size)) {
			*r = ld->alloc[i];
			return true;
		}
	}
	return false;
}

/* Lowest free aligned [a, a+size) inside [lo, hi). Every step moves past the end of a range it
 * hit, so each range is hit at most once. */
static bool fit_up(const struct ld *ld, u64 lo, u64 hi, u64 size, u64 *out)
{
	u64 a = ALIGN_UP(lo, PAGE_SIZE);
	struct ld_range r;

	while (ld_fits(a, size, hi)) {
		if (!hit(ld, a, size, &r)) {
			*out = a;
			return true;
		}
		a = ALIGN_UP(r.gpa + r.size, PAGE_SIZE);
	}
	return false;
}

/* Highest free aligned [a, a+size) inside [lo, hi). */
static bool fit_down(const struct ld *ld, u64 lo, u64 hi, u64 size, u64 *out)
{
	struct ld_range r;
	u64 a;

	if (hi < lo || size > hi - lo)
		return false;
	a = ALIGN_DOWN(hi - size, PAGE_SIZE);
	while (a >= lo) {
		if (!hit(ld, a, size, &r)) {
			*out = a;
			return true;
		}
		if (r.gpa < size)
			return false;
		a = ALIGN_DOWN(r.gpa - size, PAGE_SIZE);
	}
	return false;
}

static u64 place_limit(const struct ld *ld)
{
	return MIN(ld->ram->size, LD_4G);
}

static void record(struct ld *ld, u64 gpa, u64 size)
{
	/* LD_MAX_ALLOCS covers every caller: boot block, page tables, modules */
	ld->alloc[ld->nalloc++] = (struct ld_range){ gpa, size };
}

int ld_place_boot(struct ld *ld, u64 size, const char *what, u64 *gpa)
{
	char ram[24];

	size = ALIGN_UP(size, PAGE_SIZE);
	if (ld->nalloc < LD_MAX_ALLOCS &&
	    (fit_up(ld, LD_LOW_START, LD_LOW_END, size, gpa) ||
	     fit_down(ld, LD_HIGH_START, place_limit(ld), size, gpa))) {
		record(ld, *gpa, size);
		return 0;
	}
	ld_size_str(ram, sizeof(ram), ld->ram->size);
	return ld_fail(ld, BH_ENOMEM, "no room for the %s (%llu bytes) next to the kernel in the "
		       "partition's %s of RAM", what, (unsigned long long)size, ram);
}

bool ld_place_top(struct ld *ld, u64 size, u64 lo, u64 hi, u64 *gpa)
{
	size = ALIGN_UP(MAX(size, 1), PAGE_SIZE);
	if (ld->nalloc == LD_MAX_ALLOCS || !fit_down(ld, lo, hi, size, gpa))
		return false;
	record(ld, *gpa, size);
	return true;
}

void ld_reserve(struct ld *ld, u64 gpa, u64 size)
{
	/* LD_MAX_ALLOCS leaves room for the two keep-out ranges a Linux load records */
	if (ld->nalloc < LD_MAX_ALLOCS)
		record(ld, gpa, size);
}

int ld_place_modules(struct ld *ld)
{
	u64 limit = place_limit(ld);
	char ram[24];

	for (u32 i = 0; i < ld->nmod; i++) {
		const struct guest_blob *m = &ld->mods[i];
		u64 size, gpa;

		if (m->size > ld->ram->size || ld->nalloc == LD_MAX_ALLOCS)
			goto no_room;
		size = ALIGN_UP(MAX(m->size, 1), PAGE_SIZE);
		if (fit_up(ld, ld->kernel_end, limit, size, &gpa) ||
		    fit_up(ld, LD_LOW_START, limit, size, &gpa)) {
			record(ld, gpa, size);
			ld->mod_gpa[i] = gpa;
			continue;
		}
no_room:
		ld_size_str(ram, sizeof(ram), ld->ram->size);
		return ld_fail_named(ld, m->name, BH_ENOMEM,
				     "no room for module %u (%llu bytes) in the partition's %s of RAM%s",
				     i + 1, (unsigned long long)m->size, ram,
				     limit == LD_4G ? " below 4 GiB" : "");
	}
	return 0;
}

/* ------------------------------------------------------------------ commit */

u8 *ld_ptr(struct ld *ld, u64 gpa)
{
	return ld->ram->base + gpa;
}

void ld_write_kernel(struct ld *ld)
{
	for (u32 i = 0; i < ld->nseg; i++) {
		const struct ld_seg *s = &ld->seg[i];

		memcpy(ld_ptr(ld, s->gpa), ld->image + s->off, s->filesz);
		memset(ld_ptr(ld, s->gpa + s->filesz), 0, s->memsz - s->filesz);
	}
}

void ld_write_modules(struct ld *ld)
{
	for (u32 i = 0; i < ld->nmod; i++) {
		if (ld->mods[i].size)
			memcpy(ld_ptr(ld, ld->mod_gpa[i]), ld->mods[i].data, ld->mods[i].size);
	}
}

void ld_write_gdt(struct ld *ld, u64 gpa, bool long64)
{
	u8 *p = ld_ptr(ld, gpa);

	ld_put64(p, 0);
	ld_put64(p + GDT_SEL_CODE, long64 ? LD_DESC_CODE64 : LD_DESC_CODE32);
	ld_put64(p + GDT_SEL_DATA, LD_DESC_DATA);
}

void ld_fill_entry_flat(struct guest_entry *e, enum guest_mode mode, u64 gdt)
{
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	e->gdt_base = gdt;
	e->gdt_limit = GDT_SIZE - 1;
	e->cs = GDT_SEL_CODE;
	e->ds = GDT_SEL_DATA;
}

/* ------------------------------------------------------------------ identity page tables */

#define PTE_P 0x001ULL
#define PTE_W 0x002ULL
#define PTE_A 0x020ULL
#define PTE_D 0x040ULL
#define PTE_PS 0x080ULL
#define PT_ENTRIES 512ULL
#define PAGE_2M (2 * MiB)

struct page_tables {
	u64 pages2m, pds, pdpts;
};

static void pt_count(const struct ld *ld, struct page_tables *t)
{
	t->pages2m = ALIGN_UP(ld->ram->size, PAGE_2M) / PAGE_2M;
	t->pds = (t->pages2m + PT_ENTRIES - 1) / PT_ENTRIES;
	t->pdpts = (t->pds + PT_ENTRIES - 1) / PT_ENTRIES;
}

u64 ld_pt_size(const struct ld *ld)
{
	struct page_tables t;

	pt_count(ld, &t);
	return (1 + t.pdpts + t.pds) * PAGE_SIZE;
}

/* PML4, then the PDPTs, then the PDs, each level's entries contiguous: entry k of a level
 * lives at byte 8k of that level's first table. */
void ld_pt_write(struct ld *ld, u64 gpa)
{
	struct page_tables t;
	u64 pdpt, pd;

	pt_count(ld, &t);
	pdpt = gpa + PAGE_SIZE;
	pd = pdpt + t.pdpts * PAGE_SIZE;
	memset(ld_ptr(ld, gpa), 0, (1 + t.pdpts + t.pds) * PAGE_SIZE);
	for (u64 i = 0; i < t.pdpts; i++)
		ld_put64(ld_ptr(ld, gpa + 8 * i), (pdpt + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_A);
	for (u64 i = 0; i < t.pds; i++)
		ld_put64(ld_ptr(ld, pdpt + 8 * i), (pd + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_A);
	for (u64 i = 0; i < t.pages2m; i++)
		ld_put64(ld_ptr(ld, pd + 8 * i),
			 (i * PAGE_2M) | PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS);
}

/* ------------------------------------------------------------------ memory map */

u32 ld_mem_map(const struct ld *ld, struct ld_mmap map[LD_MMAP_ENTRIES])
{
	map[0] = (struct ld_mmap){ 0, LD_LOW_END, 1 };
	map[1] = (struct ld_mmap){ LD_LOW_END, LD_HIGH_START - LD_LOW_END, 2 };
	map[2] = (struct ld_mmap){ LD_HIGH_START, ld->ram->size - LD_HIGH_START, 1 };
	return LD_MMAP_ENTRIES;
}

u32 ld_mem_lower(const struct ld *ld)
{
	(void)ld;
	return (u32)(LD_LOW_END / KiB);
}

u32 ld_mem_upper(const struct ld *ld)
{
	u64 kib = (ld->ram->size - LD_HIGH_START) / KiB;

	return kib > 0xFFFFFFFFULL ? 0xFFFFFFFFu : (u32)kib;
}

/* ------------------------------------------------------------------ detection and dispatch */

static bool is_elf64(const u8 *image, u64 size)
{
	return elf_is_elf(image, size) && size > 4 && image[4] == 2;
}

/* A header with a valid checksum wins over one without, so a stray magic number does not hide
 * the real header; a header whose checksum is wrong still claims the file, so that its owner
 * is told about the checksum instead of seeing the file booted another way. */
static enum guest_format detect(const u8 *image, u64 size, u64 *hdr_off)
{
	if (!image || !size)
		return GUEST_FORMAT_UNKNOWN;
	*hdr_off = 0;
	if (linux_is_bzimage(image, size))
		return GUEST_FORMAT_LINUX;
	if (mb_find_header(image, size, 2, true, hdr_off))
		return GUEST_FORMAT_MULTIBOOT2;
	if (mb_find_header(image, size, 1, true, hdr_off))
		return GUEST_FORMAT_MULTIBOOT1;
	if (mb_find_header(image, size, 2, false, hdr_off))
		return GUEST_FORMAT_MULTIBOOT2;
	if (mb_find_header(image, size, 1, false, hdr_off))
		return GUEST_FORMAT_MULTIBOOT1;
	*hdr_off = 0;
	if (is_elf64(image, size))
		return GUEST_FORMAT_ELF64;
	return GUEST_FORMAT_UNKNOWN;
}

enum guest_format loader_detect(const u8 *image, u64 size)
{
	u64 off;

	return detect(image, size, &off);
}

const char *loader_format_name(enum guest_format format)
{
	switch (format) {
	case GUEST_FORMAT_MULTIBOOT1: return "multiboot";
	case GUEST_FORMAT_MULTIBOOT2: return "multiboot2";
	case GUEST_FORMAT_ELF64: return "ELF64";
	case GUEST_FORMAT_LINUX: return "Linux bzImage";
	case GUEST_FORMAT_UNKNOWN: break;
	}
	return "unknown";
}

/* Length of a caller string, or LD_STR_MAX when it is too long. */
static size_t str_len(const char *s)
{
	return strnlen(s, LD_STR_MAX);
}

static int check_inputs(struct ld *ld, struct guest_ram *ram, const struct guest_blob *kernel)
{
	char size[24];

	if (!ram || !ram->base)
		return ld_fail(ld, BH_EINVAL, "no guest RAM to load into");
	ld_size_str(size, sizeof(size), ram->size);
	if (ram->size < LD_RAM_MIN)
		return ld_fail(ld, BH_ERANGE, "the partition's %s of RAM is below the loader's "
			       "minimum of 2 MiB", size);
	if (ram->size > LD_RAM_MAX)
		return ld_fail(ld, BH_ERANGE, "the partition's %s of RAM is above the loader's "
			       "maximum of 64 TiB", size);
	if (!kernel->size)
		return ld_fail(ld, BH_EINVAL, "empty file");
	if (!kernel->data)
		return ld_fail(ld, BH_EINVAL, "no data for a file of %llu bytes",
			       (unsigned long long)kernel->size);
	if (ld->cmdline_len >= LD_STR_MAX)
		return ld_fail(ld, BH_EINVAL, "command line longer than %d bytes", LD_STR_MAX - 1);
	if (ld->nmod > LOADER_MAX_MODULES)
		return ld_fail(ld, BH_ERANGE, "%u modules given, at most %d are supported", ld->nmod,
			       LOADER_MAX_MODULES);
	if (ld->nmod && !ld->mods)
		return ld_fail(ld, BH_EINVAL, "%u modules announced but none given", ld->nmod);
	for (u32 i = 0; i < ld->nmod; i++) {
		const struct guest_blob *m = &ld->mods[i];

		if (m->size && !m->data)
			return ld_fail_named(ld, m->name, BH_EINVAL,
					     "no data for module %u of %llu bytes", i + 1,
					     (unsigned long long)m->size);
		ld->mod_str_len[i] = m->args ? str_len(m->args) : 0;
		if (ld->mod_str_len[i] >= LD_STR_MAX)
			return ld_fail_named(ld, m->name, BH_EINVAL,
					     "module string longer than %d bytes", LD_STR_MAX - 1);
	}
	return 0;
}

int loader_load(struct guest_ram *ram, const struct guest_blob *kernel, const char *cmdline,
		const struct guest_blob *modules, u32 module_count, struct guest_entry *entry,
		char *why, size_t why_size)
{
	return loader_load_platform(ram, kernel, cmdline, modules, module_count, NULL, entry, why,
				    why_size);
}

int loader_load_platform(struct guest_ram *ram, const struct guest_blob *kernel,
			 const char *cmdline, const struct guest_blob *modules, u32 module_count,
			 const struct guest_platform *platform, struct guest_entry *entry,
			 char *why, size_t why_size)
{
	struct ld ld;
	u64 hdr_off = 0;
	int err;

	memset(&ld, 0, sizeof(ld));
	ld.why = why;
	ld.why_size = why_size;
	if (why && why_size)
		why[0] = '\0';
	ld.name = kernel && kernel->name ? kernel->name : "kernel";
	if (!kernel || !entry)
		return ld_fail(&ld, BH_EINVAL, "loader called without a kernel or an entry to fill");
	ld.ram = ram;
	ld.image = kernel->data;
	ld.size = kernel->size;
	ld.cmdline = cmdline ? cmdline : "";
	ld.cmdline_len = str_len(ld.cmdline);
	ld.mods = modules;
	ld.nmod = module_count;
	ld.platform = platform;
	err = check_inputs(&ld, ram, kernel);
	if (err)
		return err;

	switch (detect(ld.image, ld.size, &hdr_off)) {
	case GUEST_FORMAT_MULTIBOOT1:
		return mb1_load(&ld, hdr_off, entry);
	case GUEST_FORMAT_MULTIBOOT2:
		return mb2_load(&ld, hdr_off, entry);
	case GUEST_FORMAT_ELF64:
		return elf64_load(&ld, entry);
	case GUEST_FORMAT_LINUX:
		return linux_load(&ld, entry);
	case GUEST_FORMAT_UNKNOWN:
		break;
	}
	if (elf_is_elf(ld.image, ld.size) && ld.size > 4 && ld.image[4] == 1)
		return ld_fail(&ld, BH_ENOTSUP, "a 32-bit ELF file without a multiboot header "
			       "(32-bit kernels must carry a Multiboot 1 or 2 header)");
	err = linux_why_not(&ld);
	if (err)
		return err;
	return ld_fail(&ld, BH_EINVAL, "not a kernel: no Multiboot 2 header in the first 32 KiB, "
		       "no Multiboot header in the first 8 KiB, not ELF64, not a Linux bzImage");
}
