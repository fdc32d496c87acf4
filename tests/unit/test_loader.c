/* Unit tests for the guest kernel loaders (hv/loader*.c): Multiboot 1, Multiboot 2 and plain
 * ELF64. Images are built here byte by byte; guest RAM is a host buffer of exactly its size, so
 * AddressSanitizer catches any write outside it. Structures are read back with this file's own
 * little-endian readers and layouts taken from the specifications, not from the code under test. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "types.h"
#include "lib/error.h"
#include "hv/loader.h"

/* ---------------------------------------------------------------------------------------- */
/* constants, spelled out from the specifications */

#define MB1_MAGIC 0x1BADB002u
#define MB1_EAX 0x2BADB002u
#define MB2_MAGIC 0xE85250D6u
#define MB2_EAX 0x36D76289u

#define PT_LOAD 1
#define PT_INTERP 3
#define PT_NOTE 4
#define EM_386 3
#define EM_X86_64 62

#define RAM_SIZE (32 * MiB)
#define FUZZ_RAM_SIZE (4 * MiB)
#define IMG_CAP (64 * 1024)
#define LD_TEST_STR 4097 /* a string one byte too long for the loader */

/* ---------------------------------------------------------------------------------------- */
/* little-endian access */

static void w16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void w32(u8 *p, u32 v) { w16(p, (u16)v); w16(p + 2, (u16)(v >> 16)); }
static void w64(u8 *p, u64 v) { w32(p, (u32)v); w32(p + 4, (u32)(v >> 32)); }
static u16 r16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 r32(const u8 *p) { return r16(p) | (u32)r16(p + 2) << 16; }
static u64 r64(const u8 *p) { return r32(p) | (u64)r32(p + 4) << 32; }

/* ---------------------------------------------------------------------------------------- */
/* fixed-seed random numbers (splitmix64) */

static u64 rng_state;

