/* Unit tests for the Linux bzImage loader (hv/loader_linux.c, through loader_load and
 * loader_load_platform). The bzImage is crafted here: a setup header with the fields of boot
 * protocol 2.15 and a patterned protected-mode part. Guest RAM is a host buffer filled with 0xCC
 * (or, when large, an untouched anonymous mapping), so the checks see only what the loader
 * wrote. Offsets are spelled out from the x86 boot protocol and zero-page documents, not taken
 * from the code under test.
 *
 * One test builds the partition's ACPI tables with hv/vacpi.c first, as the hypervisor will,
 * and reads them back with drivers/acpi.c from where boot_params points.
 *
 * Optional: BULKHEAD_TEST_BZIMAGE=/path/to/vmlinuz, or a /boot/vmlinuz-* on the machine, is
 * loaded as a real kernel; the test is skipped when there is none. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "types.h"
#include "lib/error.h"
#include "hv/loader.h"
#include "hv/vacpi.h"
#include "drivers/acpi.h"

/* ---------------------------------------------------------------------------------------- */
/* the boot protocol, spelled out */

#define H_SETUP_SECTS 0x1F1
#define H_ROOT_FLAGS 0x1F2
#define H_SYSSIZE 0x1F4
#define H_VID_MODE 0x1FA
#define H_BOOT_FLAG 0x1FE
#define H_JUMP 0x200
#define H_HEADER 0x202
#define H_VERSION 0x206
#define H_KERNEL_VERSION 0x20E
#define H_TYPE_OF_LOADER 0x210
#define H_LOADFLAGS 0x211
#define H_CODE32_START 0x214
#define H_RAMDISK_IMAGE 0x218
#define H_RAMDISK_SIZE 0x21C
#define H_HEAP_END_PTR 0x224
#define H_EXT_LOADER_VER 0x226
#define H_EXT_LOADER_TYPE 0x227
#define H_CMD_LINE_PTR 0x228
#define H_INITRD_ADDR_MAX 0x22C
#define H_KERNEL_ALIGNMENT 0x230
#define H_RELOCATABLE 0x234
#define H_MIN_ALIGNMENT 0x235
#define H_XLOADFLAGS 0x236
#define H_CMDLINE_SIZE 0x238
#define H_HARDWARE_SUBARCH 0x23C
#define H_HARDWARE_SUBARCH_DATA 0x240
#define H_PAYLOAD_OFFSET 0x248
#define H_PAYLOAD_LENGTH 0x24C
#define H_SETUP_DATA 0x250
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260
#define H_HANDOVER_OFFSET 0x264
#define H_KERNEL_INFO_OFFSET 0x268
#define H_END 0x26C

#define Z_ACPI_RSDP_ADDR 0x070
#define Z_EXT_RAMDISK_IMAGE 0x0C0
#define Z_EXT_RAMDISK_SIZE 0x0C4
#define Z_EXT_CMD_LINE_PTR 0x0C8
#define Z_ALT_MEM_K 0x1E0
#define Z_E820_ENTRIES 0x1E8
#define Z_SENTINEL 0x1EF
#define Z_E820_TABLE 0x2D0

#define XLF_KERNEL_64 0x01
#define XLF_ABOVE_4G 0x02

/* the crafted kernel */
#define K_SETUP_SECTS 3
#define K_SETUP_SIZE ((K_SETUP_SECTS + 1) * 512)
#define K_PM_SIZE 0x3000
#define K_PREF 0x1000000ULL
#define K_INIT_SIZE 0x800000u
#define K_CMDLINE_SIZE 0x7FF
#define IMG_CAP (64 * 1024)

#define RAM_SIZE (64 * MiB)
#define TRAMPOLINE_AREA 0x8F000ULL /* [0x8F000, 0x9F000) stays free */

/* ---------------------------------------------------------------------------------------- */

