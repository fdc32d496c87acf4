/* Linux bzImage kernels, x86 boot protocol 2.12 and later, entered at their 64-bit entry point.
 *
 * The real-mode setup code is not run: the protected-mode kernel (the file after its setup
 * sectors) goes to its preferred address, the loader fills the "zero page" (struct boot_params)
 * the setup code would have filled, and the vCPU starts in long mode at the kernel + 0x200 with
 * RSI pointing at that page. Layout and decisions: docs/guest-boot.md, "Linux". */
#include "types.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"
#include "hv/loader.h"
#include "loader_internal.h"

/* Setup header fields, at their offsets in the file; from 0x1F1 on, boot_params carries the
 * header at the same offsets. */
#define SH_START 0x1F1
#define SH_SETUP_SECTS 0x1F1
#define SH_SYSSIZE 0x1F4
#define SH_BOOT_FLAG 0x1FE
#define SH_JUMP_OFFSET 0x201           /* the header ends at 0x202 + this byte */
#define SH_HEADER 0x202
#define SH_VERSION 0x206
#define SH_TYPE_OF_LOADER 0x210
#define SH_LOADFLAGS 0x211
#define SH_CODE32_START 0x214
#define SH_RAMDISK_IMAGE 0x218
#define SH_RAMDISK_SIZE 0x21C
#define SH_HEAP_END_PTR 0x224
#define SH_EXT_LOADER_VER 0x226
#define SH_EXT_LOADER_TYPE 0x227
#define SH_CMD_LINE_PTR 0x228
#define SH_INITRD_ADDR_MAX 0x22C
#define SH_KERNEL_ALIGNMENT 0x230
#define SH_RELOCATABLE 0x234
#define SH_XLOADFLAGS 0x236
#define SH_CMDLINE_SIZE 0x238
#define SH_HARDWARE_SUBARCH 0x23C
#define SH_HARDWARE_SUBARCH_DATA 0x240
#define SH_SETUP_DATA 0x250
#define SH_PREF_ADDRESS 0x258
#define SH_INIT_SIZE 0x260
#define SH_END_2_12 0x264               /* first byte after init_size, the last 2.12 field used */

#define BOOT_FLAG 0xAA55
#define HDRS_MAGIC 0x53726448u          /* "HdrS" */
#define VERSION_64BIT_ENTRY 0x020C      /* 2.12: xloadflags */
#define SECTOR 512
#define SETUP_SECTS_DEFAULT 4           /* setup_sects 0 means 4 */
#define ENTRY64_OFFSET 0x200

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x0001
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define TYPE_OF_LOADER_UNDEFINED 0xFF
/* What a 16-bit loader gives the setup code: the heap ends 0x200 below its 64 KiB segment. */
#define HEAP_END_PTR 0xFE00

/* The zero page. */
#define BP_SIZE 4096
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_ALT_MEM_K 0x1E0
#define BP_E820_ENTRIES 0x1E8
#define BP_HDR_LIMIT 0x290              /* edd_mbr_sig_buffer follows the setup header */
#define BP_E820_TABLE 0x2D0
#define E820_ENTRY 20
#define E820_RAM 1
#define E820_RESERVED 2
#define LINUX_E820_MAX 8                /* 3 ranges, the ACPI area splitting one: 5 at most */

/* The boot block: zero page, command line (its own page: the kernel copies 2 KiB from
 * cmd_line_ptr whatever the string's length), GDT. */
#define LB_BOOT_PARAMS 0x0000
#define LB_CMDLINE 0x1000
#define LB_GDT 0x2000
#define LB_SIZE (LB_GDT + LINUX_GDT_SIZE)
#define LINUX_GDT_SIZE 32               /* null, unused, __BOOT_CS 0x10, __BOOT_DS 0x18 */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

/* The decompressor of a 64-bit kernel borrows the highest pages of the RAM below 0x9F000 (the
 * EBDA's usual start) for its paging-mode trampoline while it still runs on the loader's page
 * tables; nothing the loader places may lie there. 64 KiB leaves ample margin. */
#define TRAMPOLINE_KEEP_OUT (64 * KiB)