static u64 rng(void)
{
	u64 z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static u64 rng_below(u64 n)
{
	return n ? rng() % n : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* fixture: guest RAM, the image being built, the entry and the reason */

static u8 *ram;
static u64 ram_size;
static bool ram_mapped;
static struct guest_ram gram;
static u8 img[IMG_CAP];
static u64 img_size;
static struct guest_entry entry;
static char why[256];

static void ram_alloc(u64 size)
{
	ram_size = size;
	ram_mapped = size > 256 * MiB;
	if (ram_mapped) {
		/* large RAM: pages are only touched where the loader writes */
		ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			   MAP_NORESERVE, -1, 0);
		assert_true(ram != MAP_FAILED);
	} else {
		ram = malloc(size);
		assert_non_null(ram);
		memset(ram, 0xCC, size); /* the loader must write everything it relies on */
	}
	gram = (struct guest_ram){ ram, size };
}

static void ram_free(void)
{
	if (ram_mapped)
		munmap(ram, ram_size);
	else
		free(ram);
	ram = NULL;
}

static int setup(void **state)
{
	(void)state;
	ram_alloc(RAM_SIZE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ram_free();
	return 0;
}

static int load_as(const char *name, const char *cmdline, const struct guest_blob *mods, u32 n)
{
	struct guest_blob k = { img, img_size, name, "" };

	memset(&entry, 0x5A, sizeof(entry));
	memset(why, 'X', sizeof(why));
	return loader_load(&gram, &k, cmdline, mods, n, &entry, why, sizeof(why));
}

static int load(void)
{
	return load_as("k.elf", "", NULL, 0);
}

#define assert_ok(expr) do { int rc_ = (expr); if (rc_) fail_msg("rc %d: %s", rc_, why); } \
	while (0)

/* Fails with `err` and a one-line reason that names the file and contains `part`. */
static void expect_fail(int rc, int err, const char *name, const char *part)
{
	if (rc != err)
		fail_msg("expected %d, got %d: %s", err, rc, rc ? why : "(success)");
	assert_true(strlen(why) < sizeof(why) - 1);
	assert_null(strchr(why, '\n'));
	assert_int_equal(strncmp(why, name, strlen(name)), 0);
	assert_int_equal(strncmp(why + strlen(name), ": ", 2), 0);
	if (part && !strstr(why, part))
		fail_msg("reason '%s' lacks '%s'", why, part);
}

static void expect_load_fail(int err, const char *part)
{
	expect_fail(load(), err, "k.elf", part);
}

/* ---------------------------------------------------------------------------------------- */
/* image builders */

static u8 pat(u64 x)
{
	return (u8)(x * 131u + 7u + (x >> 8));
}

static void img_fill(u64 size)
{
	assert_true(size <= IMG_CAP);
	img_size = size;
	for (u64 i = 0; i < size; i++)
		img[i] = pat(i);
}

struct seg {
	u32 type;
	u64 off, vaddr, paddr, filesz, memsz, align;
};

static void put_elf(bool is64, u16 machine, u64 entry_va, const struct seg *s, u32 n)
{
	u32 eh = is64 ? 64 : 52, ph = is64 ? 56 : 32;

	memset(img, 0, eh + (u64)n * ph);
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	w16(img + 16, 2);
	w16(img + 18, machine);
	w32(img + 20, 1);
	if (is64) {
		w64(img + 24, entry_va);
		w64(img + 32, eh);
		w16(img + 52, (u16)eh);
		w16(img + 54, (u16)ph);
		w16(img + 56, (u16)n);
	} else {
		w32(img + 24, (u32)entry_va);
		w32(img + 28, eh);
		w16(img + 40, (u16)eh);
		w16(img + 42, (u16)ph);
		w16(img + 44, (u16)n);
	}
	for (u32 i = 0; i < n; i++) {
		u8 *p = img + eh + (u64)i * ph;

		if (is64) {
			w32(p, s[i].type);
			w32(p + 4, 5);
			w64(p + 8, s[i].off);
			w64(p + 16, s[i].vaddr);
			w64(p + 24, s[i].paddr);
			w64(p + 32, s[i].filesz);
			w64(p + 40, s[i].memsz);
			w64(p + 48, s[i].align);
		} else {
			w32(p, s[i].type);
			w32(p + 4, (u32)s[i].off);
			w32(p + 8, (u32)s[i].vaddr);
			w32(p + 12, (u32)s[i].paddr);
			w32(p + 16, (u32)s[i].filesz);
			w32(p + 20, (u32)s[i].memsz);
			w32(p + 24, 5);
			w32(p + 28, (u32)s[i].align);
		}
	}
}

/* program header i of the ELF64 image, to corrupt */
static u8 *ph64(u32 i)
{
	return img + 64 + (u64)i * 56;
}

/* Plain ELF64: text file 0x1000+0x1800 -> 0x200000, a note, data file 0x3000+0x800 -> 0x203000
 * with 0x2800 bytes of bss. */
static const struct seg elf64_segs[] = {
	{ PT_LOAD, 0x1000, 0x200000, 0x200000, 0x1800, 0x1800, 0x1000 },
	{ PT_NOTE, 0x2800, 0, 0, 0x10, 0x10, 4 },
	{ PT_LOAD, 0x3000, 0x203000, 0x203000, 0x800, 0x3000, 0x1000 },
};
#define ELF64_ENTRY 0x200010

static void make_elf64(void)
{
	img_fill(0x3800);
	put_elf(true, EM_X86_64, ELF64_ENTRY, elf64_segs, 3);
}

/* A multiboot kernel: text file 0x1000+0x1000 -> 0x100000, data file 0x2000+0x200 -> 0x101000
 * with bss up to 0x103000. The header sits at file offset 0x1000. */
static const struct seg mb_segs[] = {
	{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000, 0x1000 },
	{ PT_LOAD, 0x2000, 0x101000, 0x101000, 0x200, 0x2000, 0x1000 },
};
#define MB_ENTRY 0x100020
#define MB_HDR 0x1000

static void put_mb1(u64 off, u32 flags)
{
	w32(img + off, MB1_MAGIC);
	w32(img + off + 4, flags);
	w32(img + off + 8, (u32)-(MB1_MAGIC + flags));
}

static void put_mb1_aout(u64 off, u32 flags, u32 header_addr, u32 load_addr, u32 load_end,
			 u32 bss_end, u32 entry_addr)
{
	put_mb1(off, flags | 1u << 16);
	w32(img + off + 12, header_addr);
	w32(img + off + 16, load_addr);
	w32(img + off + 20, load_end);
	w32(img + off + 24, bss_end);
	w32(img + off + 28, entry_addr);
}

static void make_mb1_elf(bool is64, u32 flags)
{
	img_fill(0x2200);
	put_elf(is64, is64 ? EM_X86_64 : EM_386, MB_ENTRY, mb_segs, 2);
	put_mb1(MB_HDR, flags);
}

/* Raw a.out-style image: header at file offset 0x40 for address 0x100040, the file's first
 * 0x1000 bytes load at 0x100000, bss up to 0x104000. */
static void make_mb1_aout(void)
{
	img_fill(0x1200);
	put_mb1_aout(0x40, 3, 0x100040, 0x100000, 0x101000, 0x104000, 0x100080);
}

static u64 mb2_off, mb2_len;

static void mb2_begin(u64 off)
{
	mb2_off = off;
	mb2_len = 16;
}

static void mb2_tag(u16 type, u16 flags, const u32 *words, u32 n)
{
	u8 *t = img + mb2_off + mb2_len;

	w16(t, type);
	w16(t + 2, flags);
	w32(t + 4, 8 + 4 * n);
	for (u32 i = 0; i < n; i++)
		w32(t + 8 + 4 * i, words[i]);
	mb2_len += ALIGN_UP(8 + 4 * (u64)n, 8);
}

static void mb2_seal_as(u32 arch, u32 len)
{
	u8 *h = img + mb2_off;

	w32(h, MB2_MAGIC);
	w32(h + 4, arch);
	w32(h + 8, len);
	w32(h + 12, (u32)-(MB2_MAGIC + arch + len));
}

static void mb2_finish(void)
{
	mb2_tag(0, 0, NULL, 0);
	mb2_seal_as(0, (u32)mb2_len);
}

/* The multiboot kernel layout as ELF64 with a Multiboot2 header started at 0x1000; the caller
 * adds tags and calls mb2_finish(). */
static void mb2_elf_begin(void)
{
	img_fill(0x2200);
	put_elf(true, EM_X86_64, MB_ENTRY, mb_segs, 2);
	mb2_begin(MB_HDR);
}

static void make_mb2_elf(void)
{
	static const u32 req[] = { 1, 6 }, console[] = { 0 }, fb[] = { 1024, 768, 32 };

	mb2_elf_begin();
	mb2_tag(1, 0, req, 2);
	mb2_tag(4, 0, console, 1);
	mb2_tag(6, 0, NULL, 0);
	mb2_tag(5, 0, fb, 3);
	mb2_finish();
}

/* Raw image with address and entry tags: header at file offset 0x80 for address 0x100080. */
static void make_mb2_aout(u32 load_addr, u32 load_end, u32 bss_end, u32 entry_addr)
{
	const u32 addr[] = { 0x100080, load_addr, load_end, bss_end }, e[] = { entry_addr };

	img_fill(0x1400);
	mb2_begin(0x80);
	mb2_tag(2, 0, addr, 4);
	mb2_tag(3, 0, e, 1);
	mb2_finish();
}

/* ---------------------------------------------------------------------------------------- */
/* checks on what was loaded */

static void assert_ram_is_image(u64 gpa, u64 off, u64 len)
{
	assert_true(gpa + len <= ram_size && off + len <= img_size);
	if (memcmp(ram + gpa, img + off, len))
		fail_msg("RAM at 0x%llx differs from file offset 0x%llx", (unsigned long long)gpa,
			 (unsigned long long)off);
}

static void assert_ram_zero(u64 gpa, u64 len)
{
	assert_true(gpa + len <= ram_size);
	for (u64 i = 0; i < len; i++) {
		if (ram[gpa + i])
			fail_msg("RAM at 0x%llx is 0x%02x, expected 0", (unsigned long long)(gpa + i),
				 ram[gpa + i]);
	}
}

static const char *ram_str(u64 gpa)
{
	assert_true(gpa < ram_size);
	assert_non_null(memchr(ram + gpa, 0, ram_size - gpa));
	return (const char *)ram + gpa;
}

/* pairwise disjoint ranges */
struct range {
	u64 a, n;
	const char *what;
};
static struct range ranges[1024];
static u32 nranges;

static void range_add(u64 a, u64 n, const char *what)
{
	assert_true(nranges < ARRAY_SIZE(ranges));
	assert_true(a + n <= ram_size);
	ranges[nranges++] = (struct range){ a, n, what };
}

static void assert_disjoint(void)
{
	for (u32 i = 0; i < nranges; i++)
		for (u32 j = i + 1; j < nranges; j++)
			if (ranges[i].n && ranges[j].n && ranges[i].a < ranges[j].a + ranges[j].n &&
			    ranges[j].a < ranges[i].a + ranges[i].n)
				fail_msg("%s 0x%llx+0x%llx overlaps %s 0x%llx+0x%llx", ranges[i].what,
					 (unsigned long long)ranges[i].a,
					 (unsigned long long)ranges[i].n, ranges[j].what,
					 (unsigned long long)ranges[j].a,
					 (unsigned long long)ranges[j].n);
	nranges = 0;
}

/* A flat descriptor: base 0, limit 4 GiB, present, DPL 0. */
static void assert_desc(u64 d, bool code, bool long64)
{
	u64 base = ((d >> 16) & 0xFFFFFF) | ((d >> 56) << 24);
	u64 limit = (d & 0xFFFF) | ((d >> 48) & 0xF) << 16;
	u32 access = (d >> 40) & 0xFF, flags = (d >> 52) & 0xF;

	assert_int_equal(base, 0);
	assert_int_equal(limit, 0xFFFFF);
	assert_true(access & 0x80);             /* present */
	assert_int_equal((access >> 5) & 3, 0); /* DPL */
	assert_true(access & 0x10);             /* code/data, not system */
	assert_int_equal(!!(access & 0x08), code);
	assert_true(access & 0x02);             /* readable code / writable data */
	assert_true(flags & 0x8);               /* 4 KiB granularity */
	if (code && long64) {
		assert_true(flags & 0x2);       /* L */
		assert_false(flags & 0x4);      /* D must be 0 with L */
	} else {
		assert_false(flags & 0x2);
		assert_true(flags & 0x4);       /* 32-bit */
	}
}

static void assert_entry_gdt(bool long64)
{
	assert_int_equal(entry.cs, 0x08);
	assert_int_equal(entry.ds, 0x10);
	assert_int_equal(entry.gdt_limit, 23);
	assert_true(entry.gdt_base && entry.gdt_base + 24 <= ram_size);
	assert_int_equal(r64(ram + entry.gdt_base), 0);
	assert_desc(r64(ram + entry.gdt_base + 8), true, long64);
	assert_desc(r64(ram + entry.gdt_base + 16), false, false);
	assert_int_equal(entry.rsp, 0);
	range_add(entry.gdt_base, 24, "GDT");
}

struct mmap_entry {
	u64 base, len;
	u32 type;
};

static void assert_mmap(const struct mmap_entry *e, u32 n)
{
	assert_int_equal(n, 3);
	assert_int_equal(e[0].base, 0);
	assert_int_equal(e[0].len, 0x9F000);
	assert_int_equal(e[0].type, 1);
	assert_int_equal(e[1].base, 0x9F000);
	assert_int_equal(e[1].len, 0x61000);
	assert_int_equal(e[1].type, 2);
	assert_int_equal(e[2].base, 0x100000);
	assert_int_equal(e[2].len, ram_size - 0x100000);
	assert_int_equal(e[2].type, 1);
}

/* Multiboot 1 information (spec 3.3) */
static void check_mb1_info(u64 info, const char *cmdline, const struct guest_blob *mods, u32 n)
{
	const u8 *p = ram + info;
	struct mmap_entry map[8];
	u32 flags, nmap = 0;
	u64 mmap, mmap_len, mods_addr;

	assert_true(info + 116 <= ram_size);
	range_add(info, 116, "multiboot info");
	flags = r32(p);
	assert_true(flags & (1u << 0)); /* mem_lower/upper */
	assert_true(flags & (1u << 2)); /* cmdline */
	assert_true(flags & (1u << 3)); /* mods */
	assert_true(flags & (1u << 6)); /* mmap */
	assert_true(flags & (1u << 9)); /* boot loader name */
	assert_false(flags & (1u << 1 | 1u << 4 | 1u << 5 | 1u << 11 | 1u << 12));
	assert_int_equal(r32(p + 4), 636);
	assert_int_equal(r32(p + 8), (ram_size - MiB) / KiB);
	assert_string_equal(ram_str(r32(p + 16)), cmdline);
	range_add(r32(p + 16), strlen(cmdline) + 1, "cmdline");
	assert_string_equal(ram_str(r32(p + 64)), "Bulkhead");
	range_add(r32(p + 64), 9, "loader name");

	assert_int_equal(r32(p + 20), n);
	mods_addr = r32(p + 24);
	if (n)
		range_add(mods_addr, 16ULL * n, "module list");
	for (u32 i = 0; i < n; i++) {
		const u8 *m = ram + mods_addr + 16ULL * i;
		u32 start = r32(m), end = r32(m + 4);

		assert_int_equal(start % PAGE_SIZE, 0);
		assert_int_equal(end - start, mods[i].size);
		assert_memory_equal(ram + start, mods[i].data, mods[i].size);
		assert_string_equal(ram_str(r32(m + 8)), mods[i].args);
		range_add(r32(m + 8), strlen(mods[i].args) + 1, "module string");
		range_add(start, end - start, "module");
	}

	mmap_len = r32(p + 44);
	mmap = r32(p + 48);
	range_add(mmap, mmap_len, "mmap");
	for (u64 off = 0; off < mmap_len; off += r32(ram + mmap + off) + 4) {
		const u8 *e = ram + mmap + off;

		assert_true(nmap < ARRAY_SIZE(map));
		assert_int_equal(r32(e), 20);
		map[nmap++] = (struct mmap_entry){ r64(e + 4), r64(e + 12), r32(e + 20) };
	}
	assert_mmap(map, nmap);
}

/* Multiboot 2 information (spec 3.6), parsed into this */
struct mbi {
	u32 total;
	const char *cmdline, *loader;
	u32 nmod;
	u32 mod_start[16], mod_end[16];
	const char *mod_str[16];
	bool meminfo, load_base;
	u32 mem_lower, mem_upper, load_base_addr;
	struct mmap_entry map[8];
	u32 nmap;
};

static void parse_mbi(u64 addr, struct mbi *m)
{
	const u8 *p = ram + addr;
	u64 off = 8;

	memset(m, 0, sizeof(*m));
	assert_int_equal(addr % 8, 0);
	assert_true(addr + 16 <= ram_size);
	m->total = r32(p);
	assert_int_equal(r32(p + 4), 0);
	assert_true(addr + m->total <= ram_size);
	range_add(addr, m->total, "multiboot2 info");
	for (;;) {
		const u8 *t = p + off;
		u32 type, size;

		assert_true(off + 8 <= m->total);
		type = r32(t);
		size = r32(t + 4);
		assert_true(size >= 8 && off + size <= m->total);
		switch (type) {
		case 0:
			assert_int_equal(size, 8);
			assert_int_equal(off + 8, m->total);
			return;
		case 1:
			assert_non_null(memchr(t + 8, 0, size - 8));
			assert_int_equal(strlen((const char *)t + 8), size - 9);
			m->cmdline = (const char *)t + 8;
			break;
		case 2:
			assert_non_null(memchr(t + 8, 0, size - 8));
			m->loader = (const char *)t + 8;
			break;
		case 3:
			assert_true(size > 16 && m->nmod < 16);
			assert_non_null(memchr(t + 16, 0, size - 16));
			m->mod_start[m->nmod] = r32(t + 8);
			m->mod_end[m->nmod] = r32(t + 12);
			m->mod_str[m->nmod++] = (const char *)t + 16;
			break;
		case 4:
			assert_int_equal(size, 16);
			m->meminfo = true;
			m->mem_lower = r32(t + 8);
			m->mem_upper = r32(t + 12);
			break;
		case 6:
			assert_int_equal(r32(t + 8), 24);  /* entry_size */
			assert_int_equal(r32(t + 12), 0);  /* entry_version */
			assert_int_equal((size - 16) % 24, 0);
			for (u32 i = 0; i < (size - 16) / 24; i++) {
				const u8 *e = t + 16 + 24 * i;

				assert_true(m->nmap < ARRAY_SIZE(m->map));
				m->map[m->nmap++] = (struct mmap_entry){ r64(e), r64(e + 8), r32(e + 16) };
			}
			break;
		case 21:
			assert_int_equal(size, 12);
			m->load_base = true;
			m->load_base_addr = r32(t + 8);
			break;
		default:
			fail_msg("unexpected multiboot2 info tag %u", type);
		}
		off += ALIGN_UP((u64)size, 8);
	}
}

static void check_mbi(u64 addr, const char *cmdline, const struct guest_blob *mods, u32 n,
		      struct mbi *m)
{
	parse_mbi(addr, m);
	assert_non_null(m->cmdline);
	assert_string_equal(m->cmdline, cmdline);
	assert_non_null(m->loader);
	assert_string_equal(m->loader, "Bulkhead");
	assert_true(m->meminfo);
	assert_int_equal(m->mem_lower, 636);
	assert_int_equal(m->mem_upper, (ram_size - MiB) / KiB);
	assert_mmap(m->map, m->nmap);
	assert_int_equal(m->nmod, n);
	for (u32 i = 0; i < n; i++) {
		assert_int_equal(m->mod_start[i] % PAGE_SIZE, 0);
		assert_int_equal(m->mod_end[i] - m->mod_start[i], mods[i].size);
		assert_memory_equal(ram + m->mod_start[i], mods[i].data, mods[i].size);
		assert_string_equal(m->mod_str[i], mods[i].args);
		range_add(m->mod_start[i], mods[i].size, "module");
	}
}

/* module contents */
static u8 mod_a[5000], mod_b[100], mod_c[PAGE_SIZE];

static void mods_fill(void)
{
	for (u32 i = 0; i < sizeof(mod_a); i++)
		mod_a[i] = (u8)(i * 7 + 1);
	for (u32 i = 0; i < sizeof(mod_b); i++)
		mod_b[i] = (u8)(0xA0 + i);
	for (u32 i = 0; i < sizeof(mod_c); i++)
		mod_c[i] = (u8)(i ^ 0x5A);
}

static const struct guest_blob test_mods[] = {
	{ mod_a, sizeof(mod_a), "initrd.img", "initrd.img root=/dev/ram0" },
	{ mod_b, sizeof(mod_b), "b.bin", "" },
	{ mod_c, sizeof(mod_c), "c.bin", "third module" },
};

/* ---------------------------------------------------------------------------------------- */
/* detection */

static void test_detect_basics(void **state)
{
	static const u8 one[1] = { 0x7F };
	static const u8 elf64_ident[5] = { 0x7F, 'E', 'L', 'F', 2 };
	static const u8 elf32_ident[5] = { 0x7F, 'E', 'L', 'F', 1 };

	(void)state;
	assert_int_equal(loader_detect(NULL, 0), GUEST_FORMAT_UNKNOWN);
	assert_int_equal(loader_detect(one, 0), GUEST_FORMAT_UNKNOWN);
	assert_int_equal(loader_detect(one, 1), GUEST_FORMAT_UNKNOWN);
	assert_int_equal(loader_detect(elf64_ident, 5), GUEST_FORMAT_ELF64);
	assert_int_equal(loader_detect(elf32_ident, 5), GUEST_FORMAT_UNKNOWN);
	assert_int_equal(loader_detect(elf64_ident, 4), GUEST_FORMAT_UNKNOWN);

	make_elf64();
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_ELF64);
	make_mb1_elf(false, 3);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT1);
	make_mb1_aout();
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT1);
	make_mb2_elf();
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT2);

	assert_string_equal(loader_format_name(GUEST_FORMAT_MULTIBOOT1), "multiboot");
	assert_string_equal(loader_format_name(GUEST_FORMAT_MULTIBOOT2), "multiboot2");
	assert_string_equal(loader_format_name(GUEST_FORMAT_ELF64), "ELF64");
	assert_string_equal(loader_format_name(GUEST_FORMAT_UNKNOWN), "unknown");
	assert_string_equal(loader_format_name((enum guest_format)77), "unknown");
}

