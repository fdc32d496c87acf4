/* The multiboot2 boot information parser (boot/multiboot2/mb2info.c): tag lists as GRUB builds
 * them on a BIOS machine, and broken ones; the memory map it derives; module naming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/mb2info.h"
#include "boot/multiboot2.h"
#include "lib/error.h"

/* ------------------------------------------------------------------ building tag lists */

#define MBI_PHYS 0x158000ull
#define IMAGE_START 0x200000ull
#define IMAGE_END 0x290000ull

struct mbi {
	_Alignas(8) u8 buf[32768];
	u32 len;
};

static struct mbi m;
static struct boot_info info;
static struct mb2_notes notes;
static const struct mb2_where where = { MBI_PHYS, IMAGE_START, IMAGE_END };

static void mbi_begin(void)
{
	memset(&m, 0, sizeof(m));
	m.len = 8;
}

static void *mbi_tag(u32 type, u32 payload)
{
	struct mb2_tag *t = (struct mb2_tag *)(m.buf + m.len);

	assert_true(m.len + 8 + payload + 8 <= sizeof(m.buf));
	t->type = type;
	t->size = 8 + payload;
	m.len += (8 + payload + 7) & ~7u;
	return t + 1;
}

static u32 mbi_end(void)
{
	mbi_tag(MB2_TAG_END, 0);
	((struct mb2_info_header *)m.buf)->total_size = m.len;
	return m.len;
}

static u32 offset_of_next_tag(void)
{
	return m.len;
}

static void add_cmdline(const char *s)
{
	strcpy(mbi_tag(MB2_TAG_CMDLINE, (u32)strlen(s) + 1), s);
}

static void add_module(u32 start, u32 end, const char *s)
{
	struct mb2_tag_module *t = (struct mb2_tag_module *)((u8 *)mbi_tag(MB2_TAG_MODULE,
								     8 + (u32)strlen(s) + 1) - 8);

	t->mod_start = start;
	t->mod_end = end;
	strcpy(t->string, s);
}

struct ent {
	u64 base, len;
	u32 type;
};

static void add_mmap_sized(const struct ent *e, u32 n, u32 entry_size)
{
	u8 *p = mbi_tag(MB2_TAG_MMAP, 8 + n * entry_size);
	struct mb2_tag_mmap *t = (struct mb2_tag_mmap *)(p - 8);

	t->entry_size = entry_size;
	t->entry_version = 0;
	p += 8;
	for (u32 i = 0; i < n; i++, p += entry_size) {
		struct mb2_mmap_entry me = { e[i].base, e[i].len, e[i].type, 0 };

		memcpy(p, &me, sizeof(me));
	}
}

static void add_mmap(const struct ent *e, u32 n)
{
	add_mmap_sized(e, n, sizeof(struct mb2_mmap_entry));
}

/* What SeaBIOS gives QEMU q35 with 2 GiB, as GRUB passes it on. */
static const struct ent qemu_map[] = {
	{ 0x0, 0x9fc00, MB2_MEM_AVAILABLE },
	{ 0x9fc00, 0x400, MB2_MEM_RESERVED },
	{ 0xf0000, 0x10000, MB2_MEM_RESERVED },
	{ 0x100000, 0x7fee0000, MB2_MEM_AVAILABLE },
	{ 0x7ffe0000, 0x20000, MB2_MEM_RESERVED },
	{ 0xb0000000, 0x10000000, MB2_MEM_RESERVED },
	{ 0xfed1c000, 0x4000, MB2_MEM_RESERVED },
	{ 0xfeffc000, 0x4000, MB2_MEM_RESERVED },
	{ 0xfffc0000, 0x40000, MB2_MEM_RESERVED },
	{ 0xfd00000000ull, 0x300000000ull, MB2_MEM_RESERVED },
};

static int parse(void)
{
	return mb2_parse(m.buf, m.len, &where, &info, &notes);
}

/* ------------------------------------------------------------------ checks */

static const struct boot_mem_region *region_at(u64 addr)
{
	for (u32 i = 0; i < info.mem_count; i++)
		if (addr >= info.mem[i].base && addr - info.mem[i].base < info.mem[i].size)
			return &info.mem[i];
	return NULL;
}