#define KERNEL_MIN_ALIGN (2 * MiB)      /* x86-64 kernels run 2 MiB-aligned */

struct bz {
	u16 version;
	u8 loadflags;
	bool relocatable;
	u16 xloadflags;
	u32 hdr_end;            /* first byte after the setup header */
	u64 setup_size;         /* (setup_sects + 1) sectors */
	u64 pm_size;            /* syssize paragraphs: the protected-mode kernel */
	u32 kernel_alignment, initrd_addr_max, cmdline_size, init_size;
	u64 pref_address;
	u64 base;               /* where the kernel goes */
	u64 initrd, initrd_size;
	u64 block, pt;
};

struct e820 {
	u64 addr, size;
	u32 type;
};

/* ------------------------------------------------------------------ detection */

bool linux_is_bzimage(const u8 *image, u64 size)
{
	return size >= SH_VERSION + 2 && ld_get16(image + SH_BOOT_FLAG) == BOOT_FLAG &&
	       ld_get32(image + SH_HEADER) == HDRS_MAGIC;
}

int linux_why_not(struct ld *ld)
{
	bool flag = ld->size >= SH_BOOT_FLAG + 2 && ld_get16(ld->image + SH_BOOT_FLAG) == BOOT_FLAG;
	bool hdrs = ld->size >= SH_HEADER + 4 && ld_get32(ld->image + SH_HEADER) == HDRS_MAGIC;

	if (flag && !hdrs)
		return ld_fail(ld, BH_EINVAL, "a boot sector (0xAA55 at 0x1fe) without the Linux "
			       "setup header magic \"HdrS\" at 0x202: not a bzImage, or a kernel "
			       "older than boot protocol 2.00");
	if (hdrs && !flag)
		return ld_fail(ld, BH_EINVAL, "Linux setup header magic \"HdrS\" at 0x202 but "
			       "boot_flag 0x%04x at 0x1fe, expected 0xaa55",
			       ld->size >= SH_BOOT_FLAG + 2 ? ld_get16(ld->image + SH_BOOT_FLAG) : 0);
	return 0;
}

/* ------------------------------------------------------------------ header */

static bool is_pow2(u64 v)
{
	return v && !(v & (v - 1));
}

