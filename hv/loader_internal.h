/* Private to hv/loader*.c: the load plan every format fills, and the helpers they share.
 *
 * A load runs in two phases. Planning parses the image (every field checked against the file
 * size, the RAM size and the other pieces) and chooses an address for every piece: kernel
 * segments, modules, the boot block (GDT, boot information, strings) and, for ELF64, page
 * tables. Only when the whole plan stands are bytes written, so a failed load leaves guest RAM
 * as it was. */
#ifndef BH_HV_LOADER_INTERNAL_H
#define BH_HV_LOADER_INTERNAL_H

#include "types.h"
#include "hv/loader.h"

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_BOOT_MAGIC 0x2BADB002u
#define MB1_SEARCH 8192u
#define MB2_HEADER_MAGIC 0xE85250D6u
#define MB2_BOOT_MAGIC 0x36D76289u
#define MB2_SEARCH 32768u

#define LD_MAX_SEGMENTS 64               /* program headers accepted per ELF file */
#define LD_MAX_ALLOCS (LOADER_MAX_MODULES + 4)
#define LD_STR_MAX 4096                  /* command line and module strings, with the NUL */
#define LD_LOW_START 0x1000ULL           /* boot structures: [LOW_START, LOW_END) first */
#define LD_LOW_END 0x9F000ULL            /* start of the reserved legacy hole */
#define LD_HIGH_START 0x100000ULL        /* end of the hole, start of upper memory */
#define LD_4G (4ULL * GiB)
#define LD_RAM_MIN (2 * MiB)
#define LD_RAM_MAX (1ULL << 46)          /* 64 TiB: far beyond any partition, keeps sums small */
#define LD_MMAP_ENTRIES 3

#define GDT_SIZE 24                      /* null, code (0x08), data (0x10) */
#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10

/* Flat 4 GiB descriptors: base 0, limit 0xfffff with 4 KiB granularity, present, DPL 0,
 * accessed already set so that loading a selector does not write the GDT. */
#define LD_DESC_CODE32 0x00CF9B000000FFFFULL /* execute/read, D=1 */
#define LD_DESC_CODE64 0x00AF9B000000FFFFULL /* execute/read, L=1 */
#define LD_DESC_DATA 0x00CF93000000FFFFULL   /* read/write, B=1 */

/* A piece of the kernel image: memsz bytes at guest-physical gpa, the first filesz of them
 * copied from image offset off, the rest zeroed. */
struct ld_seg {
	u64 gpa, memsz, off, filesz;
};

struct ld_range {
	u64 gpa, size;
};

struct ld_mmap {
	u64 base, len;
	u32 type; /* 1 available, 2 reserved (the multiboot values) */
};

struct ld {
	struct guest_ram *ram;
	const u8 *image;
	u64 size;
	const char *name;
	char *why;
	size_t why_size;

	const char *cmdline;
	size_t cmdline_len;                       /* without the NUL */
	const struct guest_blob *mods;
	u32 nmod;
	const struct guest_platform *platform;    /* NULL: none given */
	size_t mod_str_len[LOADER_MAX_MODULES];   /* module strings, without the NUL */
	u64 mod_gpa[LOADER_MAX_MODULES];

	struct ld_seg seg[LD_MAX_SEGMENTS];
	u32 nseg;
	u64 kernel_low, kernel_end;               /* lowest and highest byte + 1 of the kernel */
	u64 entry;                                /* guest-physical */

	struct ld_range alloc[LD_MAX_ALLOCS];     /* placed by the loader: boot block, tables, mods */
	u32 nalloc;
};

/* little-endian field access at any alignment */
u16 ld_get16(const u8 *p);
u32 ld_get32(const u8 *p);
u64 ld_get64(const u8 *p);
void ld_put16(u8 *p, u16 v);
void ld_put32(u8 *p, u32 v);
void ld_put64(u8 *p, u64 v);

/* [off, off + len) lies inside [0, size), without overflow. */
static inline bool ld_fits(u64 off, u64 len, u64 size)
{
	return off <= size && len <= size - off;
}