static u32 type_at(u64 addr)
{
	const struct boot_mem_region *r = region_at(addr);

	return r ? r->type : 0;
}

/* Sorted, non-overlapping, non-empty; usable RAM in whole pages. */
static void check_map_sane(void)
{
	for (u32 i = 0; i < info.mem_count; i++) {
		const struct boot_mem_region *r = &info.mem[i];

		assert_true(r->size > 0);
		assert_true(r->type >= BOOT_MEM_USABLE && r->type <= BOOT_MEM_BOOT_RECLAIM);
		if (r->type == BOOT_MEM_USABLE) {
			assert_true(r->base % PAGE_SIZE == 0);
			assert_true(r->size % PAGE_SIZE == 0);
		}
		if (i)
			assert_true(info.mem[i - 1].base + info.mem[i - 1].size <= r->base);
	}
}

/* Every byte of [base, end) is loader memory. */
static void check_loader(u64 base, u64 end)
{
	for (u64 a = base & ~(PAGE_SIZE - 1); a < end; a += PAGE_SIZE)
		assert_int_equal(type_at(a), BOOT_MEM_LOADER);
}

static bool noted(const char *part)
{
	for (u32 i = 0; i < notes.count && i < MB2_MAX_NOTES; i++)
		if (strstr(notes.text[i], part))
			return true;
	return false;
}

/* ------------------------------------------------------------------ tests */

static void typical_bios_boot(void **state)
{
	(void)state;
	mbi_begin();
	add_cmdline("");
	mbi_tag(MB2_TAG_LOADER_NAME, 16);
	add_module(0x15a000, 0x15a01a, "bulkhead.cfg");
	add_module(0x15b000, 0x15c388, "guests/hello.elf extra words");
	struct mb2_tag_basic_meminfo *bm =
		(void *)((u8 *)mbi_tag(MB2_TAG_BASIC_MEMINFO, 8) - 8);
	bm->mem_lower = 639;
	bm->mem_upper = 2096000;
	add_mmap(qemu_map, sizeof(qemu_map) / sizeof(qemu_map[0]));
	u32 rsdp_off = offset_of_next_tag();
	memcpy(mbi_tag(MB2_TAG_ACPI_OLD, MB2_RSDP_V1_SIZE), "RSD PTR ", 8);
	mbi_end();

	assert_int_equal(parse(), 0);
	assert_int_equal(info.magic, BOOT_INFO_MAGIC);
	assert_string_equal(info.loader, "multiboot2");
	assert_string_equal(info.cmdline, "");
	assert_int_equal(info.rsdp, MBI_PHYS + rsdp_off + 8);
	assert_int_equal(info.image_base, IMAGE_START);
	assert_int_equal(info.image_size, IMAGE_END - IMAGE_START);

	assert_int_equal(info.file_count, 2);
	assert_string_equal(info.files[0].name, "bulkhead.cfg");
	assert_int_equal(info.files[0].addr, 0x15a000);
	assert_int_equal(info.files[0].size, 0x1a);
	assert_string_equal(info.files[1].name, "guests/hello.elf");
	assert_int_equal(info.files[1].size, 0x1388);
	assert_int_equal(info.files[1].error, 0);
	assert_int_equal(info.config_file, 0);

	check_map_sane();
	check_loader(IMAGE_START, IMAGE_END);
	check_loader(MBI_PHYS, MBI_PHYS + m.len);
	check_loader(0x15a000, 0x15c388);
	assert_int_equal(type_at(0x100000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(IMAGE_END), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x7ffdf000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x7ffe0000), BOOT_MEM_RESERVED);
	assert_int_equal(type_at(0x9fc00), BOOT_MEM_RESERVED);
	/* The trampoline: the highest free page below the EBDA, now loader memory. */
	assert_int_equal(info.trampoline, 0x9e000);
	assert_int_equal(type_at(0x9e000), BOOT_MEM_LOADER);
	assert_int_equal(type_at(0x9d000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x9f000), 0); /* the partial page before the EBDA: dropped */
	/* Reserved windows above the last RAM byte are address space, not kept memory; above
	 * 4 GiB they are left out. */
	assert_int_equal(type_at(0xb0000000), BOOT_MEM_MMIO);
	assert_int_equal(type_at(0xfffc0000), BOOT_MEM_MMIO);
	assert_int_equal(type_at(0xfd00000000ull), 0);
	assert_int_equal(notes.count, 0);
}