static void w16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void w32(u8 *p, u32 v) { w16(p, (u16)v); w16(p + 2, (u16)(v >> 16)); }
static void w64(u8 *p, u64 v) { w32(p, (u32)v); w32(p + 4, (u32)(v >> 32)); }
static u16 r16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 r32(const u8 *p) { return r16(p) | (u32)r16(p + 2) << 16; }
static u64 r64(const u8 *p) { return r32(p) | (u64)r32(p + 4) << 32; }

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
/* fixture */

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
		ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			   MAP_NORESERVE, -1, 0);
		assert_true(ram != MAP_FAILED);
	} else {
		ram = malloc(size);
		assert_non_null(ram);
		memset(ram, 0xCC, size);
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

static void ram_realloc(u64 size)
{
	ram_free();
	ram_alloc(size);
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

#define assert_ok(expr) do { int rc_ = (expr); if (rc_) fail_msg("rc %d: %s", rc_, why); } \
	while (0)

static int load_pf(const char *cmdline, const struct guest_blob *mods, u32 n,
		   const struct guest_platform *pf)
{
	struct guest_blob k = { img, img_size, "vmlinuz", "" };

	memset(&entry, 0x5A, sizeof(entry));
	memset(why, 'X', sizeof(why));
	return loader_load_platform(&gram, &k, cmdline, mods, n, pf, &entry, why, sizeof(why));
}

static int load(void)
{
	return load_pf("", NULL, 0, NULL);
}

static void expect_fail_named(int rc, int err, const char *name, const char *part)
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

static void expect_fail(int rc, int err, const char *part)
{
	expect_fail_named(rc, err, "vmlinuz", part);
}

/* ---------------------------------------------------------------------------------------- */
/* the crafted bzImage */

static u8 pat(u64 x)
{
	return (u8)(x * 151u + 3u + (x >> 9));
}

/* Boot protocol 2.15, relocatable, 64-bit entry, loadable above 4 GiB unless told otherwise. */
static void make_bz(void)
{
	img_size = K_SETUP_SIZE + K_PM_SIZE;
	for (u64 i = 0; i < img_size; i++)
		img[i] = pat(i);
	img[H_SETUP_SECTS] = K_SETUP_SECTS;
	w16(img + H_ROOT_FLAGS, 1);
	w32(img + H_SYSSIZE, K_PM_SIZE / 16);
	w16(img + H_VID_MODE, 0xFFFF);
	w16(img + 0x1FC, 0);
	w16(img + H_BOOT_FLAG, 0xAA55);
	img[H_JUMP] = 0xEB;
	img[H_JUMP + 1] = H_END - 0x202;
	memcpy(img + H_HEADER, "HdrS", 4);
	w16(img + H_VERSION, 0x020F);
	w32(img + 0x208, 0);
	w16(img + 0x20C, 0x1000);
	w16(img + H_KERNEL_VERSION, 0x0100);
	img[H_TYPE_OF_LOADER] = 0;
	img[H_LOADFLAGS] = 0x01;               /* LOADED_HIGH */
	w16(img + 0x212, 0x8000);
	w32(img + H_CODE32_START, 0x100000);
	w32(img + H_RAMDISK_IMAGE, 0);
	w32(img + H_RAMDISK_SIZE, 0);
	w32(img + 0x220, 0);
	w16(img + H_HEAP_END_PTR, 0x5BE0);
	img[H_EXT_LOADER_VER] = 0;
	img[H_EXT_LOADER_TYPE] = 0;
	w32(img + H_CMD_LINE_PTR, 0);
	w32(img + H_INITRD_ADDR_MAX, 0x7FFFFFFF);
	w32(img + H_KERNEL_ALIGNMENT, 0x200000);
	img[H_RELOCATABLE] = 1;
	img[H_MIN_ALIGNMENT] = 21;
	w16(img + H_XLOADFLAGS, XLF_KERNEL_64 | XLF_ABOVE_4G);
	w32(img + H_CMDLINE_SIZE, K_CMDLINE_SIZE);
	w32(img + H_HARDWARE_SUBARCH, 0);
	w64(img + H_HARDWARE_SUBARCH_DATA, 0);
	w32(img + H_PAYLOAD_OFFSET, 0x2CC);
	w32(img + H_PAYLOAD_LENGTH, 0x1000);
	w64(img + H_SETUP_DATA, 0);
	w64(img + H_PREF_ADDRESS, K_PREF);
	w32(img + H_INIT_SIZE, K_INIT_SIZE);
	w32(img + H_HANDOVER_OFFSET, 0x190);
	w32(img + H_KERNEL_INFO_OFFSET, 0x2A0);
	img[Z_SENTINEL] = 0xFF;                /* as real images have: the loader must not copy it */
}

/* ---------------------------------------------------------------------------------------- */
/* checks */

struct range {
	u64 a, n;
	const char *what;
};
static struct range ranges[64];
static u32 nranges;

static void range_add(u64 a, u64 n, const char *what)
{
	assert_true(nranges < ARRAY_SIZE(ranges));
	if (a + n > ram_size)
		fail_msg("%s 0x%llx+0x%llx lies outside RAM", what, (unsigned long long)a,
			 (unsigned long long)n);
	ranges[nranges++] = (struct range){ a, n, what };
}

static bool overlaps(u64 a, u64 n, u64 b, u64 m)
{
	return n && m && a < b + m && b < a + n;
}

/* pairwise disjoint, and none in page 0, the legacy hole or the trampoline area */
static void assert_disjoint(void)
{
	for (u32 i = 0; i < nranges; i++) {
		if (overlaps(ranges[i].a, ranges[i].n, 0, 0x1000) ||
		    overlaps(ranges[i].a, ranges[i].n, TRAMPOLINE_AREA, 0x100000 - TRAMPOLINE_AREA))
			fail_msg("%s 0x%llx+0x%llx lies below 0x1000 or in [0x8f000, 0x100000)",
				 ranges[i].what, (unsigned long long)ranges[i].a,
				 (unsigned long long)ranges[i].n);
		for (u32 j = i + 1; j < nranges; j++)
			if (overlaps(ranges[i].a, ranges[i].n, ranges[j].a, ranges[j].n))
				fail_msg("%s 0x%llx+0x%llx overlaps %s 0x%llx+0x%llx",
					 ranges[i].what, (unsigned long long)ranges[i].a,
					 (unsigned long long)ranges[i].n, ranges[j].what,
					 (unsigned long long)ranges[j].a,
					 (unsigned long long)ranges[j].n);
	}
	nranges = 0;
}

static void assert_zero(u64 gpa, u64 len)
{
	static const u8 zero[64 * 1024];

	for (u64 off = 0; off < len; off += sizeof(zero)) {
		u64 n = MIN(len - off, sizeof(zero));

		if (!memcmp(ram + gpa + off, zero, n))
			continue;
		for (u64 i = off; i < off + n; i++)
			if (ram[gpa + i])
				fail_msg("RAM at 0x%llx is 0x%02x, expected 0",
					 (unsigned long long)(gpa + i), ram[gpa + i]);
	}
}

/* a flat descriptor: base 0, limit 4 GiB, present, DPL 0 */
static void assert_desc(u64 d, bool code)
{
	u64 base = ((d >> 16) & 0xFFFFFF) | ((d >> 56) << 24);
	u64 limit = (d & 0xFFFF) | ((d >> 48) & 0xF) << 16;
	u32 access = (d >> 40) & 0xFF, flags = (d >> 52) & 0xF;

	assert_int_equal(base, 0);
	assert_int_equal(limit, 0xFFFFF);
	assert_true(access & 0x80);
	assert_int_equal((access >> 5) & 3, 0);
	assert_true(access & 0x10);
	assert_int_equal(!!(access & 0x08), code);
	assert_true(access & 0x02);
	assert_true(flags & 0x8);
	if (code) {
		assert_true(flags & 0x2);  /* L */
		assert_false(flags & 0x4); /* D = 0 with L */
	} else {
		assert_true(flags & 0x4);
	}
}

/* Walks the guest's page tables: the 2 MiB page that maps va, or ~0 if unmapped. */
static u64 walk(u64 cr3, u64 va)
{
	u64 e = cr3;
	static const unsigned shifts[] = { 39, 30, 21 };

	for (u32 l = 0; l < 3; l++) {
		u64 table = e & 0x000FFFFFFFFFF000ULL;

		assert_true(table + PAGE_SIZE <= ram_size);
		e = r64(ram + table + 8 * ((va >> shifts[l]) & 511));
		if (!(e & 1))
			return ~0ULL;
		assert_true(e & 2);             /* writable */
		assert_false(e & 4);            /* supervisor */
		if (l < 2)
			assert_false(e & 0x80); /* no 1 GiB pages */
	}
	assert_true(e & 0x80);                  /* a 2 MiB page */
	return (e & 0x000FFFFFFFE00000ULL) | (va & (2 * MiB - 1));
}

static void check_identity(u64 cr3, u64 gpa)
{
	u64 pa = walk(cr3, gpa);

	if (pa != gpa)
		fail_msg("0x%llx maps to 0x%llx", (unsigned long long)gpa, (unsigned long long)pa);
}

static void check_page_tables(void)
{
	u64 top = ALIGN_UP(ram_size, 2 * MiB);

	nranges = 0;
	check_identity(entry.cr3, 0);
	check_identity(entry.cr3, entry.rip);
	check_identity(entry.cr3, entry.rsi);
	check_identity(entry.cr3, entry.gdt_base);
	check_identity(entry.cr3, ram_size - 1);
	check_identity(entry.cr3, ram_size / 2 + 0x1234);
	for (u64 a = 0; a < top && !ram_mapped; a += 2 * MiB)
		check_identity(entry.cr3, a);
	assert_int_equal(walk(entry.cr3, top), ~0ULL);
	assert_int_equal(walk(entry.cr3, 1ULL << 47), ~0ULL);
	nranges = 0;
}

struct e820 {
	u64 addr, size;
	u32 type;
};

/* What the loader was given, to check the zero page against. */
struct expect {
	u64 base;                   /* kernel load address */
	const char *cmdline;
	const u8 *initrd;
	u64 initrd_size;
	u64 rsdp;
	const struct e820 *map;
	u32 nmap;
};

static const struct e820 map3[] = {
	{ 0, 0x9F000, 1 },
	{ 0x9F000, 0x61000, 2 },
	{ 0x100000, 0, 1 },         /* size: the rest of RAM */
};

/* Every byte of the zero page: the setup header as in the image except the fields a loader
 * writes, the fields filled in, and zeros everywhere else. */
static void check_boot_params(const struct expect *x)
{
	const u8 *bp = ram + entry.rsi;
	u64 cmd, rd, rdsize;
	static u8 want[4096];
	u32 n;

	assert_true(entry.rsi % PAGE_SIZE == 0 && entry.rsi + 4096 <= ram_size);
	range_add(entry.rsi, 4096, "boot_params");

	/* the header fields the loader writes */
	assert_int_equal(bp[H_TYPE_OF_LOADER], 0xFF);
	assert_int_equal(bp[H_LOADFLAGS], 0x81);           /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(r16(bp + H_HEAP_END_PTR), 0xFE00);
	assert_int_equal(bp[H_EXT_LOADER_VER], 0);
	assert_int_equal(bp[H_EXT_LOADER_TYPE], 0);
	assert_int_equal(r32(bp + H_CODE32_START), x->base < 4 * GiB ? x->base : 0x100000);
	assert_int_equal(r32(bp + H_HARDWARE_SUBARCH), 0);
	assert_int_equal(r64(bp + H_HARDWARE_SUBARCH_DATA), 0);
	assert_int_equal(r64(bp + H_SETUP_DATA), 0);

	cmd = r32(bp + H_CMD_LINE_PTR) | (u64)r32(bp + Z_EXT_CMD_LINE_PTR) << 32;
	assert_true(cmd + 2048 <= ram_size);
	assert_non_null(memchr(ram + cmd, 0, 2048));
	assert_string_equal((const char *)ram + cmd, x->cmdline);
	assert_true(strlen(x->cmdline) <= r32(bp + H_CMDLINE_SIZE));
	range_add(cmd, 2048, "command line (what the kernel copies)");

	rd = r32(bp + H_RAMDISK_IMAGE) | (u64)r32(bp + Z_EXT_RAMDISK_IMAGE) << 32;
	rdsize = r32(bp + H_RAMDISK_SIZE) | (u64)r32(bp + Z_EXT_RAMDISK_SIZE) << 32;
	assert_int_equal(rdsize, x->initrd_size);
	if (x->initrd_size) {
		assert_int_equal(rd % PAGE_SIZE, 0);
		assert_true(rd >= MiB && rd + rdsize <= ram_size);
		assert_memory_equal(ram + rd, x->initrd, rdsize);
		range_add(rd, rdsize, "initrd");
	} else {
		assert_int_equal(rd, 0);
	}

	assert_int_equal(r64(bp + Z_ACPI_RSDP_ADDR), x->rsdp);
	assert_int_equal(r32(bp + Z_ALT_MEM_K), (ram_size - MiB) / KiB);
	n = bp[Z_E820_ENTRIES];
	assert_int_equal(n, x->nmap);
	for (u32 i = 0; i < n; i++) {
		const u8 *e = bp + Z_E820_TABLE + 20 * i;
		u64 size = x->map[i].size ? x->map[i].size : ram_size - x->map[i].addr;

		assert_int_equal(r64(e), x->map[i].addr);
		assert_int_equal(r64(e + 8), size);
		assert_int_equal(r32(e + 16), x->map[i].type);
	}

	/* everything else: the image's header bytes [0x1f1, 0x26c), zeros elsewhere */
	memset(want, 0, sizeof(want));
	memcpy(want + 0x1F1, img + 0x1F1, H_END - 0x1F1);
	for (u32 i = 0; i < 4096; i++) {
		static const struct { u32 off, len; } written[] = {
			{ H_TYPE_OF_LOADER, 2 }, { H_CODE32_START, 12 }, { H_HEAP_END_PTR, 8 },
			{ H_HARDWARE_SUBARCH, 12 }, { H_SETUP_DATA, 8 }, { Z_ACPI_RSDP_ADDR, 8 },
			{ Z_EXT_RAMDISK_IMAGE, 12 }, { Z_ALT_MEM_K, 4 }, { Z_E820_ENTRIES, 1 },
		};
		bool skip = i >= Z_E820_TABLE && i < Z_E820_TABLE + 20 * n; /* used entries */

		for (u32 k = 0; k < ARRAY_SIZE(written); k++)
			if (i >= written[k].off && i < written[k].off + written[k].len)
				skip = true;
		if (!skip && bp[i] != want[i])
			fail_msg("boot_params byte 0x%x is 0x%02x, expected 0x%02x", i, bp[i],
				 want[i]);
	}
	assert_int_equal(bp[Z_SENTINEL], 0);
}

/* The whole result of a successful load. */
static void check_load(const struct expect *x)
{
	const u8 *gdt = ram + entry.gdt_base;

	assert_int_equal(entry.mode, GUEST_MODE_LONG64);
	assert_int_equal(entry.rip, x->base + 0x200);
	assert_int_equal(entry.rax, 0);
	assert_int_equal(entry.rbx, 0);
	assert_int_equal(entry.rcx, 0);
	assert_int_equal(entry.rdx, 0);
	assert_int_equal(entry.rdi, 0);
	assert_int_equal(entry.rsp, 0);
	assert_int_equal(entry.cs, 0x10);
	assert_int_equal(entry.ds, 0x18);
	assert_int_equal(entry.gdt_limit, 31);
	assert_true(entry.gdt_base % 8 == 0 && entry.gdt_base + 32 <= ram_size);
	assert_int_equal(r64(gdt), 0);
	assert_int_equal(r64(gdt + 8), 0);
	assert_desc(r64(gdt + 0x10), true);
	assert_desc(r64(gdt + 0x18), false);
	assert_int_equal(entry.cr3 % PAGE_SIZE, 0);
	check_page_tables();

	/* the kernel: the protected-mode part at its address, the rest of init_size zero */
	assert_memory_equal(ram + x->base, img + K_SETUP_SIZE, r32(img + H_SYSSIZE) * 16ULL);
	if (!ram_mapped)
		assert_zero(x->base + r32(img + H_SYSSIZE) * 16ULL,
			    r32(img + H_INIT_SIZE) - r32(img + H_SYSSIZE) * 16ULL);
	assert_zero(0, PAGE_SIZE);
	range_add(x->base, r32(img + H_INIT_SIZE), "kernel");
	range_add(entry.gdt_base, 32, "GDT");
	range_add(entry.cr3, PAGE_SIZE, "PML4");
	check_boot_params(x);
	assert_disjoint();
}

static struct expect plain(const char *cmdline)
{
	return (struct expect){ K_PREF, cmdline, NULL, 0, 0, map3, 3 };
}

/* ---------------------------------------------------------------------------------------- */
/* tests: detection and a plain load */

static void test_detect(void **state)
{
	(void)state;
	make_bz();
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_LINUX);
	assert_string_equal(loader_format_name(GUEST_FORMAT_LINUX), "Linux bzImage");
	/* the signature needs both halves */
	assert_int_equal(loader_detect(img, 0x207), GUEST_FORMAT_UNKNOWN);
	assert_int_equal(loader_detect(img, 0x208), GUEST_FORMAT_LINUX);
	w16(img + H_BOOT_FLAG, 0xAA56);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
	expect_fail(load(), BH_EINVAL, "\"HdrS\" at 0x202 but boot_flag 0xaa56 at 0x1fe");
	make_bz();
	memcpy(img + H_HEADER, "HdrT", 4);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_UNKNOWN);
	expect_fail(load(), BH_EINVAL, "without the Linux setup header magic \"HdrS\"");
	/* a bzImage wins over a multiboot header inside it */
	make_bz();
	w32(img + 0x1000, 0x1BADB002);
	w32(img + 0x1004, 0);
	w32(img + 0x1008, (u32)-0x1BADB002);
	assert_int_equal(loader_detect(img, img_size), GUEST_FORMAT_LINUX);
}