/* Writes "NAME: reason" into why and returns err. */
int ld_fail(struct ld *ld, int err, const char *fmt, ...) PRINTF_LIKE(3, 4);
int ld_fail_named(struct ld *ld, const char *name, int err, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
/* "32 MiB", "640 KiB" or "12345 bytes" into buf */
void ld_size_str(char *buf, size_t size, u64 bytes);

/* Adds a kernel segment after checking it against the file, the RAM, `limit` (the highest
 * address the protocol reaches) and the other segments. `what` names it in messages, e.g.
 * "segment 2". memsz 0 is accepted and ignored. */
int ld_add_segment(struct ld *ld, const char *what, u64 gpa, u64 memsz, u64 off, u64 filesz,
		   u64 limit);
/* 0 if entry lies inside a planned segment, else an error naming it. */
int ld_check_entry(struct ld *ld, u64 entry);

/* Placement: the boot block and page tables go to the low area when they fit, else just below
 * min(RAM, 4 GiB); modules go page-aligned above the kernel, else wherever they fit. */
int ld_place_boot(struct ld *ld, u64 size, const char *what, u64 *gpa);
int ld_place_modules(struct ld *ld);
/* The highest free page-aligned range of `size` bytes inside [lo, hi), recorded as placed;
 * false if there is none. */
bool ld_place_top(struct ld *ld, u64 size, u64 lo, u64 hi, u64 *gpa);
/* A range later placements must avoid (the loader writes nothing there). */
void ld_reserve(struct ld *ld, u64 gpa, u64 size);

/* Commit phase helpers: only after every check passed. */
u8 *ld_ptr(struct ld *ld, u64 gpa);
void ld_write_kernel(struct ld *ld);
void ld_write_modules(struct ld *ld);
void ld_write_gdt(struct ld *ld, u64 gpa, bool long64);
void ld_fill_entry_flat(struct guest_entry *e, enum guest_mode mode, u64 gdt);

/* Identity page tables for long mode: [0, RAM size rounded up to 2 MiB) with 2 MiB pages.
 * ld_pt_size is what ld_pt_write writes at gpa (PML4, PDPTs, PDs). */
u64 ld_pt_size(const struct ld *ld);
void ld_pt_write(struct ld *ld, u64 gpa);

/* The memory map the guest is given, and the multiboot mem_lower/mem_upper (KiB). */
u32 ld_mem_map(const struct ld *ld, struct ld_mmap map[LD_MMAP_ENTRIES]);
u32 ld_mem_lower(const struct ld *ld);
u32 ld_mem_upper(const struct ld *ld);

/* loader_elf.c. Plans the PT_LOAD segments of an ELF32/ELF64 file and sets ld->entry.
 * multiboot: segments go to p_paddr below 4 GiB, e_entry is translated from the segment that
 * holds it. Otherwise (plain ELF64): 64-bit only, p_vaddr == p_paddr, entry inside a segment. */
int elf_plan(struct ld *ld, bool multiboot);
bool elf_is_elf(const u8 *image, u64 size);
int elf64_load(struct ld *ld, struct guest_entry *entry);

/* loader_linux.c. A bzImage: the boot sector flag 0xAA55 at 0x1FE and "HdrS" at 0x202. */
bool linux_is_bzimage(const u8 *image, u64 size);
int linux_load(struct ld *ld, struct guest_entry *entry);
/* For a file no loader claimed: a reason naming the half of a Linux signature it has, or 0. */
int linux_why_not(struct ld *ld);

/* loader_multiboot.c */
bool mb_find_header(const u8 *image, u64 size, u32 version, bool need_valid, u64 *off);
int mb1_load(struct ld *ld, u64 hdr_off, struct guest_entry *entry);
int mb2_load(struct ld *ld, u64 hdr_off, struct guest_entry *entry);
/* The Multiboot2 boot information, also given to plain ELF64 kernels. */
u64 mb2_info_size(const struct ld *ld, bool load_base_tag);
void mb2_info_write(struct ld *ld, u64 gpa, bool load_base_tag);

#endif