static void windows_with_ram_above_4g(void **state)
{
	static const struct ent e[] = {
		{ 0x100000, 0x7fee0000, MB2_MEM_AVAILABLE },
		{ 0xb0000000, 0x10000000, MB2_MEM_RESERVED },    /* ECAM, below the end of RAM */
		{ 0x100000000ull, 0x80000000ull, MB2_MEM_AVAILABLE },
		{ 0x180000000ull, 0x1000, MB2_MEM_RESERVED },     /* right at the end: kept */
		{ 0xfd00000000ull, 0x300000000ull, MB2_MEM_RESERVED },
	};

	(void)state;
	mbi_begin();
	add_mmap(e, sizeof(e) / sizeof(e[0]));
	mbi_end();
	assert_int_equal(parse(), 0);
	check_map_sane();
	assert_int_equal(type_at(0xb0000000), BOOT_MEM_RESERVED);
	assert_int_equal(type_at(0x17fffffffull), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x180000000ull), BOOT_MEM_RESERVED);
	assert_int_equal(type_at(0xfd00000000ull), 0);
	assert_int_equal(info.mem[info.mem_count - 1].base, 0x180000000ull);
}

static void acpi_new_rsdp_preferred(void **state)
{
	(void)state;
	mbi_begin();
	add_mmap(qemu_map, 4);
	u32 new_off = offset_of_next_tag();
	mbi_tag(MB2_TAG_ACPI_NEW, MB2_RSDP_V2_SIZE);
	mbi_tag(MB2_TAG_ACPI_OLD, MB2_RSDP_V1_SIZE);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.rsdp, MBI_PHYS + new_off + 8);

	/* A tag too short for an RSDP is not one. */
	mbi_begin();
	add_mmap(qemu_map, 4);
	mbi_tag(MB2_TAG_ACPI_OLD, 10);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.rsdp, 0);
}

static void config_named_on_the_command_line(void **state)
{
	(void)state;
	mbi_begin();
	add_cmdline("verbose config=/setups/Lab.CFG");
	add_module(0x300000, 0x300100, "bulkhead.cfg");
	add_module(0x301000, 0x301100, "setups/lab.cfg");
	add_mmap(qemu_map, 4);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_string_equal(info.cmdline, "verbose config=/setups/Lab.CFG");
	assert_int_equal(info.config_file, 1);

	/* No module by that name: no configuration (the hypervisor uses its defaults). */
	mbi_begin();
	add_module(0x300000, 0x300100, "other.cfg");
	add_mmap(qemu_map, 4);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.config_file, -1);
	assert_true(noted("no module is named 'bulkhead.cfg'"));
}

static void long_command_line_is_cut(void **state)
{
	char line[600];

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	mbi_begin();
	add_cmdline(line);
	add_mmap(qemu_map, 4);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(strlen(info.cmdline), BOOT_CMDLINE_MAX - 1);
	assert_true(noted("command line longer"));
}

static void no_memory_information_is_refused(void **state)
{
	(void)state;
	mbi_begin();
	add_module(0x300000, 0x300100, "bulkhead.cfg");
	mbi_end();
	assert_int_equal(parse(), BH_EINVAL);
	assert_true(noted("no memory information"));
	/* boot_info is still recognisable, for whoever reports the failure. */
	assert_int_equal(info.magic, BOOT_INFO_MAGIC);
}

static void basic_meminfo_when_no_map(void **state)
{
	(void)state;
	mbi_begin();
	struct mb2_tag_basic_meminfo *bm =
		(void *)((u8 *)mbi_tag(MB2_TAG_BASIC_MEMINFO, 8) - 8);
	bm->mem_lower = 639;         /* KiB: 0x9fc00 */
	bm->mem_upper = 64 * 1024;   /* 64 MiB from 1 MiB */
	mbi_end();
	assert_int_equal(parse(), 0);
	check_map_sane();
	assert_true(noted("no memory map"));
	assert_int_equal(type_at(0x1000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x4000000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x4100000), 0);
	check_loader(IMAGE_START, IMAGE_END);
}