static void test_plain_load(void **state)
{
	struct expect x = plain("console=ttyS0 earlyprintk=serial");

	(void)state;
	make_bz();
	assert_ok(load_pf(x.cmdline, NULL, 0, NULL));
	check_load(&x);
	/* the boot data sits low, below the trampoline area */
	assert_true(entry.rsi < TRAMPOLINE_AREA && entry.cr3 < TRAMPOLINE_AREA);
	/* no command line at all is an empty one */
	x = plain("");
	assert_ok(load_pf(NULL, NULL, 0, NULL));
	check_load(&x);
}

static void test_cmdline_limits(void **state)
{
	char line[K_CMDLINE_SIZE + 2];
	struct expect x;

	(void)state;
	make_bz();
	memset(line, 'c', sizeof(line));
	line[K_CMDLINE_SIZE] = 0;
	x = plain(line);
	assert_ok(load_pf(line, NULL, 0, NULL));
	check_load(&x);
	line[K_CMDLINE_SIZE] = 'c';
	line[K_CMDLINE_SIZE + 1] = 0;
	expect_fail(load_pf(line, NULL, 0, NULL), BH_EINVAL,
		    "command line of 2048 bytes is longer than the kernel accepts (cmdline_size 2047)");
	w32(img + H_CMDLINE_SIZE, 16);
	expect_fail(load_pf("0123456789abcdefg", NULL, 0, NULL), BH_EINVAL, "(cmdline_size 16)");
	assert_ok(load_pf("0123456789abcdef", NULL, 0, NULL));
	/* the loader's own limit comes first */
	{
		static char huge[5000];

		memset(huge, 'h', sizeof(huge) - 1);
		w32(img + H_CMDLINE_SIZE, 0xFFFFFFFF);
		expect_fail(load_pf(huge, NULL, 0, NULL), BH_EINVAL,
			    "command line longer than 4095 bytes");
	}
}