static void test_detect_priority(void **state)
{
	(void)state;
	/* Multiboot 2 wins over Multiboot 1 wins over ELF64, wherever they sit */
	make_mb1_elf(true, 3);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT1);
	mb2_begin(0x1100);
	mb2_finish();
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT2);
	assert_ok(load());
	assert_int_equal(entry.rax, MB2_EAX);

	/* a valid header beats an earlier one with a bad checksum */
	make_mb1_elf(false, 3);
	put_mb1(0x800, 3);
	img[0x808] ^= 1;
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT1);
	assert_ok(load());
	assert_int_equal(entry.rax, MB1_EAX);

	/* a broken Multiboot 2 header does not hide a good Multiboot 1 header */
	make_mb1_elf(false, 3);
	mb2_begin(0x1100);
	mb2_finish();
	img[0x1100 + 12] ^= 0x10;
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT1);

	/* but alone it claims the file, so its owner hears about the checksum */
	make_elf64();
	mb2_begin(0x1100);
	mb2_finish();
	img[0x1100 + 12] ^= 0x10;
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT2);
	expect_load_fail(BH_EINVAL, "multiboot2 header checksum mismatch");
}

static void test_detect_windows(void **state)
{
	(void)state;
	/* Multiboot 1: 4-aligned, all 12 bytes in the first 8192 */
	img_fill(0x4000);
	put_mb1(8192 - 12, 3);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT1);
	img_fill(0x4000);
	put_mb1(8192 - 8, 3);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
	img_fill(0x4000);
	put_mb1(8192, 3);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
	img_fill(0x4000);
	put_mb1(0x102, 3);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
	/* ... and inside the file */
	img_fill(0x4000);
	put_mb1(0x100, 3);
	assert_int_equal(loader_detect(img, 0x10C), GUEST_FORMAT_MULTIBOOT1);
	assert_int_equal(loader_detect(img, 0x10B), GUEST_FORMAT_UNKNOWN);

	/* Multiboot 2: 8-aligned, the 16-byte fixed part in the first 32768 */
	img_fill(0x9000);
	mb2_begin(32768 - 16);
	mb2_seal_as(0, 24);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT2);
	img_fill(0x9000);
	mb2_begin(32768 - 8);
	mb2_seal_as(0, 24);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
	img_fill(0x9000);
	mb2_begin(0x104);
	mb2_finish();
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
}