static int read_header(struct ld *ld, struct bz *bz)
{
	const u8 *p = ld->image;
	u32 sects, syssize;

	bz->version = ld_get16(p + SH_VERSION);
	if (bz->version < VERSION_64BIT_ENTRY)
		return ld_fail(ld, BH_ENOTSUP, "boot protocol %u.%02u is too old: the 64-bit entry "
			       "needs 2.12 or later", bz->version >> 8, bz->version & 0xFF);
	if (ld->size < SH_END_2_12)
		return ld_fail(ld, BH_EINVAL, "file of %llu bytes ends inside its setup header "
			       "(protocol 2.12 needs 0x%x bytes)", (unsigned long long)ld->size,
			       SH_END_2_12);
	bz->hdr_end = SH_HEADER + p[SH_JUMP_OFFSET];
	if (bz->hdr_end < SH_END_2_12)
		return ld_fail(ld, BH_EINVAL, "setup header ends at 0x%x (jump offset 0x%02x), "
			       "before init_size: protocol 2.12 needs it to reach 0x%x",
			       bz->hdr_end, p[SH_JUMP_OFFSET], SH_END_2_12);
	if (bz->hdr_end > BP_HDR_LIMIT)
		return ld_fail(ld, BH_EINVAL, "setup header ends at 0x%x (jump offset 0x%02x), "
			       "beyond the 0x%x bytes boot_params has room for", bz->hdr_end,
			       p[SH_JUMP_OFFSET], BP_HDR_LIMIT);
	sects = p[SH_SETUP_SECTS] ? p[SH_SETUP_SECTS] : SETUP_SECTS_DEFAULT;
	bz->setup_size = (u64)(sects + 1) * SECTOR;
	if (bz->setup_size > ld->size)
		return ld_fail(ld, BH_EINVAL, "setup code of %u sectors (0x%llx bytes) runs past the "
			       "end of the file (0x%llx bytes)", sects + 1,
			       (unsigned long long)bz->setup_size, (unsigned long long)ld->size);
	bz->loadflags = p[SH_LOADFLAGS];
	if (!(bz->loadflags & LOADED_HIGH))
		return ld_fail(ld, BH_ENOTSUP, "loadflags 0x%02x lack LOADED_HIGH: a zImage for low "
			       "memory, not a bzImage", bz->loadflags);
	bz->xloadflags = ld_get16(p + SH_XLOADFLAGS);
	if (!(bz->xloadflags & XLF_KERNEL_64))
		return ld_fail(ld, BH_ENOTSUP, "no 64-bit entry point (xloadflags 0x%04x lack "
			       "XLF_KERNEL_64): a 32-bit kernel", bz->xloadflags);
	syssize = ld_get32(p + SH_SYSSIZE);
	bz->pm_size = (u64)syssize * 16;
	if (!syssize)
		return ld_fail(ld, BH_EINVAL, "syssize 0: no protected-mode kernel");
	if (bz->pm_size > ld->size - bz->setup_size)
		return ld_fail(ld, BH_EINVAL, "protected-mode kernel of 0x%llx bytes (syssize 0x%x) "
			       "after 0x%llx bytes of setup, but the file has only 0x%llx: truncated",
			       (unsigned long long)bz->pm_size, syssize,
			       (unsigned long long)bz->setup_size,
			       (unsigned long long)(ld->size - bz->setup_size));
	if (bz->pm_size <= ENTRY64_OFFSET)
		return ld_fail(ld, BH_EINVAL, "protected-mode kernel of 0x%llx bytes ends before "
			       "its 64-bit entry at offset 0x%x", (unsigned long long)bz->pm_size,
			       ENTRY64_OFFSET);
	bz->init_size = ld_get32(p + SH_INIT_SIZE);
	if (bz->init_size < bz->pm_size)
		return ld_fail(ld, BH_EINVAL, "init_size 0x%x is smaller than the protected-mode "
			       "kernel (0x%llx bytes)", bz->init_size, (unsigned long long)bz->pm_size);
	bz->relocatable = p[SH_RELOCATABLE] != 0;
	bz->kernel_alignment = ld_get32(p + SH_KERNEL_ALIGNMENT);
	if (bz->relocatable && !is_pow2(bz->kernel_alignment))
		return ld_fail(ld, BH_EINVAL, "kernel_alignment 0x%x of a relocatable kernel is not "
			       "a power of two", bz->kernel_alignment);
	bz->initrd_addr_max = ld_get32(p + SH_INITRD_ADDR_MAX);
	bz->cmdline_size = ld_get32(p + SH_CMDLINE_SIZE);
	bz->pref_address = ld_get64(p + SH_PREF_ADDRESS);
	return 0;
}

/* ------------------------------------------------------------------ planning */