static void bad_total_size_or_alignment(void **state)
{
	struct mb2_where odd = where;

	(void)state;
	mbi_begin();
	add_mmap(qemu_map, 4);
	mbi_end();
	/* Larger than what may be read. */
	assert_int_equal(mb2_parse(m.buf, m.len - 8, &where, &info, &notes), BH_EINVAL);
	assert_true(noted("bad total size"));
	/* Too small to hold even the end tag. */
	((struct mb2_info_header *)m.buf)->total_size = 12;
	assert_int_equal(parse(), BH_EINVAL);
	/* Nothing at all. */
	assert_int_equal(mb2_parse(NULL, 0, &where, &info, &notes), BH_EINVAL);
	assert_int_equal(mb2_parse(m.buf, 4, &where, &info, &notes), BH_EINVAL);
	/* The structure must be 8-byte aligned. */
	mbi_end();
	odd.mbi_phys = MBI_PHYS + 4;
	assert_int_equal(mb2_parse(m.buf, m.len, &odd, &info, &notes), BH_EINVAL);
}

static void broken_tag_stops_the_walk(void **state)
{
	(void)state;
	/* A tag whose size is below its own header: what follows cannot be found. */
	mbi_begin();
	add_mmap(qemu_map, 4);
	add_module(0x300000, 0x300100, "bulkhead.cfg");
	struct mb2_tag *bad = (struct mb2_tag *)(m.buf + m.len);
	mbi_tag(MB2_TAG_MODULE, 8);
	bad->size = 4;
	add_module(0x400000, 0x400100, "never.seen");
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_true(noted("bad size 4"));
	assert_int_equal(info.file_count, 1);
	assert_int_equal(type_at(0x100000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x400000), BOOT_MEM_USABLE);

	/* A tag that runs past the end of the structure. */
	mbi_begin();
	add_mmap(qemu_map, 4);
	bad = (struct mb2_tag *)(m.buf + m.len);
	mbi_tag(MB2_TAG_CMDLINE, 8);
	mbi_end();
	bad->size = 4096;
	assert_int_equal(parse(), 0);
	assert_true(noted("bad size 4096"));
	assert_string_equal(info.cmdline, "");

	/* The broken tag is the memory map: nothing to go on. */
	mbi_begin();
	bad = (struct mb2_tag *)(m.buf + m.len);
	add_mmap(qemu_map, 4);
	mbi_end();
	bad->size = 0;
	assert_int_equal(parse(), BH_EINVAL);
}

static void missing_end_tag_is_noted(void **state)
{
	(void)state;
	mbi_begin();
	add_mmap(qemu_map, 4);
	((struct mb2_info_header *)m.buf)->total_size = m.len;
	assert_int_equal(parse(), 0);
	assert_true(noted("no end tag"));
	assert_int_equal(type_at(0x100000), BOOT_MEM_USABLE);
}

static void odd_modules(void **state)
{
	char longname[200];

	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	mbi_begin();
	add_mmap(qemu_map, 4);
	add_module(0x300000, 0x300100, "");                /* no name */
	add_module(0x302000, 0x301000, "backwards");       /* ends before it starts */
	add_module(0x303800, 0x303900, "  unaligned  ");   /* not on a page; blanks */
	add_module(0x304000, 0x304000, "empty");           /* zero bytes: fine */
	add_module(0x305000, 0x305010, longname);
	/* A module tag too short to hold its addresses. */
	mbi_tag(MB2_TAG_MODULE, 4);
	mbi_end();
	assert_int_equal(parse(), 0);
	check_map_sane();
	assert_int_equal(info.file_count, 5);
	assert_string_equal(info.files[0].name, "module1");
	assert_int_equal(info.files[0].size, 0x100);
	assert_string_equal(info.files[1].name, "backwards");
	assert_int_equal(info.files[1].error, BH_EINVAL);
	assert_int_equal(info.files[1].size, 0);
	assert_true(noted("ends (0x301000) before it starts (0x302000)"));
	assert_int_equal(type_at(0x301000), BOOT_MEM_USABLE); /* nothing carved for it */
	assert_string_equal(info.files[2].name, "unaligned");
	assert_true(noted("not page aligned"));
	check_loader(0x303800, 0x303900);
	assert_int_equal(info.files[3].size, 0);
	assert_int_equal(strlen(info.files[4].name), BOOT_NAME_MAX - 1);
	assert_true(noted("name longer"));
	assert_true(noted("too short"));
}