/* ---------------------------------------------------------------------------------------- */
/* Multiboot 1 */

static void check_mb_kernel_bytes(void)
{
	assert_ram_is_image(0x100000, 0x1000, 0x1000);
	assert_ram_is_image(0x101000, 0x2000, 0x200);
	assert_ram_zero(0x101200, 0x1E00);
	range_add(0x100000, 0x3000, "kernel");
}

static void test_mb1_elf32(void **state)
{
	const char *cmdline = "console=ttyS0 debug";

	(void)state;
	mods_fill();
	make_mb1_elf(false, 3);
	assert_ok(load_as("hello.elf", cmdline, test_mods, 3));
	assert_string_equal(why, "");
	assert_int_equal(entry.mode, GUEST_MODE_PROTECTED32);
	assert_int_equal(entry.rip, MB_ENTRY);
	assert_int_equal(entry.rax, MB1_EAX);
	assert_int_equal(entry.rcx | entry.rdx | entry.rsi | entry.rdi | entry.cr3, 0);
	assert_entry_gdt(false);
	check_mb_kernel_bytes();
	check_mb1_info(entry.rbx, cmdline, test_mods, 3);
	/* boot structures in the low area, modules page-aligned above the kernel */
	assert_true(entry.rbx >= 0x1000 && entry.rbx < 0x9F000);
	assert_true(entry.gdt_base >= 0x1000 && entry.gdt_base < 0x9F000);
	for (u32 i = 0; i < 3; i++)
		assert_true(r32(ram + r32(ram + entry.rbx + 24) + 16 * i) >= 0x103000);
	assert_disjoint();
}

static void test_mb1_elf64_and_higher_half(void **state)
{
	static const struct seg high[] = {
		{ PT_LOAD, 0x1000, 0xC0100000, 0x100000, 0x1000, 0x1000, 0x1000 },
		{ PT_LOAD, 0x2000, 0xC0101000, 0x101000, 0x200, 0x2000, 0x1000 },
	};

	(void)state;
	/* ELF64 with a Multiboot 1 header loads by p_paddr and enters in 32-bit mode */
	make_mb1_elf(true, 0);
	assert_ok(load_as("k64", NULL, NULL, 0));
	assert_int_equal(entry.mode, GUEST_MODE_PROTECTED32);
	assert_int_equal(entry.rip, MB_ENTRY);
	check_mb_kernel_bytes();
	check_mb1_info(entry.rbx, "", NULL, 0);
	assert_entry_gdt(false);
	assert_disjoint();

	/* linked high, loaded low: e_entry goes through the segment that holds it */
	img_fill(0x2200);
	put_elf(false, EM_386, 0xC0100040, high, 2);
	put_mb1(MB_HDR, 3);
	assert_ok(load());
	assert_int_equal(entry.rip, 0x100040);
	check_mb_kernel_bytes();
	nranges = 0;

	img_fill(0x2200);
	put_elf(false, EM_386, 0xC0200000, high, 2);
	put_mb1(MB_HDR, 3);
	expect_load_fail(BH_EINVAL, "entry point 0xc0200000 is not inside any loaded segment");
}

static void test_mb1_aout(void **state)
{
	(void)state;
	mods_fill();
	make_mb1_aout();
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_MULTIBOOT1);
	assert_ok(load_as("raw.bin", "x", test_mods, 1));
	assert_int_equal(entry.rip, 0x100080);
	assert_int_equal(entry.rax, MB1_EAX);
	assert_ram_is_image(0x100000, 0, 0x1000);
	assert_ram_zero(0x101000, 0x3000); /* bss; the file's bytes past load_end are not loaded */
	range_add(0x100000, 0x4000, "kernel");
	check_mb1_info(entry.rbx, "x", test_mods, 1);
	assert_entry_gdt(false);
	assert_disjoint();

	/* load_end 0: the whole file; bss_end 0: no bss */
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100000, 0, 0, 0x1011FF);
	assert_ok(load());
	assert_int_equal(entry.rip, 0x1011FF);
	assert_ram_is_image(0x100000, 0, 0x1200);

	/* header deeper in the file: loading starts at hdr_off - (header_addr - load_addr) */
	img_fill(0x3000);
	put_mb1_aout(0x1000, 0, 0x201000, 0x200800, 0x202000, 0, 0x200800);
	assert_ok(load());
	assert_ram_is_image(0x200800, 0x800, 0x1800);
	assert_int_equal(entry.rip, 0x200800);
}

static void test_mb1_flags(void **state)
{
	(void)state;
	make_mb1_elf(false, 1u << 2);
	expect_load_fail(BH_ENOTSUP, "video");
	make_mb1_elf(false, 1u << 5 | 3);
	expect_load_fail(BH_ENOTSUP, "flags 0x23 require features the specification does not define (bits 0x20)");
	make_mb1_elf(false, 1u << 15);
	expect_load_fail(BH_ENOTSUP, "bits 0x8000");
	/* bits 17-31 are optional */
	make_mb1_elf(false, 3u | 1u << 20 | 1u << 31);
	assert_ok(load());
	make_mb1_elf(false, 0);
	assert_ok(load());
}

static void test_mb1_bad_headers(void **state)
{
	(void)state;
	make_mb1_elf(false, 3);
	img[MB_HDR + 8] ^= 0x40;
	expect_fail(load_as("hello.elf", "", NULL, 0), BH_EINVAL, "hello.elf",
		    "multiboot header checksum mismatch");

	/* a.out fields beyond the end of the file / the first 8 KiB */
	img_fill(0x100);
	put_mb1(0x100 - 12, 1u << 16);
	expect_load_fail(BH_EINVAL, "the end of the file");
	img_fill(0x4000);
	put_mb1(8192 - 12, 1u << 16);
	expect_load_fail(BH_EINVAL, "the first 8 KiB");

	/* neither a.out fields nor ELF */
	img_fill(0x1000);
	put_mb1(0x40, 3);
	expect_load_fail(BH_EINVAL, "not ELF");

	/* a.out field rules */
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100080, 0, 0, 0x100080);
	expect_load_fail(BH_EINVAL, "above header_addr");
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100000 - 4, 0, 0, 0x100000);
	expect_load_fail(BH_EINVAL, "before the start of the file");
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100000, 0x100000, 0, 0x100000);
	expect_load_fail(BH_EINVAL, "load_end_addr 0x100000 is not above");
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100000, 0x101201, 0, 0x100000);
	expect_load_fail(BH_EINVAL, "the file has only 0x1200");
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100000, 0x101000, 0x100FFF, 0x100000);
	expect_load_fail(BH_EINVAL, "bss_end_addr");
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100000, 0x101000, 0x102000, 0x102000);
	expect_load_fail(BH_EINVAL, "entry point 0x102000 is not inside");
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x3000040, 0x3000000, 0, 0, 0x3000000);
	expect_load_fail(BH_ERANGE, "multiboot load range at 0x3000000+0x1200 lies outside the "
			 "partition's 32 MiB of RAM");
	/* bss reaching the 4 GiB boundary and past the RAM */
	img_fill(0x1200);
	put_mb1_aout(0x40, 0, 0x100040, 0x100000, 0, 0xFFFFFFFF, 0x100000);
	expect_load_fail(BH_ERANGE, "outside the partition's 32 MiB of RAM");
}

static void test_mb1_elf_segment_limits(void **state)
{
	static const struct seg high[] = {
		{ PT_LOAD, 0x1000, 0x100000000ULL, 0x100000000ULL, 0x1000, 0x1000, 0x1000 },
	};

	(void)state;
	/* in 32 MiB of RAM: outside the RAM */
	img_fill(0x2000);
	put_elf(true, EM_X86_64, 0x100000000ULL, high, 1);
	put_mb1(MB_HDR, 3);
	expect_load_fail(BH_ERANGE, "segment 0 at 0x100000000+0x1000 lies outside");

	/* in 5 GiB of RAM: inside the RAM but out of a 32-bit entry's reach */
	ram_free();
	ram_alloc(5 * GiB);
	expect_load_fail(BH_ERANGE, "reaches above 4 GiB");

	/* the same RAM with a low kernel: boot structures and modules stay below 4 GiB */
	mods_fill();
	make_mb1_elf(false, 3);
	assert_ok(load_as("k.elf", "big", test_mods, 3));
	check_mb1_info(entry.rbx, "big", test_mods, 3);
	assert_int_equal(r32(ram + entry.rbx + 8), (5 * GiB - MiB) / KiB);
	range_add(0x100000, 0x3000, "kernel");
	assert_disjoint();
}

/* ---------------------------------------------------------------------------------------- */
/* Multiboot 2 */