static int plan_kernel(struct ld *ld, struct bz *bz)
{
	u64 ram = ld->ram->size, align, end;
	char ram_str[24];

	ld_size_str(ram_str, sizeof(ram_str), ram);
	if (bz->pref_address >= ram)
		return ld_fail(ld, BH_ERANGE, "pref_address 0x%llx lies outside the partition's %s "
			       "of RAM", (unsigned long long)bz->pref_address, ram_str);
	if (bz->relocatable) {
		/* A relocatable kernel below its preferred address would decompress itself
		 * there anyway, so it goes there or above, aligned as it asks. */
		align = MAX((u64)bz->kernel_alignment, KERNEL_MIN_ALIGN);
		bz->base = ALIGN_UP(MAX(bz->pref_address, LD_HIGH_START), align);
	} else {
		if (bz->pref_address < LD_HIGH_START)
			return ld_fail(ld, BH_EINVAL, "pref_address 0x%llx of a non-relocatable kernel "
				       "lies below 1 MiB", (unsigned long long)bz->pref_address);
		bz->base = bz->pref_address;
	}
	if (!ld_fits(bz->base, bz->init_size, ram))
		return ld_fail(ld, BH_ERANGE, "needs init_size 0x%x bytes (%llu MiB) from 0x%llx, "
			       "beyond the partition's %s of RAM", bz->init_size,
			       (unsigned long long)((bz->init_size + MiB - 1) / MiB),
			       (unsigned long long)bz->base, ram_str);
	end = bz->base + bz->init_size;
	if (end > LD_4G && !(bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G))
		return ld_fail(ld, BH_ERANGE, "kernel at 0x%llx+0x%x reaches above 4 GiB, and its "
			       "xloadflags 0x%04x lack XLF_CAN_BE_LOADED_ABOVE_4G",
			       (unsigned long long)bz->base, bz->init_size, bz->xloadflags);
	if (ld->platform && ld->platform->acpi_size &&
	    bz->base < ld->platform->acpi_base + ld->platform->acpi_size &&
	    ld->platform->acpi_base < end)
		return ld_fail(ld, BH_EINVAL, "kernel at 0x%llx+0x%x overlaps the ACPI tables at "
			       "0x%llx+0x%llx", (unsigned long long)bz->base, bz->init_size,
			       (unsigned long long)ld->platform->acpi_base,
			       (unsigned long long)ld->platform->acpi_size);
	ld->entry = bz->base + ENTRY64_OFFSET;
	return ld_add_segment(ld, "kernel", bz->base, bz->init_size, bz->setup_size, bz->pm_size,
			      ~0ULL);
}

static int check_platform(struct ld *ld)
{
	const struct guest_platform *pf = ld->platform;
	char ram_str[24];

	if (!pf || !pf->acpi_size)
		return 0;
	ld_size_str(ram_str, sizeof(ram_str), ld->ram->size);
	if (!IS_ALIGNED(pf->acpi_base, PAGE_SIZE) || !IS_ALIGNED(pf->acpi_size, PAGE_SIZE))
		return ld_fail(ld, BH_EINVAL, "ACPI area 0x%llx+0x%llx is not page-aligned",
			       (unsigned long long)pf->acpi_base, (unsigned long long)pf->acpi_size);
	if (pf->acpi_base < LD_LOW_START || !ld_fits(pf->acpi_base, pf->acpi_size, ld->ram->size))
		return ld_fail(ld, BH_ERANGE, "ACPI area 0x%llx+0x%llx lies outside the partition's "
			       "%s of RAM above page 0", (unsigned long long)pf->acpi_base,
			       (unsigned long long)pf->acpi_size, ram_str);
	if (pf->acpi_rsdp < pf->acpi_base || pf->acpi_rsdp - pf->acpi_base >= pf->acpi_size ||
	    pf->acpi_size - (pf->acpi_rsdp - pf->acpi_base) < 36 || pf->acpi_rsdp % 16)
		return ld_fail(ld, BH_EINVAL, "RSDP at 0x%llx is not a 16-byte aligned place for "
			       "36 bytes inside the ACPI area 0x%llx+0x%llx",
			       (unsigned long long)pf->acpi_rsdp, (unsigned long long)pf->acpi_base,
			       (unsigned long long)pf->acpi_size);
	return 0;
}

static int plan_initrd(struct ld *ld, struct bz *bz)
{
	const struct guest_blob *m;
	u64 hi;
	char ram_str[24];

	if (ld->nmod > 1)
		return ld_fail(ld, BH_ENOTSUP, "Linux takes one initrd, %u modules were given",
			       ld->nmod);
	if (!ld->nmod || !ld->mods[0].size)
		return 0;
	m = &ld->mods[0];
	/* Above 1 MiB: low memory stays free for the kernel's SMP trampoline. */
	hi = ld->ram->size;
	if (!(bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G))
		hi = MIN(hi, (u64)bz->initrd_addr_max + 1);
	if (m->size <= ld->ram->size && ld_place_top(ld, m->size, LD_HIGH_START, hi, &bz->initrd)) {
		bz->initrd_size = m->size;
		return 0;
	}
	ld_size_str(ram_str, sizeof(ram_str), ld->ram->size);
	if (bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G)
		return ld_fail_named(ld, m->name, BH_ENOMEM, "no room for the initrd (%llu bytes) "
				     "above 1 MiB next to the kernel in the partition's %s of RAM",
				     (unsigned long long)m->size, ram_str);
	return ld_fail_named(ld, m->name, BH_ENOMEM, "no room for the initrd (%llu bytes) between "
			     "1 MiB and initrd_addr_max 0x%x next to the kernel in the partition's "
			     "%s of RAM", (unsigned long long)m->size, bz->initrd_addr_max, ram_str);
}