static void too_many_modules(void **state)
{
	char name[16];

	(void)state;
	mbi_begin();
	add_mmap(qemu_map, 4);
	for (u32 i = 0; i < BOOT_MAX_FILES + 8; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		add_module(0x1000000 + i * 0x2000, 0x1000000 + i * 0x2000 + 100, name);
	}
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.file_count, BOOT_MAX_FILES);
	assert_true(noted("more than 32 modules: module 33 and later"));
	assert_int_equal(notes.count, 2); /* and: no module is named bulkhead.cfg */
	/* Every module's memory is still kept. */
	for (u32 i = 0; i < BOOT_MAX_FILES + 8; i++)
		check_loader(0x1000000 + i * 0x2000, 0x1000000 + i * 0x2000 + 100);
}

static void overlapping_unsorted_map(void **state)
{
	static const struct ent e[] = {
		{ 0x100000, 0x3f00000, MB2_MEM_AVAILABLE },     /* 1 - 64 MiB */
		{ 0x0, 0x9f800, MB2_MEM_AVAILABLE },
		{ 0x1000000, 0x100000, MB2_MEM_RESERVED },       /* inside the RAM above */
		{ 0x2000000, 0x10000, MB2_MEM_ACPI_RECLAIMABLE },
		{ 0x2008000, 0x10000, MB2_MEM_NVS },             /* overlaps the ACPI tables */
		{ 0x3000000, 0x1000, MB2_MEM_BADRAM },
		{ 0x3800100, 0x1000, 7 },                        /* unknown type: reserved */
		{ 0x4000000, 0x0, MB2_MEM_RESERVED },            /* empty */
		{ 0x5000000, ~0ull, MB2_MEM_AVAILABLE },         /* wraps: to the top */
	};

	(void)state;
	mbi_begin();
	add_mmap(e, sizeof(e) / sizeof(e[0]));
	mbi_end();
	assert_int_equal(parse(), 0);
	check_map_sane();
	assert_int_equal(type_at(0x1000000), BOOT_MEM_RESERVED);
	assert_int_equal(type_at(0x10fffff), BOOT_MEM_RESERVED);
	assert_int_equal(type_at(0x1100000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x2000000), BOOT_MEM_ACPI_RECLAIM);
	assert_int_equal(type_at(0x2008000), BOOT_MEM_ACPI_NVS);
	assert_int_equal(type_at(0x2017fff), BOOT_MEM_ACPI_NVS);
	assert_int_equal(type_at(0x3000000), BOOT_MEM_UNUSABLE);
	assert_int_equal(type_at(0x3800000), 0);               /* the usable page was cut */
	assert_int_equal(type_at(0x3800100), BOOT_MEM_RESERVED);
	assert_int_equal(type_at(0x3802000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x4000000), 0);               /* the hole */
	assert_int_equal(type_at(0x7fffffff00000000ull), BOOT_MEM_USABLE);
	assert_int_equal(info.trampoline, 0x9e000);            /* 0x9f000 is a partial page */
}

static void bigger_map_entries(void **state)
{
	(void)state;
	/* A later entry version may make entries longer: the step is entry_size. */
	mbi_begin();
	add_mmap_sized(qemu_map, 4, 32);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(type_at(0x100000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x9fc00), BOOT_MEM_RESERVED);

	/* Shorter than an entry: the map is ignored. */
	mbi_begin();
	add_mmap_sized(qemu_map, 4, 16);
	mbi_end();
	assert_int_equal(parse(), BH_EINVAL);
	assert_true(noted("memory map tag at offset"));
}

static void huge_map_is_truncated(void **state)
{
	static struct ent e[1000];

	(void)state;
	for (u32 i = 0; i < 1000; i++)
		e[i] = (struct ent){ 0x100000ull + i * 0x2000ull, 0x1000,
				     i % 2 ? MB2_MEM_AVAILABLE : MB2_MEM_RESERVED };
	mbi_begin();
	add_mmap(e, 1000);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.mem_count, BOOT_MAX_MEM);
	check_map_sane();
	assert_true(noted("memory map:"));
}