static void test_mb2_elf(void **state)
{
	struct mbi m;

	(void)state;
	mods_fill();
	make_mb2_elf();
	assert_ok(load_as("mb2.elf", "root=/dev/vda quiet", test_mods, 3));
	assert_int_equal(entry.mode, GUEST_MODE_PROTECTED32);
	assert_int_equal(entry.rip, MB_ENTRY);
	assert_int_equal(entry.rax, MB2_EAX);
	assert_int_equal(entry.rcx | entry.rdx | entry.rsi | entry.rdi | entry.cr3, 0);
	assert_entry_gdt(false);
	check_mb_kernel_bytes();
	check_mbi(entry.rbx, "root=/dev/vda quiet", test_mods, 3, &m);
	assert_false(m.load_base);
	assert_true(entry.rbx >= 0x1000 && entry.rbx < 0x9F000);
	for (u32 i = 0; i < 3; i++)
		assert_true(m.mod_start[i] >= 0x103000);
	assert_disjoint();
}

static void test_mb2_aout(void **state)
{
	struct mbi m;

	(void)state;
	make_mb2_aout(0x100000, 0x101000, 0x104000, 0x100100);
	assert_ok(load_as("raw2", "", NULL, 0));
	assert_int_equal(entry.rip, 0x100100);
	assert_int_equal(entry.rax, MB2_EAX);
	assert_ram_is_image(0x100000, 0, 0x1000);
	assert_ram_zero(0x101000, 0x3000);
	range_add(0x100000, 0x4000, "kernel");
	check_mbi(entry.rbx, "", NULL, 0, &m);
	assert_entry_gdt(false);
	assert_disjoint();

	/* load_addr -1: the file from its start, placed so the header lands at header_addr */
	make_mb2_aout(0xFFFFFFFF, 0, 0, 0x100000);
	assert_ok(load());
	assert_ram_is_image(0x100000, 0, img_size);
	assert_int_equal(entry.rip, 0x100000);
	/* ... which must not start below 0 */
	img_fill(0x1400);
	{
		const u32 addr[] = { 0x40, 0xFFFFFFFF, 0, 0 }, e[] = { 0 };

		mb2_begin(0x80);
		mb2_tag(2, 0, addr, 4);
		mb2_tag(3, 0, e, 1);
		mb2_finish();
	}
	expect_load_fail(BH_EINVAL, "below the header's file offset");

	/* the entry address tag must point into what was loaded */
	make_mb2_aout(0x100000, 0x101000, 0, 0x101000);
	expect_load_fail(BH_EINVAL, "entry point 0x101000 is not inside");
}

static void test_mb2_entry_tag_overrides_elf(void **state)
{
	const u32 e[] = { 0x100400 }, bad[] = { 0x200000 };

	(void)state;
	mb2_elf_begin();
	mb2_tag(3, 0, e, 1);
	mb2_finish();
	assert_ok(load());
	assert_int_equal(entry.rip, 0x100400);

	mb2_elf_begin();
	mb2_tag(3, 0, bad, 1);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "entry point 0x200000");
}

static void test_mb2_load_base(void **state)
{
	const u32 reloc[] = { 0x100000, 0x1000000, 0x1000, 0 }, req[] = { 21 };
	struct mbi m;

	(void)state;
	mb2_elf_begin();
	mb2_tag(10, 0, reloc, 4);
	mb2_finish();
	assert_ok(load());
	check_mbi(entry.rbx, "", NULL, 0, &m);
	assert_true(m.load_base);
	assert_int_equal(m.load_base_addr, 0x100000);
	nranges = 0;

	mb2_elf_begin();
	mb2_tag(1, 1, req, 1);
	mb2_finish();
	assert_ok(load());
	check_mbi(entry.rbx, "", NULL, 0, &m);
	assert_true(m.load_base);
	nranges = 0;
}

static void test_mb2_info_requests(void **state)
{
	/* what is written, and what a partition does not have (left out, as the spec allows) */
	const u32 fine[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 15, 17, 20 };
	const u32 elf_sections[] = { 1, 9 }, unknown[] = { 22 };
	struct mbi m;

	(void)state;
	mb2_elf_begin();
	mb2_tag(1, 0, fine, ARRAY_SIZE(fine));
	mb2_finish();
	assert_ok(load());
	check_mbi(entry.rbx, "", NULL, 0, &m);
	nranges = 0;

	mb2_elf_begin();
	mb2_tag(1, 0, elf_sections, 2);
	mb2_finish();
	expect_load_fail(BH_ENOTSUP, "requires boot information tag 9 (ELF section headers)");
	mb2_elf_begin();
	mb2_tag(1, 0, unknown, 1);
	mb2_finish();
	expect_load_fail(BH_ENOTSUP, "tag 22");
	/* optional requests never fail */
	mb2_elf_begin();
	mb2_tag(1, 1, elf_sections, 2);
	mb2_tag(1, 1, unknown, 1);
	mb2_finish();
	assert_ok(load());
	/* malformed: not a whole number of u32 */
	mb2_elf_begin();
	mb2_tag(1, 0, fine, 1);
	w32(img + MB_HDR + 16 + 4, 10);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "size 10");
}

static void test_mb2_optional_and_efi_tags(void **state)
{
	const u32 one[] = { 0x100020 };

	(void)state;
	for (u16 type = 7; type <= 9; type++) {
		mb2_elf_begin();
		mb2_tag(type, 0, type == 7 ? NULL : one, type == 7 ? 0 : 1);
		mb2_finish();
		expect_load_fail(BH_ENOTSUP, "no EFI firmware");
		mb2_elf_begin();
		mb2_tag(type, 1, type == 7 ? NULL : one, type == 7 ? 0 : 1);
		mb2_finish();
		assert_ok(load());
		assert_int_equal(entry.rip, MB_ENTRY);
	}
	mb2_elf_begin();
	mb2_tag(42, 0, one, 1);
	mb2_finish();
	expect_load_fail(BH_ENOTSUP, "tag 42 is unknown");
	mb2_elf_begin();
	mb2_tag(42, 1, one, 1);
	mb2_finish();
	assert_ok(load());
	/* console flags asking for a console, framebuffer: tolerated */
	mb2_elf_begin();
	{
		const u32 console[] = { 3 }, fb[] = { 0, 0, 0 };

		mb2_tag(4, 0, console, 1);
		mb2_tag(5, 0, fb, 3);
	}
	mb2_finish();
	assert_ok(load());
}

static void test_mb2_bad_headers(void **state)
{
	const u32 addr[] = { 0x100080, 0x100000, 0, 0 }, e[] = { 0x100000 };

	(void)state;
	make_mb2_elf();
	img[MB_HDR + 12] ^= 1;
	expect_load_fail(BH_EINVAL, "multiboot2 header checksum mismatch");

	mb2_elf_begin();
	mb2_tag(0, 0, NULL, 0);
	mb2_seal_as(4, (u32)mb2_len);
	expect_load_fail(BH_ENOTSUP, "architecture 4 (MIPS)");

	mb2_elf_begin();
	mb2_seal_as(0, 16);
	expect_load_fail(BH_EINVAL, "header_length 16 is too small");

	/* header_length beyond the file and beyond 32 KiB */
	mb2_elf_begin();
	mb2_finish();
	mb2_seal_as(0, (u32)(img_size - MB_HDR + 8));
	expect_load_fail(BH_EINVAL, "past the end of the file");
	img_fill(0x9000);
	mb2_begin(0x7F00);
	mb2_finish();
	mb2_seal_as(0, 0x108);
	expect_load_fail(BH_EINVAL, "past the first 32 KiB");
	mb2_seal_as(0, 0xFFFFFFF8);
	expect_load_fail(BH_EINVAL, "runs past");

	/* no end tag; tags of impossible sizes */
	mb2_elf_begin();
	mb2_tag(6, 0, NULL, 0);
	mb2_seal_as(0, (u32)mb2_len);
	expect_load_fail(BH_EINVAL, "no end tag");
	mb2_elf_begin();
	mb2_tag(6, 0, NULL, 0);
	w32(img + MB_HDR + 16 + 4, 4);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "has size 4");
	mb2_elf_begin();
	mb2_tag(6, 0, NULL, 0);
	w32(img + MB_HDR + 16 + 4, 0xFFFFFFF0);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "outside the header");
	/* a tag whose padded size runs past header_length ends the walk without an end tag */
	mb2_elf_begin();
	{
		const u32 w[] = { 1 };

		mb2_tag(6, 0, w, 1);
	}
	mb2_seal_as(0, (u32)(16 + 12));
	expect_load_fail(BH_EINVAL, "no end tag");

	/* address tags: short, twice, without an entry tag */
	img_fill(0x1400);
	mb2_begin(0x80);
	mb2_tag(2, 0, addr, 2);
	mb2_tag(3, 0, e, 1);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "address tag has size 16");
	img_fill(0x1400);
	mb2_begin(0x80);
	mb2_tag(2, 0, addr, 4);
	mb2_tag(2, 0, addr, 4);
	mb2_tag(3, 0, e, 1);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "two address tags");
	img_fill(0x1400);
	mb2_begin(0x80);
	mb2_tag(2, 0, addr, 4);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "no entry address tag");
	img_fill(0x1400);
	mb2_begin(0x80);
	mb2_tag(3, 0, e, 1);
	mb2_tag(3, 0, e, 1);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "two entry address tags");
	img_fill(0x1400);
	mb2_begin(0x80);
	mb2_tag(3, 0, NULL, 0);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "entry address tag has size 8");
	/* neither an address tag nor ELF */
	img_fill(0x1400);
	mb2_begin(0x80);
	mb2_finish();
	expect_load_fail(BH_EINVAL, "no address tag and the file is not ELF");
}