/* ------------------------------------------------------------------ writing */

/* The partition's RAM as the e820 map shows it: the three ranges every protocol gets, with the
 * ACPI area (when outside the legacy hole) carved out as reserved. Adjacent ranges of one type
 * are merged. */
static u32 linux_e820(const struct ld *ld, struct e820 *out)
{
	struct ld_mmap base[LD_MMAP_ENTRIES];
	u32 nbase = ld_mem_map(ld, base), n = 0;
	u64 a = 0, b = 0;

	if (ld->platform && ld->platform->acpi_size) {
		a = ld->platform->acpi_base;
		b = a + ld->platform->acpi_size;
	}
	for (u32 i = 0; i < nbase; i++) {
		u64 s = base[i].base, e = base[i].base + base[i].len;
		u64 cut[4] = { s, MAX(s, MIN(e, a)), MIN(e, MAX(s, b)), e };

		for (u32 k = 0; k < 3; k++) {
			u32 type = k == 1 ? E820_RESERVED : base[i].type;

			if (cut[k + 1] <= cut[k])
				continue;
			if (n && out[n - 1].type == type && out[n - 1].addr + out[n - 1].size == cut[k])
				out[n - 1].size += cut[k + 1] - cut[k];
			else
				out[n++] = (struct e820){ cut[k], cut[k + 1] - cut[k], type };
		}
	}
	return n;
}

static void write_gdt(struct ld *ld, u64 gpa)
{
	u8 *p = ld_ptr(ld, gpa);

	ld_put64(p, 0);
	ld_put64(p + 0x08, 0);
	ld_put64(p + LINUX_BOOT_CS, LD_DESC_CODE64);
	ld_put64(p + LINUX_BOOT_DS, LD_DESC_DATA);
}