static void no_low_page_for_the_trampoline(void **state)
{
	static const struct ent e[] = {
		{ 0x0, 0x1000, MB2_MEM_AVAILABLE },     /* page 0 is never used */
		{ 0x100000, 0x4000000, MB2_MEM_AVAILABLE },
	};

	(void)state;
	mbi_begin();
	add_mmap(e, 2);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.trampoline, 0);
	assert_true(noted("no free page below"));
}

static void take_pages(void **state)
{
	u64 a = 0;

	(void)state;
	memset(&info, 0, sizeof(info));
	info.mem[0] = (struct boot_mem_region){ 0x0, 0x9f000, BOOT_MEM_USABLE };
	info.mem[1] = (struct boot_mem_region){ 0x100000, 0x100000, BOOT_MEM_USABLE };
	info.mem[2] = (struct boot_mem_region){ 0x200000, 0x100000, BOOT_MEM_RESERVED };
	info.mem_count = 3;

	/* From the top of the highest region under the limit; the region splits. */
	assert_int_equal(mb2_take_pages(&info, 2, 0x180000, &a), 0);
	assert_int_equal(a, 0x17e000);
	assert_int_equal(info.mem_count, 5);
	assert_int_equal(type_at(0x17e000), BOOT_MEM_LOADER);
	assert_int_equal(type_at(0x17f000), BOOT_MEM_LOADER);
	assert_int_equal(type_at(0x17d000), BOOT_MEM_USABLE);
	assert_int_equal(type_at(0x180000), BOOT_MEM_USABLE);
	check_map_sane();

	/* The whole top of a region: no piece above. */
	assert_int_equal(mb2_take_pages(&info, 1, 0x300000, &a), 0);
	assert_int_equal(a, 0x1ff000);
	check_map_sane();

	/* Never page 0; nothing fits. */
	assert_int_equal(mb2_take_pages(&info, 1, 0x1000, &a), BH_ENOMEM);
	assert_int_equal(mb2_take_pages(&info, 0x200, 0x9f000, &a), BH_ENOMEM);
	assert_int_equal(mb2_take_pages(&info, 0, 0x9f000, &a), BH_ENOMEM);
	assert_int_equal(mb2_take_pages(&info, 0x9e, 0x9f000, &a), 0);
	assert_int_equal(a, 0x1000);

	/* A full map cannot split. */
	memset(&info, 0, sizeof(info));
	for (u32 i = 0; i < BOOT_MAX_MEM; i++)
		info.mem[i] = (struct boot_mem_region){ i * 0x10000ull, 0x8000,
							i == 3 ? BOOT_MEM_USABLE : BOOT_MEM_RESERVED };
	info.mem_count = BOOT_MAX_MEM;
	assert_int_equal(mb2_take_pages(&info, 1, 0x34000, &a), BH_ENOMEM);
	assert_int_equal(mb2_take_pages(&info, 8, 0x40000, &a), 0); /* exactly the region */
	assert_int_equal(a, 0x30000);
}

static void same_path(void **state)
{
	(void)state;
	assert_true(mb2_same_path("guests/hello.elf", "guests/hello.elf"));
	assert_true(mb2_same_path("/guests/hello.elf", "guests/hello.elf"));
	assert_true(mb2_same_path("\\Guests\\HELLO.elf", "//guests/hello.ELF"));
	assert_false(mb2_same_path("guests/hello.elf", "guests/hello.elf2"));
	assert_false(mb2_same_path("guests/hello", "guests/hello.elf"));
	assert_false(mb2_same_path("guests_hello.elf", "guests/hello.elf"));
	assert_true(mb2_same_path("", "/"));
}