/* ---------------------------------------------------------------------------------------- */
/* plain ELF64 */

/* Walks the identity map the loader built: every 2 MiB page of RAM maps to itself. */
static void check_page_tables(u64 cr3)
{
	u64 pages = ALIGN_UP(ram_size, 2 * MiB) / (2 * MiB);
	u64 pds = (pages + 511) / 512, pdpts = (pds + 511) / 512;

	assert_int_equal(cr3 % PAGE_SIZE, 0);
	range_add(cr3, PAGE_SIZE, "PML4");
	for (u64 i = 0; i < 512; i++) {
		u64 e = r64(ram + cr3 + 8 * i);

		if (i >= pdpts) {
			assert_int_equal(e, 0);
			continue;
		}
		assert_true((e & 3) == 3);
		assert_false(e & 0x80);
		range_add(e & ~0xFFFULL, PAGE_SIZE, "PDPT");
	}
	for (u64 va = 0; va < pages * 2 * MiB; va += 2 * MiB) {
		u64 pml4e = r64(ram + cr3 + 8 * ((va >> 39) & 511));
		u64 pdpte = r64(ram + (pml4e & ~0xFFFULL) + 8 * ((va >> 30) & 511));
		u64 pde;

		assert_true((pdpte & 3) == 3);
		assert_false(pdpte & 0x80);
		if (((va >> 21) & 511) == 0)
			range_add(pdpte & ~0xFFFULL, PAGE_SIZE, "PD");
		pde = r64(ram + (pdpte & ~0xFFFULL) + 8 * ((va >> 21) & 511));
		assert_true((pde & 0x83) == 0x83);       /* present, writable, 2 MiB */
		assert_int_equal(pde & 0x000FFFFFFFE00000ULL, va);
		assert_false(pde & (1ULL << 63));
		assert_false(pde & 0x4);                 /* supervisor */
	}
	/* the entry after the last page is not present */
	if (pages % 512) {
		u64 va = pages * 2 * MiB;
		u64 pml4e = r64(ram + cr3 + 8 * ((va >> 39) & 511));
		u64 pdpte = r64(ram + (pml4e & ~0xFFFULL) + 8 * ((va >> 30) & 511));

		assert_int_equal(r64(ram + (pdpte & ~0xFFFULL) + 8 * ((va >> 21) & 511)), 0);
	}
}

static void check_elf64_kernel_bytes(void)
{
	assert_ram_is_image(0x200000, 0x1000, 0x1800);
	assert_ram_is_image(0x203000, 0x3000, 0x800);
	assert_ram_zero(0x203800, 0x2800);
	range_add(0x200000, 0x1800, "text");
	range_add(0x203000, 0x3000, "data");
}

static void test_elf64(void **state)
{
	struct mbi m;

	(void)state;
	mods_fill();
	make_elf64();
	assert_ok(load_as("k.elf", "init=/bin/sh", test_mods, 2));
	assert_int_equal(entry.mode, GUEST_MODE_LONG64);
	assert_int_equal(entry.rip, ELF64_ENTRY);
	assert_int_equal(entry.rsi, MB2_EAX);
	assert_int_equal(entry.rax | entry.rbx | entry.rcx | entry.rdx, 0);
	assert_entry_gdt(true);
	check_elf64_kernel_bytes();
	check_mbi(entry.rdi, "init=/bin/sh", test_mods, 2, &m);
	check_page_tables(entry.cr3);
	assert_true(entry.cr3 >= 0x1000 && entry.cr3 < 0x9F000);
	for (u32 i = 0; i < 2; i++)
		assert_true(m.mod_start[i] >= 0x206000);
	assert_disjoint();
}

static void test_elf64_large_ram(void **state)
{
	struct mbi m;

	(void)state;
	/* 2 GiB + 2 MiB: three page directories, one of them partly filled */
	ram_free();
	ram_alloc(2 * GiB + 2 * MiB);
	make_elf64();
	assert_ok(load());
	check_page_tables(entry.cr3);
	check_mbi(entry.rdi, "", NULL, 0, &m);
	assert_disjoint();

	/* 513 GiB: two PDPTs (the mapping is only touched where written) */
	ram_free();
	ram_alloc(513 * GiB);
	make_elf64();
	assert_ok(load());
	check_page_tables(entry.cr3);
	nranges = 0;
}

static void test_elf64_low_kernel_pushes_boot_data_up(void **state)
{
	static const struct seg low[] = {
		{ PT_LOAD, 0x1000, 0x1000, 0x1000, 0x1000, 0x9E000, 0x1000 },
	};
	struct mbi m;

	(void)state;
	mods_fill();
	img_fill(0x2000);
	put_elf(true, EM_X86_64, 0x1000, low, 1);
	assert_ok(load_as("k.elf", "", test_mods, 3));
	range_add(0x1000, 0x9E000, "kernel");
	check_mbi(entry.rdi, "", test_mods, 3, &m);
	check_page_tables(entry.cr3);
	assert_entry_gdt(true);
	/* boot data just below the top of RAM, modules from 1 MiB */
	assert_true(entry.rdi > RAM_SIZE - 64 * KiB && entry.cr3 > RAM_SIZE - 64 * KiB);
	assert_int_equal(m.mod_start[0], 0x100000);
	assert_disjoint();
}

static void test_elf64_header_errors(void **state)
{
	static const u8 big_endian[] = { 0x7F, 'E', 'L', 'F', 2, 2, 1 };

	(void)state;
	make_elf64();
	w16(img + 18, EM_386);
	expect_load_fail(BH_ENOTSUP, "ELF machine 3 in a 64-bit file");
	make_elf64();
	w16(img + 16, 3);
	expect_load_fail(BH_ENOTSUP, "ET_EXEC");
	make_elf64();
	w16(img + 16, 1);
	expect_load_fail(BH_EINVAL, "ELF type 1 is not an executable");
	make_elf64();
	img[6] = 2;
	expect_load_fail(BH_EINVAL, "ELF version 2");
	make_elf64();
	memcpy(img, big_endian, sizeof(big_endian));
	expect_load_fail(BH_ENOTSUP, "big-endian");
	make_elf64();
	img[5] = 0;
	expect_load_fail(BH_EINVAL, "data encoding 0");
	make_elf64();
	w16(img + 54, 48);
	expect_load_fail(BH_EINVAL, "e_phentsize 48, expected 56");
	make_elf64();
	w16(img + 56, 0);
	expect_load_fail(BH_EINVAL, "no program headers");
	make_elf64();
	w16(img + 56, 65);
	expect_load_fail(BH_ENOTSUP, "65 program headers, at most 64");
	make_elf64();
	w16(img + 56, 0xFFFF);
	expect_load_fail(BH_ENOTSUP, "65535 program headers");
	/* program headers cut off by the end of the file, or at an offset that overflows */
	make_elf64();
	w64(img + 32, img_size - 56 * 3 + 1);
	expect_load_fail(BH_EINVAL, "program headers at offset");
	make_elf64();
	w64(img + 32, 0xFFFFFFFFFFFFFFF0ULL);
	expect_load_fail(BH_EINVAL, "lie beyond the end of the file");
	make_elf64();
	img_size = 63;
	expect_load_fail(BH_EINVAL, "shorter than its ELF header");
	make_elf64();
	img_size = 0x100; /* headers complete, segment bytes missing */
	expect_load_fail(BH_EINVAL, "segment 0: file bytes 0x1000+0x1800 lie beyond the end");
}