/* ---------------------------------------------------------------------------------------- */
/* initrd and the ACPI platform area */

static u8 initrd[300000];

static void initrd_fill(void)
{
	for (u64 i = 0; i < sizeof(initrd); i++)
		initrd[i] = (u8)(i * 13 + (i >> 11));
}

static void test_initrd_at_top(void **state)
{
	struct guest_blob m = { initrd, sizeof(initrd), "initrd.img", "ignored" };
	struct expect x = plain("root=/dev/ram0");
	u64 rd;

	(void)state;
	initrd_fill();
	make_bz();
	x.initrd = initrd;
	x.initrd_size = sizeof(initrd);
	assert_ok(load_pf(x.cmdline, &m, 1, NULL));
	check_load(&x);
	/* the highest page-aligned place */
	rd = r32(ram + entry.rsi + H_RAMDISK_IMAGE);
	assert_int_equal(rd, RAM_SIZE - ALIGN_UP(sizeof(initrd), PAGE_SIZE));
	/* an empty initrd is none */
	m.size = 0;
	x.initrd_size = 0;
	assert_ok(load_pf(x.cmdline, &m, 1, NULL));
	check_load(&x);
}

static void test_initrd_limits(void **state)
{
	struct guest_blob m = { initrd, sizeof(initrd), "initrd.img", "" };
	struct expect x = plain("");
	u64 rd, rdhi;

	(void)state;
	initrd_fill();
	x.initrd = initrd;
	x.initrd_size = sizeof(initrd);
	/* initrd_addr_max: the last byte may be at that address, not beyond */
	make_bz();
	w16(img + H_XLOADFLAGS, XLF_KERNEL_64);
	w32(img + H_INITRD_ADDR_MAX, 0x1FFFFFF);
	assert_ok(load_pf("", &m, 1, NULL));
	check_load(&x);
	rd = r32(ram + entry.rsi + H_RAMDISK_IMAGE);
	assert_int_equal(rd, 0x2000000 - ALIGN_UP(sizeof(initrd), PAGE_SIZE));
	/* ... and where the kernel takes that space, below the kernel */
	w32(img + H_INIT_SIZE, 0x1000000 - 0x1000);
	assert_ok(load_pf("", &m, 1, NULL));
	rd = r32(ram + entry.rsi + H_RAMDISK_IMAGE);
	assert_int_equal(rd, K_PREF - ALIGN_UP(sizeof(initrd), PAGE_SIZE));
	/* no room at all */
	w32(img + H_INITRD_ADDR_MAX, 0x10000);
	expect_fail_named(load_pf("", &m, 1, NULL), BH_ENOMEM, "initrd.img",
			  "no room for the initrd (300000 bytes) between 1 MiB and "
			  "initrd_addr_max 0x10000");

	/* 8 GiB: without XLF_CAN_BE_LOADED_ABOVE_4G the initrd stays below 2 GiB ... */
	ram_realloc(8 * GiB);
	make_bz();
	w16(img + H_XLOADFLAGS, XLF_KERNEL_64);
	assert_ok(load_pf("", &m, 1, NULL));
	check_load(&x);
	rd = r32(ram + entry.rsi + H_RAMDISK_IMAGE);
	assert_int_equal(r32(ram + entry.rsi + Z_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(rd, 0x80000000 - ALIGN_UP(sizeof(initrd), PAGE_SIZE));
	/* ... with it, at the top of RAM, its address split over two fields */
	make_bz();
	assert_ok(load_pf("", &m, 1, NULL));
	check_load(&x);
	rd = r32(ram + entry.rsi + H_RAMDISK_IMAGE);
	rdhi = r32(ram + entry.rsi + Z_EXT_RAMDISK_IMAGE);
	assert_int_equal(rdhi << 32 | rd, 8 * GiB - ALIGN_UP(sizeof(initrd), PAGE_SIZE));
}

static void test_initrd_errors(void **state)
{
	static u8 big[50 * MiB];
	struct guest_blob m[2] = {
		{ big, sizeof(big), "big.cpio", "" },
		{ initrd, 10, "second", "" },
	};
	struct guest_blob lost = { NULL, 10, "lost.img", "" };

	(void)state;
	make_bz();
	/* 50 MiB does not fit next to a kernel at 16..24 MiB in 64 MiB; RAM stays untouched */
	memset(ram, 0, RAM_SIZE);
	expect_fail_named(load_pf("", m, 1, NULL), BH_ENOMEM, "big.cpio",
			  "no room for the initrd (52428800 bytes) above 1 MiB next to the kernel "
			  "in the partition's 64 MiB of RAM");
	for (u64 i = 0; i < RAM_SIZE; i += 8)
		if (r64(ram + i))
			fail_msg("a failed load wrote to RAM at 0x%llx", (unsigned long long)i);
	/* larger than RAM */
	ram_realloc(32 * MiB);
	make_bz();
	expect_fail_named(load_pf("", m, 1, NULL), BH_ENOMEM, "big.cpio", "no room for the initrd");
	/* one initrd only */
	expect_fail(load_pf("", m, 2, NULL), BH_ENOTSUP, "Linux takes one initrd, 2 modules");
	expect_fail_named(load_pf("", &lost, 1, NULL), BH_EINVAL, "lost.img", "no data for module 1");
}

static void test_acpi_area(void **state)
{
	struct guest_blob m = { initrd, sizeof(initrd), "initrd.img", "" };
	struct guest_platform pf = { GUEST_ACPI_BASE, GUEST_ACPI_SIZE, GUEST_ACPI_BASE };
	struct expect x = plain("acpi=on");
	static const struct e820 map5[] = {
		{ 0, 0x9F000, 1 },
		{ 0x9F000, 0x61000, 2 },
		{ 0x100000, RAM_SIZE - 0x100000 - 0x40000, 1 },
		{ RAM_SIZE - 0x40000, 0x20000, 2 },
		{ RAM_SIZE - 0x20000, 0x20000, 1 },
	};
	u64 rd;

	(void)state;
	initrd_fill();
	make_bz();
	/* the default area: in the legacy hole, so the map keeps its three ranges */
	memset(ram + GUEST_ACPI_BASE, 0xAC, GUEST_ACPI_SIZE);
	x.rsdp = GUEST_ACPI_BASE;
	x.initrd = initrd;
	x.initrd_size = sizeof(initrd);
	assert_ok(load_pf(x.cmdline, &m, 1, &pf));
	check_load(&x);
	for (u64 i = 0; i < GUEST_ACPI_SIZE; i++)
		if (ram[GUEST_ACPI_BASE + i] != 0xAC)
			fail_msg("the loader wrote into the ACPI area at 0x%llx",
				 (unsigned long long)(GUEST_ACPI_BASE + i));
	/* a size of 0 is no area */
	pf.acpi_size = 0;
	x.rsdp = 0;
	assert_ok(load_pf(x.cmdline, &m, 1, &pf));
	check_load(&x);

	/* an area in upper memory: carved out of the map as reserved, the initrd goes below */
	pf = (struct guest_platform){ RAM_SIZE - 0x40000, 0x20000, RAM_SIZE - 0x40000 + 0x40 };
	x.rsdp = pf.acpi_rsdp;
	x.map = map5;
	x.nmap = 5;
	assert_ok(load_pf(x.cmdline, &m, 1, &pf));
	check_load(&x);
	rd = r32(ram + entry.rsi + H_RAMDISK_IMAGE);
	assert_true(rd + sizeof(initrd) <= RAM_SIZE - 0x40000);

	/* an area at the very top: the map ends with it */
	{
		static const struct e820 map4[] = {
			{ 0, 0x9F000, 1 },
			{ 0x9F000, 0x61000, 2 },
			{ 0x100000, RAM_SIZE - 0x100000 - 0x1000, 1 },
			{ RAM_SIZE - 0x1000, 0x1000, 2 },
		};

		pf = (struct guest_platform){ RAM_SIZE - 0x1000, 0x1000, RAM_SIZE - 0x1000 };
		x.rsdp = pf.acpi_rsdp;
		x.map = map4;
		x.nmap = 4;
		assert_ok(load_pf(x.cmdline, &m, 1, &pf));
		check_load(&x);
	}
	/* an area spanning low memory and the hole */
	{
		static const struct e820 map2[] = {
			{ 0, 0x80000, 1 },
			{ 0x80000, 0x80000, 2 },
			{ 0x100000, 0, 1 },
		};

		pf = (struct guest_platform){ 0x80000, 0x40000, 0x80000 };
		x.rsdp = pf.acpi_rsdp;
		x.map = map2;
		x.nmap = 3;
		assert_ok(load_pf(x.cmdline, &m, 1, &pf));
		check_load(&x);
	}
}

static void test_acpi_area_errors(void **state)
{
	struct guest_platform pf;

	(void)state;
	make_bz();
	pf = (struct guest_platform){ 0xE0800, 0x1000, 0xE0800 };
	expect_fail(load_pf("", NULL, 0, &pf), BH_EINVAL, "ACPI area 0xe0800+0x1000 is not "
		    "page-aligned");
	pf = (struct guest_platform){ 0xE0000, 0x1800, 0xE0000 };
	expect_fail(load_pf("", NULL, 0, &pf), BH_EINVAL, "not page-aligned");
	pf = (struct guest_platform){ RAM_SIZE - 0x1000, 0x2000, RAM_SIZE - 0x1000 };
	expect_fail(load_pf("", NULL, 0, &pf), BH_ERANGE, "lies outside the partition's 64 MiB");
	pf = (struct guest_platform){ 0, 0x1000, 0 };
	expect_fail(load_pf("", NULL, 0, &pf), BH_ERANGE, "above page 0");
	pf = (struct guest_platform){ ~0ULL << 12, 0x2000, 0 };
	expect_fail(load_pf("", NULL, 0, &pf), BH_ERANGE, "lies outside");
	pf = (struct guest_platform){ 0xE0000, 0x1000, 0xDFFF0 };
	expect_fail(load_pf("", NULL, 0, &pf), BH_EINVAL, "RSDP at 0xdfff0 is not a 16-byte "
		    "aligned place for 36 bytes inside the ACPI area 0xe0000+0x1000");
	pf.acpi_rsdp = 0xE0FF0;  /* only 16 bytes left */
	expect_fail(load_pf("", NULL, 0, &pf), BH_EINVAL, "RSDP at 0xe0ff0");
	pf.acpi_rsdp = 0xE0008;  /* misaligned */
	expect_fail(load_pf("", NULL, 0, &pf), BH_EINVAL, "RSDP at 0xe0008");
	pf.acpi_rsdp = 0xE0FD0;  /* the last place that fits */
	assert_ok(load_pf("", NULL, 0, &pf));
	/* the kernel's room may not hold the tables */
	pf = (struct guest_platform){ K_PREF + K_INIT_SIZE - 0x1000, 0x1000,
				      K_PREF + K_INIT_SIZE - 0x1000 };
	expect_fail(load_pf("", NULL, 0, &pf), BH_EINVAL, "kernel at 0x1000000+0x800000 overlaps "
		    "the ACPI tables at 0x17ff000+0x1000");
	pf.acpi_base = pf.acpi_rsdp = K_PREF + K_INIT_SIZE;
	assert_ok(load_pf("", NULL, 0, &pf));
}

/* The partition start as the hypervisor will do it: ACPI tables built into guest RAM at the
 * default area, then the kernel loaded with that platform; the guest finds the tables through
 * boot_params.acpi_rsdp_addr, and the hypervisor's own parser reads them back from there. */
static const void *ram_map(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	return phys < ram_size && len <= ram_size - phys ? ram + phys : NULL;
}

static void test_with_vacpi_tables(void **state)
{
	static const u32 ids[] = { 2, 3 };
	struct vacpi_config c = {
		.cpu_count = 2, .apic_ids = ids, .ioapic_address = VACPI_DEFAULT_IOAPIC_ADDRESS,
		.pm1a_evt_port = VACPI_DEFAULT_PM1A_EVT, .pm1a_cnt_port = VACPI_DEFAULT_PM1A_CNT,
		.pm_tmr_port = VACPI_DEFAULT_PM_TMR, .oem_table_id = "LINUX1",
	};
	struct guest_blob m = { initrd, sizeof(initrd), "initrd.img", "" };
	struct acpi_mem mem = { ram_map, NULL };
	struct vacpi_tables t;
	struct guest_platform pf;
	struct acpi_info *info = calloc(1, sizeof(*info));
	struct expect x = plain("console=ttyS0");

	(void)state;
	assert_non_null(info);
	initrd_fill();
	make_bz();
	assert_ok(vacpi_build(&c, GUEST_ACPI_BASE, ram + GUEST_ACPI_BASE, GUEST_ACPI_SIZE, &t, why,
			      sizeof(why)));
	pf = (struct guest_platform){ GUEST_ACPI_BASE, GUEST_ACPI_SIZE, t.rsdp };
	assert_ok(load_pf(x.cmdline, &m, 1, &pf));
	x.rsdp = t.rsdp;
	x.initrd = initrd;
	x.initrd_size = sizeof(initrd);
	check_load(&x);
	assert_int_equal(acpi_parse(&mem, r64(ram + entry.rsi + Z_ACPI_RSDP_ADDR), info, why,
				    sizeof(why)), 0);
	assert_int_equal(info->warning_count, 0);
	assert_int_equal(info->cpu_count, 2);
	assert_int_equal(info->cpus[1].apic_id, 3);
	assert_true(info->fadt.present && info->s5_present);
	/* the RSDP is where a legacy scan looks: 16-byte aligned in 0xE0000-0xFFFFF */
	assert_true(t.rsdp >= 0xE0000 && t.rsdp + 36 <= 0x100000 && t.rsdp % 16 == 0);
	/* and all of it lies in what the e820 map reserves */
	assert_true(t.rsdp + t.size <= 0x100000);
	free(info);
}

/* ---------------------------------------------------------------------------------------- */
/* placement of the kernel */

static void test_kernel_placement(void **state)
{
	struct expect x = plain("");

	(void)state;
	/* an unaligned preferred address is rounded up to kernel_alignment ... */
	make_bz();
	w64(img + H_PREF_ADDRESS, 0x1100000);
	x.base = 0x1200000;
	assert_ok(load());
	check_load(&x);
	/* ... to 2 MiB at least, whatever smaller alignment the kernel states */
	w32(img + H_KERNEL_ALIGNMENT, 0x1000);
	assert_ok(load());
	check_load(&x);
	/* ... and to larger ones */
	w32(img + H_KERNEL_ALIGNMENT, 0x1000000);
	x.base = 0x2000000;
	assert_ok(load());
	check_load(&x);
	/* a relocatable kernel preferring low memory still goes above 1 MiB */
	w32(img + H_KERNEL_ALIGNMENT, 0x200000);
	w64(img + H_PREF_ADDRESS, 0x1000);
	x.base = 0x200000;
	assert_ok(load());
	check_load(&x);
	/* a non-relocatable kernel goes exactly where it says */
	make_bz();
	img[H_RELOCATABLE] = 0;
	w64(img + H_PREF_ADDRESS, 0x1100000);
	w32(img + H_KERNEL_ALIGNMENT, 3); /* not looked at */
	x.base = 0x1100000;
	assert_ok(load());
	check_load(&x);
	w64(img + H_PREF_ADDRESS, 0xFF000);
	expect_fail(load(), BH_EINVAL, "pref_address 0xff000 of a non-relocatable kernel lies "
		    "below 1 MiB");
	/* the last place that fits */
	make_bz();
	w64(img + H_PREF_ADDRESS, RAM_SIZE - K_INIT_SIZE);
	x.base = RAM_SIZE - K_INIT_SIZE;
	assert_ok(load());
	check_load(&x);
}

static void test_kernel_size_errors(void **state)
{
	(void)state;
	make_bz();
	w32(img + H_INIT_SIZE, RAM_SIZE);
	expect_fail(load(), BH_ERANGE, "needs init_size 0x4000000 bytes (64 MiB) from 0x1000000, "
		    "beyond the partition's 64 MiB of RAM");
	w32(img + H_INIT_SIZE, RAM_SIZE - K_PREF + 1);
	expect_fail(load(), BH_ERANGE, "needs init_size");
	w32(img + H_INIT_SIZE, 0xFFFFFFFF);
	expect_fail(load(), BH_ERANGE, "needs init_size 0xffffffff bytes (4096 MiB)");
	make_bz();
	w64(img + H_PREF_ADDRESS, RAM_SIZE);
	expect_fail(load(), BH_ERANGE, "pref_address 0x4000000 lies outside the partition's "
		    "64 MiB of RAM");
	w64(img + H_PREF_ADDRESS, ~0ULL);
	expect_fail(load(), BH_ERANGE, "pref_address 0xffffffffffffffff lies outside");
	/* alignment pushing the kernel out of RAM */
	make_bz();
	w32(img + H_KERNEL_ALIGNMENT, 0x80000000);
	expect_fail(load(), BH_ERANGE, "from 0x80000000");
	w32(img + H_KERNEL_ALIGNMENT, 0x300000);
	expect_fail(load(), BH_EINVAL, "kernel_alignment 0x300000 of a relocatable kernel is not "
		    "a power of two");
	w32(img + H_KERNEL_ALIGNMENT, 0);
	expect_fail(load(), BH_EINVAL, "kernel_alignment 0x0");
	/* above 4 GiB only with XLF_CAN_BE_LOADED_ABOVE_4G */
	ram_realloc(8 * GiB);
	make_bz();
	w16(img + H_XLOADFLAGS, XLF_KERNEL_64);
	w64(img + H_PREF_ADDRESS, 4 * GiB - 2 * MiB);
	expect_fail(load(), BH_ERANGE, "kernel at 0xffe00000+0x800000 reaches above 4 GiB, and "
		    "its xloadflags 0x0001 lack XLF_CAN_BE_LOADED_ABOVE_4G");
	w16(img + H_XLOADFLAGS, XLF_KERNEL_64 | XLF_ABOVE_4G);
	assert_ok(load());
	{
		struct expect x = plain("");

		x.base = 4 * GiB - 2 * MiB;
		check_load(&x);
		w64(img + H_PREF_ADDRESS, 6 * GiB);
		x.base = 6 * GiB;
		assert_ok(load());
		check_load(&x); /* code32_start keeps the image's value */
	}
}

/* ---------------------------------------------------------------------------------------- */
/* header errors */

static void test_header_errors(void **state)
{
	(void)state;
	/* protocol versions */
	make_bz();
	w16(img + H_VERSION, 0x020B);
	expect_fail(load(), BH_ENOTSUP, "boot protocol 2.11 is too old: the 64-bit entry needs "
		    "2.12 or later");
	w16(img + H_VERSION, 0x0200);
	expect_fail(load(), BH_ENOTSUP, "boot protocol 2.00 is too old");
	w16(img + H_VERSION, 0x020C);
	assert_ok(load());
	/* no 64-bit entry */
	make_bz();
	w16(img + H_XLOADFLAGS, XLF_ABOVE_4G);
	expect_fail(load(), BH_ENOTSUP, "no 64-bit entry point (xloadflags 0x0002 lack "
		    "XLF_KERNEL_64): a 32-bit kernel");
	/* zImage */
	make_bz();
	img[H_LOADFLAGS] = 0x80;
	expect_fail(load(), BH_ENOTSUP, "loadflags 0x80 lack LOADED_HIGH: a zImage");
	/* the header's extent */
	make_bz();
	img[H_JUMP + 1] = 0x61;
	expect_fail(load(), BH_EINVAL, "setup header ends at 0x263 (jump offset 0x61), before "
		    "init_size");
	img[H_JUMP + 1] = 0x62;
	assert_ok(load());
	img[H_JUMP + 1] = 0x8F;
	expect_fail(load(), BH_EINVAL, "setup header ends at 0x291 (jump offset 0x8f), beyond the "
		    "0x290 bytes boot_params has room for");
	img[H_JUMP + 1] = 0x8E;
	assert_ok(load());
	assert_memory_equal(ram + entry.rsi + 0x26C, img + 0x26C, 0x290 - 0x26C);
	/* a short file */
	make_bz();
	img_size = 0x263;
	expect_fail(load(), BH_EINVAL, "file of 611 bytes ends inside its setup header");
	/* setup sectors beyond the file; setup_sects 0 means 4 */
	make_bz();
	img[H_SETUP_SECTS] = 200;
	expect_fail(load(), BH_EINVAL, "setup code of 201 sectors (0x19200 bytes) runs past the "
		    "end of the file (0x3800 bytes)");
	img[H_SETUP_SECTS] = 0;
	w32(img + H_SYSSIZE, (K_PM_SIZE - 0x200) / 16);
	assert_ok(load());
	assert_memory_equal(ram + K_PREF, img + 5 * 512, K_PM_SIZE - 0x200);
	/* syssize */
	make_bz();
	w32(img + H_SYSSIZE, 0);
	expect_fail(load(), BH_EINVAL, "syssize 0: no protected-mode kernel");
	w32(img + H_SYSSIZE, K_PM_SIZE / 16 + 1);
	expect_fail(load(), BH_EINVAL, "protected-mode kernel of 0x3010 bytes (syssize 0x301) after "
		    "0x800 bytes of setup, but the file has only 0x3000: truncated");
	w32(img + H_SYSSIZE, 0xFFFFFFFF);
	expect_fail(load(), BH_EINVAL, "truncated");
	w32(img + H_SYSSIZE, 0x20);
	expect_fail(load(), BH_EINVAL, "protected-mode kernel of 0x200 bytes ends before its "
		    "64-bit entry at offset 0x200");
	/* extra bytes after syssize (a signature) are not loaded */
	w32(img + H_SYSSIZE, 0x100);
	assert_ok(load());
	assert_memory_equal(ram + K_PREF, img + K_SETUP_SIZE, 0x1000);
	assert_zero(K_PREF + 0x1000, 0x2000);
	/* init_size */
	make_bz();
	w32(img + H_INIT_SIZE, K_PM_SIZE - 1);
	expect_fail(load(), BH_EINVAL, "init_size 0x2fff is smaller than the protected-mode kernel "
		    "(0x3000 bytes)");
	w32(img + H_INIT_SIZE, K_PM_SIZE);
	assert_ok(load());
}

static void test_small_ram(void **state)
{
	(void)state;
	/* 24 MiB: the kernel takes 16..24 MiB, everything else fits low */
	ram_realloc(24 * MiB);
	make_bz();
	{
		struct expect x = plain("quiet");

		assert_ok(load_pf("quiet", NULL, 0, NULL));
		check_load(&x);
	}
	ram_realloc(24 * MiB - 4096);
	expect_fail(load(), BH_ERANGE, "beyond the partition's 24572 KiB of RAM");
	/* the loader's minimum comes first */
	ram_realloc(MiB);
	expect_fail(load(), BH_ERANGE, "1 MiB of RAM is below the loader's minimum");
}

static void test_large_ram_keeps_trampoline_area_free(void **state)
{
	struct expect x = plain("");
	u64 pt_size = (1 + 1 + 143) * PAGE_SIZE; /* PML4, PDPT, a PD per GiB */

	(void)state;
	/* 143 GiB: right after the boot block (0x1000-0x4000) the page tables would reach into
	 * [0x8f000, 0x9f000), so they go below 4 GiB instead */
	ram_realloc(143 * GiB);
	make_bz();
	assert_ok(load());
	check_load(&x);
	assert_true(entry.cr3 >= MiB && entry.cr3 + pt_size <= 4 * GiB);
	assert_true(entry.rsi < TRAMPOLINE_AREA);
	range_add(entry.cr3, pt_size, "page tables");
	range_add(K_PREF, K_INIT_SIZE, "kernel");
	assert_disjoint();
	/* 130 GiB: 132 pages of tables still fit low, below the trampoline area */
	ram_realloc(130 * GiB);
	assert_ok(load());
	check_load(&x);
	assert_true(entry.cr3 + 132 * PAGE_SIZE <= TRAMPOLINE_AREA);
}

/* ---------------------------------------------------------------------------------------- */
/* mutations of the header: only return codes, never a crash or a write outside RAM */

static u64 interesting(void)
{
	static const u64 v[] = {
		0, 1, 2, 3, 0x10, 0x1F, 0x20, 0x200, 0x201, 0xFFF, 0x1000, 0x100000, 0x1FFFFF,
		0x200000, 0x1000000, 0x3000000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
		0x100000000ULL, 0xFFFFFFFFFFFFFFFFULL,
	};

	return rng_below(3) ? v[rng_below(ARRAY_SIZE(v))] : rng();
}

static void test_fuzz_header(void **state)
{
	struct guest_blob m = { initrd, 5000, "initrd.img", "" };
	struct guest_platform pf = { GUEST_ACPI_BASE, GUEST_ACPI_SIZE, GUEST_ACPI_BASE };
	u32 ok = 0, refused = 0;

	(void)state;
	ram_realloc(48 * MiB);
	initrd_fill();
	rng_state = 0x11AB;
	for (u32 iter = 0; iter < 3000; iter++) {
		u32 n = 1 + (u32)rng_below(3);
		int rc;

		make_bz();
		w32(img + H_INIT_SIZE, 0x40000); /* less to zero on each success */
		for (u32 k = 0; k < n; k++) {
			u64 off = 0x1F0 + rng_below(H_END - 0x1F0);

			switch (rng_below(5)) {
			case 0: img[off] ^= (u8)(1u << rng_below(8)); break;
			case 1: img[off] = (u8)rng(); break;
			case 2: w16(img + off, (u16)interesting()); break;
			case 3: w32(img + off, (u32)interesting()); break;
			default: img_size = rng_below(img_size + 1); break;
			}
		}
		rc = load_pf(rng_below(2) ? "console=ttyS0" : "", &m, (u32)rng_below(2),
			     rng_below(2) ? &pf : NULL);
		if (rc) {
			refused++;
			if (rc != BH_EINVAL && rc != BH_ERANGE && rc != BH_ENOMEM && rc != BH_ENOTSUP)
				fail_msg("unexpected return code %d: %s", rc, why);
			assert_true(strlen(why) > 9);
			continue;
		}
		ok++;
		assert_int_equal(entry.mode, GUEST_MODE_LONG64);
		assert_true(entry.rip < ram_size && entry.rsi + 4096 <= ram_size);
		assert_true(entry.cr3 < ram_size && entry.gdt_base + 32 <= ram_size);
		check_page_tables();
	}
	assert_true(ok > 500 && refused > 500);
	print_message("fuzz: %u loads succeeded, %u refused\n", ok, refused);
}

/* ---------------------------------------------------------------------------------------- */
/* a real kernel, when the machine has one */

static void test_real_kernel(void **state)
{
	const char *path = getenv("BULKHEAD_TEST_BZIMAGE");
	struct guest_platform pf = { GUEST_ACPI_BASE, GUEST_ACPI_SIZE, GUEST_ACPI_BASE };
	struct guest_blob k, m = { initrd, sizeof(initrd), "initrd.img", "" };
	glob_t g = { 0 };
	u8 *data;
	long size;
	FILE *f;
	u32 setup, syssize, init_size;
	u64 pref, align, base;

	(void)state;
	if (!path || !*path) {
		if (glob("/boot/vmlinuz-*", 0, NULL, &g) || !g.gl_pathc) {
			globfree(&g);
			print_message("no /boot/vmlinuz-* and no BULKHEAD_TEST_BZIMAGE: skipped\n");
			skip();
		}
		path = g.gl_pathv[0];
	}
	f = fopen(path, "rb");
	if (!f) {
		print_message("%s unreadable: skipped\n", path);
		globfree(&g);
		skip();
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)size);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	print_message("real kernel: %s, %ld bytes\n", path, size);

	ram_realloc(256 * MiB);
	initrd_fill();
	assert_int_equal(loader_detect(data, (u64)size), GUEST_FORMAT_LINUX);
	k = (struct guest_blob){ data, (u64)size, "vmlinuz", "" };
	assert_int_equal(loader_load_platform(&gram, &k, "console=ttyS0", &m, 1, &pf, &entry, why,
					      sizeof(why)), 0);
	setup = ((data[H_SETUP_SECTS] ? data[H_SETUP_SECTS] : 4) + 1) * 512;
	syssize = r32(data + H_SYSSIZE);
	init_size = r32(data + H_INIT_SIZE);
	pref = r64(data + H_PREF_ADDRESS);
	align = MAX(r32(data + H_KERNEL_ALIGNMENT), 2 * MiB);
	base = data[H_RELOCATABLE] ? ALIGN_UP(MAX(pref, MiB), align) : pref;
	assert_int_equal(entry.rip, base + 0x200);
	assert_memory_equal(ram + base, data + setup, syssize * 16ULL);
	assert_memory_equal(ram + entry.rsi + 0x1F1, data + 0x1F1, 0x210 - 0x1F1);
	assert_int_equal(r64(ram + entry.rsi + Z_ACPI_RSDP_ADDR), GUEST_ACPI_BASE);
	assert_int_equal(ram[entry.rsi + Z_E820_ENTRIES], 3);
	assert_int_equal(r32(ram + entry.rsi + H_RAMDISK_SIZE), sizeof(initrd));
	assert_string_equal((const char *)ram + r32(ram + entry.rsi + H_CMD_LINE_PTR),
			    "console=ttyS0");
	range_add(base, init_size, "kernel");
	range_add(entry.rsi, 4096, "boot_params");
	range_add(r32(ram + entry.rsi + H_RAMDISK_IMAGE), sizeof(initrd), "initrd");
	assert_disjoint();
	check_page_tables();
	free(data);
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_at_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acpi_area, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acpi_area_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_with_vacpi_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_placement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_size_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_ram_keeps_trampoline_area_free, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_kernel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