static void files_named_by_the_configuration(void **state)
{
	static struct config cfg;
	static const char text[] =
		"[partition a]\n"
		"cpus = 1\n"
		"memory = 16M\n"
		"kernel = /Guests/Hello.ELF name=a\n"
		"module = guests/data.bin\n"
		"[partition b]\n"
		"cpus = 2\n"
		"memory = 16M\n"
		"kernel = guests/hello.elf\n"
		"initrd = guests/missing.img\n";

	(void)state;
	mbi_begin();
	add_module(0x300000, 0x300000 + sizeof(text) - 1, "bulkhead.cfg");
	add_module(0x301000, 0x302000, "guests/hello.elf");
	add_module(0x303000, 0x303010, "\\guests\\data.bin");
	add_module(0x304000, 0x304010, "unused.bin");
	add_mmap(qemu_map, 4);
	mbi_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.config_file, 0);
	config_defaults(&cfg);
	config_parse(&cfg, text, sizeof(text) - 1);
	assert_int_equal(cfg.error_count, 0);

	mb2_name_files(&info, &cfg, &notes);
	/* Renamed to the configuration's spelling; the other spelling is the same memory. */
	assert_string_equal(info.files[1].name, "/Guests/Hello.ELF");
	assert_string_equal(info.files[2].name, "guests/data.bin");
	assert_string_equal(info.files[3].name, "unused.bin");
	assert_int_equal(info.file_count, 6);
	assert_string_equal(info.files[4].name, "guests/hello.elf");
	assert_int_equal(info.files[4].addr, 0x301000);
	assert_int_equal(info.files[4].size, 0x1000);
	assert_int_equal(info.files[4].error, 0);
	assert_string_equal(info.files[5].name, "guests/missing.img");
	assert_int_equal(info.files[5].error, BH_ENOENT);
	assert_int_equal(info.files[5].size, 0);
	/* The configuration keeps its place and name. */
	assert_string_equal(info.files[0].name, "bulkhead.cfg");
	assert_int_equal(info.config_file, 0);

	/* Named a second time: nothing changes. */
	mb2_name_files(&info, &cfg, &notes);
	assert_int_equal(info.file_count, 6);
}

static void too_many_named_files(void **state)
{
	static struct config cfg;
	static char text[8192];
	char name[16];
	size_t n = 0;

	(void)state;
	for (u32 p = 0; p < 8; p++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[partition p%u]\ncpus = %u\nmemory = 16M\n", p, p + 1);
		for (u32 k = 0; k < 5; k++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s = f%u_%u\n",
					      k ? "module" : "kernel", p, k);
	}
	mbi_begin();
	add_module(0x300000, 0x300100, "bulkhead.cfg");
	for (u32 i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "F0_%u", i);
		add_module(0x301000 + i * 0x1000, 0x301100 + i * 0x1000, name);
	}
	add_mmap(qemu_map, 4);
	mbi_end();
	assert_int_equal(parse(), 0);
	config_defaults(&cfg);
	config_parse(&cfg, text, n);
	mb2_name_files(&info, &cfg, &notes);
	assert_int_equal(info.file_count, BOOT_MAX_FILES);
	assert_string_equal(info.files[1].name, "f0_0");
	assert_int_equal(info.files[1].addr, 0x301000);
	assert_true(noted("too many files"));
}

static void firmware_rsdp(void **state)
{
	static u8 area[0x20000];
	u8 copy[MB2_RSDP_V1_SIZE];

	(void)state;
	memset(area, 0, sizeof(area));
	for (u32 i = 0; i < sizeof(copy); i++)
		copy[i] = (u8)(0x40 + i);
	memcpy(copy, "RSD PTR ", 8);
	/* Unaligned copies do not count. */
	memcpy(area + 0x1008, copy, sizeof(copy));
	assert_int_equal(mb2_find_rsdp(area, 0xe0000, sizeof(area), copy, sizeof(copy)), 0);
	memcpy(area + 0x159e0, copy, sizeof(copy));
	assert_int_equal(mb2_find_rsdp(area, 0xe0000, sizeof(area), copy, sizeof(copy)),
			 0xe0000 + 0x159e0);
	/* At the very end of the area. */
	memset(area, 0, sizeof(area));
	memcpy(area + sizeof(area) - 32, copy, sizeof(copy));
	assert_int_equal(mb2_find_rsdp(area, 0xe0000, sizeof(area), copy, sizeof(copy)),
			 0xe0000 + sizeof(area) - 32);
	/* An area that does not start on 16 bytes: offsets follow the physical alignment. */
	assert_int_equal(mb2_find_rsdp(area + 8, 0xe0008, sizeof(area) - 8, copy, sizeof(copy)),
			 0xe0000 + sizeof(area) - 32);
	assert_int_equal(mb2_find_rsdp(area, 0xe0000, 10, copy, sizeof(copy)), 0);
	assert_int_equal(mb2_find_rsdp(NULL, 0xe0000, sizeof(area), copy, sizeof(copy)), 0);
}