static void test_elf64_segment_errors(void **state)
{
	(void)state;
	/* the example from the brief */
	make_elf64();
	w64(ph64(2) + 16, 0x7f000000);
	w64(ph64(2) + 24, 0x7f000000);
	w64(ph64(2) + 40, 0x2000);
	expect_load_fail(BH_ERANGE, "segment 2 at 0x7f000000+0x2000 lies outside the partition's "
			 "32 MiB of RAM");
	assert_string_equal(why, "k.elf: segment 2 at 0x7f000000+0x2000 lies outside the "
			    "partition's 32 MiB of RAM");
	/* address + size wraps around */
	make_elf64();
	w64(ph64(2) + 16, 0xFFFFFFFFFFFFF000ULL);
	w64(ph64(2) + 24, 0xFFFFFFFFFFFFF000ULL);
	expect_load_fail(BH_ERANGE, "lies outside");
	make_elf64();
	w64(ph64(2) + 40, 0xFFFFFFFFFFFFFFFFULL);
	expect_load_fail(BH_ERANGE, "lies outside");
	/* the last byte of RAM is fine, one more is not */
	make_elf64();
	w64(ph64(2) + 16, RAM_SIZE - 0x3000);
	w64(ph64(2) + 24, RAM_SIZE - 0x3000);
	assert_ok(load());
	assert_ram_zero(RAM_SIZE - 0x2800, 0x2800);
	w64(ph64(2) + 40, 0x3001);
	expect_load_fail(BH_ERANGE, "lies outside");
	/* filesz > memsz; file range overflowing */
	make_elf64();
	w64(ph64(0) + 32, 0x1801);
	expect_load_fail(BH_EINVAL, "segment 0: file size 0x1801 exceeds its memory size 0x1800");
	make_elf64();
	w64(ph64(2) + 8, 0xFFFFFFFFFFFFF000ULL);
	w64(ph64(2) + 48, 0);
	expect_load_fail(BH_EINVAL, "segment 2: file bytes 0xfffffffffffff000+0x800 lie beyond");
	make_elf64();
	w64(ph64(2) + 32, 0x801);
	w64(ph64(2) + 40, 0x801);
	expect_load_fail(BH_EINVAL, "lie beyond the end of the file");
	/* alignment rules */
	make_elf64();
	w64(ph64(0) + 48, 0x1800);
	expect_load_fail(BH_EINVAL, "not a power of two");
	make_elf64();
	w64(ph64(0) + 8, 0x1100);
	expect_load_fail(BH_EINVAL, "differ modulo p_align");
	/* overlapping segments */
	make_elf64();
	w64(ph64(2) + 16, 0x201000);
	w64(ph64(2) + 24, 0x201000);
	expect_load_fail(BH_EINVAL, "segment 2 at 0x201000+0x3000 overlaps");
	/* higher half, entry outside, no loadable segment, interpreter */
	make_elf64();
	w64(ph64(0) + 16, 0xFFFFFFFF80200000ULL);
	expect_load_fail(BH_ENOTSUP, "higher-half");
	make_elf64();
	w64(img + 24, 0x202000);
	expect_load_fail(BH_EINVAL, "entry point 0x202000 is not inside any loaded segment");
	make_elf64();
	w32(ph64(0), PT_NOTE);
	w32(ph64(2), PT_NOTE);
	expect_load_fail(BH_EINVAL, "no loadable segment");
	make_elf64();
	w64(ph64(0) + 32, 0);
	w64(ph64(0) + 40, 0);
	w64(ph64(2) + 32, 0);
	w64(ph64(2) + 40, 0);
	expect_load_fail(BH_EINVAL, "no loadable segment");
	make_elf64();
	w32(ph64(1), PT_INTERP);
	expect_load_fail(BH_ENOTSUP, "PT_INTERP");
}

static void test_elf64_many_segments(void **state)
{
	static struct seg s[64];

	(void)state;
	img_fill(0x1000 + 64 * 0x100);
	for (u32 i = 0; i < 64; i++)
		s[i] = (struct seg){ PT_LOAD, 0x1000 + i * 0x100, 0x400000 + i * 0x1000,
				     0x400000 + i * 0x1000, 0x100, 0x1000, 0x100 };
	put_elf(true, EM_X86_64, 0x400000, s, 64);
	assert_ok(load());
	for (u32 i = 0; i < 64; i++) {
		assert_ram_is_image(0x400000 + i * 0x1000, 0x1000 + i * 0x100, 0x100);
		assert_ram_zero(0x400100 + i * 0x1000, 0xF00);
	}
}

static void test_elf32_without_multiboot(void **state)
{
	(void)state;
	img_fill(0x2200);
	put_elf(false, EM_386, MB_ENTRY, mb_segs, 2);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
	expect_load_fail(BH_ENOTSUP, "32-bit ELF file without a multiboot header");
	/* an ELF32 with a Multiboot header but the wrong machine */
	put_mb1(MB_HDR, 3);
	w16(img + 18, EM_X86_64);
	expect_load_fail(BH_ENOTSUP, "expected i386 (3)");
}

/* ---------------------------------------------------------------------------------------- */
/* arguments, modules, placement */

static void test_bad_arguments(void **state)
{
	struct guest_blob k = { img, 0, "k.elf", "" };
	struct guest_ram small = { ram, MiB };
	char big[5000];

	(void)state;
	make_elf64();
	k.size = img_size;
	assert_int_equal(loader_load(NULL, &k, "", NULL, 0, &entry, why, sizeof(why)), BH_EINVAL);
	assert_int_equal(loader_load(&gram, NULL, "", NULL, 0, &entry, why, sizeof(why)),
			 BH_EINVAL);
	assert_int_equal(loader_load(&gram, &k, "", NULL, 0, NULL, why, sizeof(why)), BH_EINVAL);
	expect_fail(loader_load(&small, &k, "", NULL, 0, &entry, why, sizeof(why)), BH_ERANGE,
		    "k.elf", "1 MiB of RAM is below the loader's minimum of 2 MiB");
	/* no reason buffer, or a tiny one */
	assert_int_equal(loader_load(&small, &k, "", NULL, 0, &entry, NULL, 0), BH_ERANGE);
	memset(why, 'X', sizeof(why));
	assert_int_equal(loader_load(&small, &k, "", NULL, 0, &entry, why, 1), BH_ERANGE);
	assert_int_equal(why[0], 0);
	assert_int_equal(why[1], 'X');
	memset(why, 'X', sizeof(why));
	assert_int_equal(loader_load(&small, &k, "", NULL, 0, &entry, why, 9), BH_ERANGE);
	assert_string_equal(why, "k.elf: t");
	assert_int_equal(why[9], 'X');
	/* unnamed kernel */
	k.name = NULL;
	expect_fail(loader_load(&small, &k, "", NULL, 0, &entry, why, sizeof(why)), BH_ERANGE,
		    "kernel", NULL);
	k.name = "k.elf";
	/* data missing */
	k.data = NULL;
	expect_fail(loader_load(&gram, &k, "", NULL, 0, &entry, why, sizeof(why)), BH_EINVAL,
		    "k.elf", "no data");
	k.data = img;
	/* command line too long */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	expect_fail(loader_load(&gram, &k, big, NULL, 0, &entry, why, sizeof(why)), BH_EINVAL,
		    "k.elf", "command line longer than 4095 bytes");
	big[4095] = 0;
	assert_ok(loader_load(&gram, &k, big, NULL, 0, &entry, why, sizeof(why)));
}

static void test_tiny_and_garbage_images(void **state)
{
	(void)state;
	img_size = 0;
	expect_load_fail(BH_EINVAL, "empty file");
	img[0] = 0x7F;
	img_size = 1;
	expect_load_fail(BH_EINVAL, "not a kernel: no Multiboot 2 header");
	memcpy(img, "\x7f" "ELF\x02", 5);
	for (img_size = 2; img_size < 64; img_size++)
		assert_int_not_equal(load(), 0);
	rng_state = 42;
	for (u32 i = 0; i < 300; i++) {
		img_size = 1 + rng_below(IMG_CAP);
		for (u64 j = 0; j < img_size; j++)
			img[j] = (u8)rng();
		expect_load_fail(BH_EINVAL, "not a kernel");
	}
}

static void test_module_errors(void **state)
{
	struct guest_blob mods[LOADER_MAX_MODULES + 1];
	static u8 four_mib[4 * MiB];

	(void)state;
	make_mb1_elf(false, 3);
	for (u32 i = 0; i < LOADER_MAX_MODULES + 1; i++)
		mods[i] = (struct guest_blob){ four_mib, sizeof(four_mib), "m.bin", "" };
	expect_fail(load_as("k.elf", "", mods, LOADER_MAX_MODULES + 1), BH_ERANGE, "k.elf",
		    "10 modules given, at most 9");
	expect_fail(load_as("k.elf", "", NULL, 2), BH_EINVAL, "k.elf", "none given");
	mods[1].data = NULL;
	mods[1].name = "lost.bin";
	expect_fail(load_as("k.elf", "", mods, 2), BH_EINVAL, "lost.bin", "no data for module 2");
	mods[1] = mods[0];

	/* eight 4 MiB modules do not fit in 32 MiB next to a kernel; RAM stays untouched */
	memset(ram, 0, RAM_SIZE);
	mods[7].name = "eighth.bin";
	expect_fail(load_as("k.elf", "", mods, 8), BH_ENOMEM, "eighth.bin", "no room for module 8");
	for (u64 i = 0; i < RAM_SIZE; i += 8)
		if (r64(ram + i))
			fail_msg("a failed load wrote to RAM at 0x%llx", (unsigned long long)i);
	/* seven do */
	assert_ok(load_as("k.elf", "", mods, 7));
	check_mb1_info(entry.rbx, "", mods, 7);
	range_add(0x100000, 0x3000, "kernel");
	assert_disjoint();

	/* a module larger than RAM */
	mods[0].size = RAM_SIZE + 1;
	mods[0].name = "huge.img";
	expect_fail(load_as("k.elf", "", mods, 1), BH_ENOMEM, "huge.img", "no room");
	/* module string too long */
	{
		static char s[LD_TEST_STR];

		memset(s, 'm', sizeof(s) - 1);
		mods[0] = (struct guest_blob){ mod_b, sizeof(mod_b), "s.bin", s };
		expect_fail(load_as("k.elf", "", mods, 1), BH_EINVAL, "s.bin",
			    "module string longer");
	}
}