static void write_boot_params(struct ld *ld, const struct bz *bz)
{
	u8 *bp = ld_ptr(ld, bz->block + LB_BOOT_PARAMS);
	u64 cmdline = bz->block + LB_CMDLINE;
	u64 kib = (ld->ram->size - LD_HIGH_START) / KiB;
	struct e820 map[LINUX_E820_MAX];
	u32 n = linux_e820(ld, map);

	memset(bp, 0, BP_SIZE);
	/* The setup header as the image has it, then what the loader fills in. */
	memcpy(bp + SH_START, ld->image + SH_START, bz->hdr_end - SH_START);
	bp[SH_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEFINED;
	bp[SH_LOADFLAGS] = LOADED_HIGH | CAN_USE_HEAP;
	ld_put16(bp + SH_HEAP_END_PTR, HEAP_END_PTR);
	bp[SH_EXT_LOADER_VER] = 0;
	bp[SH_EXT_LOADER_TYPE] = 0;
	if (bz->base < LD_4G)
		ld_put32(bp + SH_CODE32_START, (u32)bz->base);
	ld_put32(bp + SH_CMD_LINE_PTR, (u32)cmdline);
	ld_put32(bp + BP_EXT_CMD_LINE_PTR, (u32)(cmdline >> 32));
	ld_put32(bp + SH_RAMDISK_IMAGE, (u32)bz->initrd);
	ld_put32(bp + BP_EXT_RAMDISK_IMAGE, (u32)(bz->initrd >> 32));
	ld_put32(bp + SH_RAMDISK_SIZE, (u32)bz->initrd_size);
	ld_put32(bp + BP_EXT_RAMDISK_SIZE, (u32)(bz->initrd_size >> 32));
	ld_put32(bp + SH_HARDWARE_SUBARCH, 0);           /* a PC */
	ld_put64(bp + SH_HARDWARE_SUBARCH_DATA, 0);
	ld_put64(bp + SH_SETUP_DATA, 0);                 /* no setup_data list */

	ld_put64(bp + BP_ACPI_RSDP_ADDR,
		 ld->platform && ld->platform->acpi_size ? ld->platform->acpi_rsdp : 0);
	ld_put32(bp + BP_ALT_MEM_K, kib > 0xFFFFFFFFULL ? 0xFFFFFFFFu : (u32)kib);
	bp[BP_E820_ENTRIES] = (u8)n;
	for (u32 i = 0; i < n; i++) {
		u8 *e = bp + BP_E820_TABLE + i * E820_ENTRY;

		ld_put64(e, map[i].addr);
		ld_put64(e + 8, map[i].size);
		ld_put32(e + 16, map[i].type);
	}
}

/* The end of the highest RAM range below the legacy hole, as the e820 map shows it: where the
 * decompressor's trampoline goes. */
static u64 low_ram_top(const struct ld *ld)
{
	struct e820 map[LINUX_E820_MAX];
	u32 n = linux_e820(ld, map);
	u64 top = LD_LOW_START;

	for (u32 i = 0; i < n; i++)
		if (map[i].type == E820_RAM && map[i].addr < LD_LOW_END)
			top = MAX(top, MIN(map[i].addr + map[i].size, LD_LOW_END));
	return top;
}

int linux_load(struct ld *ld, struct guest_entry *entry)
{
	struct bz bz;
	u64 low_top, keep_out;
	int err;

	memset(&bz, 0, sizeof(bz));
	err = read_header(ld, &bz);
	if (!err && ld->cmdline_len > bz.cmdline_size)
		err = ld_fail(ld, BH_EINVAL, "command line of %llu bytes is longer than the kernel "
			      "accepts (cmdline_size %u)", (unsigned long long)ld->cmdline_len,
			      bz.cmdline_size);
	if (!err)
		err = check_platform(ld);
	if (!err)
		err = plan_kernel(ld, &bz);
	if (err)
		return err;
	low_top = low_ram_top(ld);
	keep_out = MIN(low_top - LD_LOW_START, TRAMPOLINE_KEEP_OUT);
	ld_reserve(ld, low_top - keep_out, keep_out);
	if (ld->platform && ld->platform->acpi_size)
		ld_reserve(ld, ld->platform->acpi_base, ld->platform->acpi_size);
	/* The initrd first, at the top; then the boot block and the page tables, low. */
	err = plan_initrd(ld, &bz);
	if (!err)
		err = ld_place_boot(ld, LB_SIZE, "boot parameters", &bz.block);
	if (!err)
		err = ld_place_boot(ld, ld_pt_size(ld), "page tables", &bz.pt);
	if (err)
		return err;

	/* Page 0, the real-mode IVT and BIOS data area, is zero: no EBDA, no BIOS. */
	memset(ld_ptr(ld, 0), 0, PAGE_SIZE);
	ld_write_kernel(ld);
	if (bz.initrd_size)
		memcpy(ld_ptr(ld, bz.initrd), ld->mods[0].data, bz.initrd_size);
	write_boot_params(ld, &bz);
	memset(ld_ptr(ld, bz.block + LB_CMDLINE), 0, LB_GDT - LB_CMDLINE);
	memcpy(ld_ptr(ld, bz.block + LB_CMDLINE), ld->cmdline, ld->cmdline_len);
	write_gdt(ld, bz.block + LB_GDT);
	ld_pt_write(ld, bz.pt);

	memset(entry, 0, sizeof(*entry));
	entry->mode = GUEST_MODE_LONG64;
	entry->rip = ld->entry;
	entry->rsi = bz.block + LB_BOOT_PARAMS;
	entry->cr3 = bz.pt;
	entry->gdt_base = bz.block + LB_GDT;
	entry->gdt_limit = LINUX_GDT_SIZE - 1;
	entry->cs = LINUX_BOOT_CS;
	entry->ds = LINUX_BOOT_DS;
	return 0;
}