/* Mutation fuzzing: random bytes of a typical structure changed, random truncations; the parser
 * may refuse it but must never read outside it (ASan) and must leave a sane boot_info. */
static u64 rng_state = 0x6d62326d62326d62ull;

static u64 rng(void)
{
	u64 z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void fuzz_tag_lists(void **state)
{
	static struct config cfg;
	static const char text[] = "[partition a]\ncpus = 1\nmemory = 16M\n"
				   "kernel = guests/a.elf\nmodule = /B.bin\n";
	static u8 base[sizeof(m.buf)];
	u32 base_len;

	(void)state;
	mbi_begin();
	add_cmdline("config=bulkhead.cfg");
	add_module(0x15a000, 0x15a100, "bulkhead.cfg");
	add_module(0x15b000, 0x15c000, "guests/a.elf");
	add_module(0x15d000, 0x15d010, "b.bin x");
	add_mmap(qemu_map, sizeof(qemu_map) / sizeof(qemu_map[0]));
	mbi_tag(MB2_TAG_ACPI_NEW, MB2_RSDP_V2_SIZE);
	base_len = mbi_end();
	memcpy(base, m.buf, base_len);
	config_defaults(&cfg);
	config_parse(&cfg, text, sizeof(text) - 1);

	for (u32 round = 0; round < 20000; round++) {
		u32 len = base_len, flips = 1 + (u32)(rng() % 8);
		u8 *copy;

		for (u32 i = 0; i < flips; i++) {
			u32 at = (u32)(rng() % base_len);

			m.buf[at] = rng() % 4 ? (u8)rng() : 0xff;
		}
		if (rng() % 8 == 0)
			len = (u32)(rng() % base_len);
		/* A heap copy of exactly `len` bytes: ASan sees any read past it. */
		copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, m.buf, len);
		if (mb2_parse(copy, len, &where, &info, &notes) == 0) {
			check_map_sane();
			assert_true(info.file_count <= BOOT_MAX_FILES);
			assert_true(info.config_file < (s32)info.file_count);
			for (u32 i = 0; i < info.file_count; i++)
				assert_true(strlen(info.files[i].name) < BOOT_NAME_MAX);
			assert_true(strlen(info.cmdline) < BOOT_CMDLINE_MAX);
			assert_true(info.trampoline == 0 || (info.trampoline >= PAGE_SIZE &&
							     info.trampoline < MB2_TRAMPOLINE_LIMIT));
			mb2_name_files(&info, &cfg, &notes);
			assert_true(info.file_count <= BOOT_MAX_FILES);
		}
		assert_int_equal(info.magic, BOOT_INFO_MAGIC);
		free(copy);
		memcpy(m.buf, base, base_len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(typical_bios_boot),
		cmocka_unit_test(windows_with_ram_above_4g),
		cmocka_unit_test(acpi_new_rsdp_preferred),
		cmocka_unit_test(config_named_on_the_command_line),
		cmocka_unit_test(long_command_line_is_cut),
		cmocka_unit_test(no_memory_information_is_refused),
		cmocka_unit_test(basic_meminfo_when_no_map),
		cmocka_unit_test(bad_total_size_or_alignment),
		cmocka_unit_test(broken_tag_stops_the_walk),
		cmocka_unit_test(missing_end_tag_is_noted),
		cmocka_unit_test(odd_modules),
		cmocka_unit_test(too_many_modules),
		cmocka_unit_test(overlapping_unsorted_map),
		cmocka_unit_test(bigger_map_entries),
		cmocka_unit_test(huge_map_is_truncated),
		cmocka_unit_test(no_low_page_for_the_trampoline),
		cmocka_unit_test(take_pages),
		cmocka_unit_test(same_path),
		cmocka_unit_test(files_named_by_the_configuration),
		cmocka_unit_test(too_many_named_files),
		cmocka_unit_test(firmware_rsdp),
		cmocka_unit_test(fuzz_tag_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