static void test_module_placement(void **state)
{
	static const struct seg high[] = {
		{ PT_LOAD, 0x1000, 0x1800000, 0x1800000, 0x1000, 0x600000, 0x1000 },
	};
	static u8 eight_mib[8 * MiB];
	struct guest_blob mods[3] = {
		{ eight_mib, sizeof(eight_mib), "big", "big" },
		{ mod_b, 0, "empty", "empty module" },
		{ mod_b, 0, "empty2", "" },
	};
	struct mbi m;

	(void)state;
	for (u64 i = 0; i < sizeof(eight_mib); i += 4096)
		eight_mib[i] = (u8)(i >> 12);
	/* kernel at 24..30 MiB: 8 MiB does not fit above it, so it goes below */
	img_fill(0x2000);
	put_elf(true, EM_X86_64, 0x1800000, high, 1);
	assert_ok(load_as("k.elf", "", mods, 3));
	range_add(0x1800000, 0x600000, "kernel");
	check_mbi(entry.rdi, "", mods, 3, &m);
	assert_int_equal(m.mod_start[0], 0x100000);
	/* empty modules still get their own, distinct, page-aligned address */
	assert_int_equal(m.mod_end[1], m.mod_start[1]);
	assert_int_not_equal(m.mod_start[1], m.mod_start[2]);
	assert_disjoint();

	/* a kernel filling RAM leaves no room */
	{
		static const struct seg all[] = {
			{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, RAM_SIZE - 0x100000, 0x1000 },
		};

		img_fill(0x2000);
		put_elf(true, EM_X86_64, 0x100000, all, 1);
		assert_ok(load()); /* boot data fits in the low area */
		expect_fail(load_as("k.elf", "", mods, 1), BH_ENOMEM, "big", "no room for module 1");
	}
	/* ... nor for the boot data when the low area is taken too */
	{
		static const struct seg all[] = {
			{ PT_LOAD, 0x1000, 0x1000, 0x1000, 0x1000, RAM_SIZE - 0x1000, 0x1000 },
		};

		img_fill(0x2000);
		put_elf(true, EM_X86_64, 0x1000, all, 1);
		expect_load_fail(BH_ENOMEM, "no room for the boot information");
	}
}

/* ---------------------------------------------------------------------------------------- */
/* mutation fuzzing: never a crash, only return codes */

struct base {
	void (*make)(void);
	u64 mb1, mb2; /* header offsets to re-checksum, ~0 if none */
};

static void make_mb1_elf32_base(void) { make_mb1_elf(false, 3); }
static void make_mb1_elf64_base(void) { make_mb1_elf(true, 3); }
static void make_mb2_aout_base(void) { make_mb2_aout(0x100000, 0x101000, 0x104000, 0x100100); }
static void make_mb2_full_base(void)
{
	const u32 req[] = { 1, 2, 3, 4, 6, 21 }, reloc[] = { 0x100000, 0x1000000, 0x1000, 0 };
	const u32 e[] = { MB_ENTRY };

	mb2_elf_begin();
	mb2_tag(1, 0, req, ARRAY_SIZE(req));
	mb2_tag(10, 0, reloc, 4);
	mb2_tag(3, 0, e, 1);
	mb2_tag(7, 1, NULL, 0);
	mb2_finish();
}

static const struct base bases[] = {
	{ make_elf64, ~0ULL, ~0ULL },
	{ make_mb1_elf32_base, MB_HDR, ~0ULL },
	{ make_mb1_elf64_base, MB_HDR, ~0ULL },
	{ make_mb1_aout, 0x40, ~0ULL },
	{ make_mb2_elf, ~0ULL, MB_HDR },
	{ make_mb2_aout_base, ~0ULL, 0x80 },
	{ make_mb2_full_base, ~0ULL, MB_HDR },
};

static u64 interesting(void)
{
	static const u64 v[] = {
		0, 1, 2, 3, 7, 8, 0x10, 0x38, 0x40, 0xFFF, 0x1000, 0x1001, 0x9F000, 0x100000,
		0x1FFFFF, 0x200000, 0x3FFFFF, 0x400000, 0x7FFFFFFF, 0x80000000, 0xFFFFF000,
		0xFFFFFFFF, 0x100000000ULL, 0x7FFFFFFFFFFFFFFFULL, 0x8000000000000000ULL,
		0xFFFFFFFFFFFFF000ULL, 0xFFFFFFFFFFFFFFFFULL,
	};

	return rng_below(4) ? v[rng_below(ARRAY_SIZE(v))] : rng();
}

/* an offset in the parts that are parsed: ELF header, program headers, multiboot headers */
static u64 hot_offset(const struct base *b, u64 size)
{
	u64 off;

	switch (rng_below(4)) {
	case 0: off = rng_below(0x40); break;
	case 1: off = 0x34 + rng_below(0x100); break;
	case 2: off = (b->mb1 != ~0ULL ? b->mb1 : b->mb2 != ~0ULL ? b->mb2 : 0) + rng_below(0x80);
		break;
	default: off = rng_below(size); break;
	}
	return size ? off % size : 0;
}

static void reseal(const struct base *b)
{
	if (b->mb1 != ~0ULL && b->mb1 + 12 <= img_size)
		w32(img + b->mb1 + 8, (u32)-(r32(img + b->mb1) + r32(img + b->mb1 + 4)));
	if (b->mb2 != ~0ULL && b->mb2 + 16 <= img_size)
		w32(img + b->mb2 + 12, (u32)-(r32(img + b->mb2) + r32(img + b->mb2 + 4) +
					     r32(img + b->mb2 + 8)));
}

static void test_fuzz_mutations(void **state)
{
	static u8 orig[IMG_CAP];
	u32 ok = 0, failed = 0;

	(void)state;
	ram_free();
	ram_alloc(FUZZ_RAM_SIZE);
	mods_fill();
	rng_state = 0xB01D;
	for (u32 bi = 0; bi < ARRAY_SIZE(bases); bi++) {
		const struct base *b = &bases[bi];
		u64 orig_size;

		b->make();
		memcpy(orig, img, img_size);
		orig_size = img_size;
		assert_ok(load_as("base", "c", test_mods, 3)); /* each base image is valid */
		for (u32 iter = 0; iter < 1000; iter++) {
			u32 n = 1 + (u32)rng_below(4);
			int rc;

			memcpy(img, orig, orig_size);
			img_size = orig_size;
			for (u32 k = 0; k < n; k++) {
				u64 off = hot_offset(b, img_size);

				switch (rng_below(6)) {
				case 0: img[rng_below(img_size)] ^= (u8)(1u << rng_below(8)); break;
				case 1: img[off] = (u8)rng(); break;
				case 2: if (off + 2 <= img_size) w16(img + off, (u16)interesting());
					break;
				case 3: if (off + 4 <= img_size) w32(img + off, (u32)interesting());
					break;
				case 4: if (off + 8 <= img_size) w64(img + off, interesting()); break;
				default: img_size = rng_below(img_size + 1); break;
				}
			}
			if (rng_below(4))
				reseal(b);
			(void)loader_detect(img, img_size);
			rc = load_as("fuzz", rng_below(2) ? "c" : NULL, test_mods,
				     (u32)rng_below(4));
			if (rc) {
				failed++;
				if (rc != BH_EINVAL && rc != BH_ERANGE && rc != BH_ENOMEM &&
				    rc != BH_ENOTSUP)
					fail_msg("unexpected return code %d: %s", rc, why);
				expect_fail(rc, rc, "fuzz", NULL);
				continue;
			}
			ok++;
			assert_true(entry.rip < FUZZ_RAM_SIZE);
			assert_true(entry.gdt_base + 24 <= FUZZ_RAM_SIZE);
			if (entry.mode == GUEST_MODE_LONG64) {
				assert_true(entry.cr3 < FUZZ_RAM_SIZE && entry.rdi < FUZZ_RAM_SIZE);
			} else {
				assert_int_equal(entry.mode, GUEST_MODE_PROTECTED32);
				assert_true(entry.rbx < FUZZ_RAM_SIZE);
				assert_true(entry.rax == MB1_EAX || entry.rax == MB2_EAX);
			}
		}
	}
	/* the mutations reach both outcomes */
	assert_true(ok > 500 && failed > 2000);
	print_message("fuzz: %u loads succeeded, %u refused\n", ok, failed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detect_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb1_elf32, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb1_elf64_and_higher_half, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb1_aout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb1_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb1_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb1_elf_segment_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb2_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb2_aout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb2_entry_tag_overrides_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb2_load_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb2_info_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb2_optional_and_efi_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mb2_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf64_large_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf64_low_kernel_pushes_boot_data_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_elf64_header_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf64_segment_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf64_many_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf32_without_multiboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tiny_and_garbage_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_placement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_mutations, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
