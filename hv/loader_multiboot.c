/* Multiboot 1 (spec 0.6.96) and Multiboot 2 (spec 2.0) kernels: header search and checks, the
 * a.out-style address fields both versions share, and the boot information each defines. The
 * Multiboot2 information is also what plain ELF64 kernels receive. */
#include "types.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"
#include "hv/loader.h"
#include "loader_internal.h"

#define BOOTLOADER_NAME "Bulkhead"
#define BOOTLOADER_NAME_SIZE sizeof(BOOTLOADER_NAME)

/* ------------------------------------------------------------------ header search */

static bool mb1_checksum_ok(const u8 *h)
{
	return (u32)(ld_get32(h) + ld_get32(h + 4) + ld_get32(h + 8)) == 0;
}

static bool mb2_checksum_ok(const u8 *h)
{
	return (u32)(ld_get32(h) + ld_get32(h + 4) + ld_get32(h + 8) + ld_get32(h + 12)) == 0;
}

/* The first header of the given version in its search window (its fixed part entirely inside
 * the window and the file); with need_valid, the first whose checksum holds. */
bool mb_find_header(const u8 *image, u64 size, u32 version, bool need_valid, u64 *off)
{
	u64 window = version == 2 ? MB2_SEARCH : MB1_SEARCH;
	u64 align = version == 2 ? 8 : 4;
	u64 fixed = version == 2 ? 16 : 12;
	u32 magic = version == 2 ? MB2_HEADER_MAGIC : MB1_HEADER_MAGIC;
	u64 end = MIN(size, window);

	for (u64 o = 0; end >= fixed && o <= end - fixed; o += align) {
		if (ld_get32(image + o) != magic)
			continue;
		if (need_valid &&
		    !(version == 2 ? mb2_checksum_ok(image + o) : mb1_checksum_ok(image + o)))
			continue;
		*off = o;
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ a.out address fields */

/* Multiboot 1 flag bit 16 and the Multiboot 2 address tag: one contiguous piece of the file,
 * placed so that the header lands at header_addr, followed by zeroed bss. */
static int aout_plan(struct ld *ld, const char *what, u64 hdr_off, u32 header_addr,
		     u32 load_addr, u32 load_end, u32 bss_end, bool mb2)
{
	u64 file_off, filesz, memsz, base;

	if (mb2 && load_addr == 0xFFFFFFFFu) {
		/* -1: load from the start of the file */
		if (header_addr < hdr_off)
			return ld_fail(ld, BH_EINVAL, "%s: header_addr 0x%x is below the header's file "
				       "offset 0x%llx, so the file start would lie below 0", what,
				       header_addr, (unsigned long long)hdr_off);
		base = header_addr - hdr_off;
		file_off = 0;
	} else {
		if (load_addr > header_addr)
			return ld_fail(ld, BH_EINVAL, "%s: load_addr 0x%x is above header_addr 0x%x",
				       what, load_addr, header_addr);
		if (header_addr - load_addr > hdr_off)
			return ld_fail(ld, BH_EINVAL, "%s: header_addr 0x%x - load_addr 0x%x reaches "
				       "before the start of the file (header at offset 0x%llx)", what,
				       header_addr, load_addr, (unsigned long long)hdr_off);
		base = load_addr;
		file_off = hdr_off - (header_addr - load_addr);
	}
	if (!load_end) {
		filesz = ld->size - file_off;
	} else {
		if (load_end <= base)
			return ld_fail(ld, BH_EINVAL, "%s: load_end_addr 0x%x is not above the load "
				       "address 0x%llx", what, load_end, (unsigned long long)base);
		filesz = load_end - base;
		if (filesz > ld->size - file_off)
			return ld_fail(ld, BH_EINVAL, "%s: load_end_addr 0x%x asks for 0x%llx bytes "
				       "from file offset 0x%llx, the file has only 0x%llx", what,
				       load_end, (unsigned long long)filesz,
				       (unsigned long long)file_off,
				       (unsigned long long)(ld->size - file_off));
	}
	memsz = filesz;
	if (bss_end) {
		if (bss_end < base + filesz)
			return ld_fail(ld, BH_EINVAL, "%s: bss_end_addr 0x%x is below the end of the "
				       "loaded bytes 0x%llx", what, bss_end,
				       (unsigned long long)(base + filesz));
		memsz = bss_end - base;
	}
	return ld_add_segment(ld, what, base, memsz, file_off, filesz, LD_4G);
}

static u64 strings_size(const struct ld *ld)
{
	u64 n = ld->cmdline_len + 1 + BOOTLOADER_NAME_SIZE;

	for (u32 i = 0; i < ld->nmod; i++)
		n += ld->mod_str_len[i] + 1;
	return n;
}

static const char *mod_str(const struct ld *ld, u32 i)
{
	return ld->mods[i].args ? ld->mods[i].args : "";
}

/* ------------------------------------------------------------------ Multiboot 1 */

#define MB1_FLAG_PAGE_ALIGN (1u << 0)
#define MB1_FLAG_MEMORY (1u << 1)
#define MB1_FLAG_VIDEO (1u << 2)
#define MB1_FLAG_AOUT (1u << 16)
#define MB1_HEADER_AOUT_SIZE 32

/* Boot information (spec 3.3): offsets of the fields written, and its size up to the end of
 * the framebuffer fields. */
#define MB1I_FLAGS 0
#define MB1I_MEM_LOWER 4
#define MB1I_MEM_UPPER 8
#define MB1I_CMDLINE 16
#define MB1I_MODS_COUNT 20
#define MB1I_MODS_ADDR 24
#define MB1I_MMAP_LENGTH 44
#define MB1I_MMAP_ADDR 48
#define MB1I_LOADER_NAME 64
#define MB1I_SIZE 120
#define MB1I_HAVE (1u << 0 | 1u << 2 | 1u << 3 | 1u << 6 | 1u << 9)
#define MB1_MMAP_ENTRY 24 /* size field + base, length, type */
#define MB1_MOD_ENTRY 16

/* Boot block layout: GDT, info, memory map, module list, strings. */
#define MB1B_GDT 0
#define MB1B_INFO 32
#define MB1B_MMAP (MB1B_INFO + MB1I_SIZE)
#define MB1B_MODS (MB1B_MMAP + LD_MMAP_ENTRIES * MB1_MMAP_ENTRY)

static u32 put_string(struct ld *ld, u64 gpa, const char *s, size_t len)
{
	memcpy(ld_ptr(ld, gpa), s, len);
	ld_ptr(ld, gpa)[len] = '\0';
	return (u32)gpa;
}

static void mb1_write_info(struct ld *ld, u64 block)
{
	u64 info = block + MB1B_INFO, mmap = block + MB1B_MMAP, mods = block + MB1B_MODS;
	u64 str = mods + (u64)ld->nmod * MB1_MOD_ENTRY;
	struct ld_mmap map[LD_MMAP_ENTRIES];
	u32 n = ld_mem_map(ld, map);
	u8 *p = ld_ptr(ld, info);

	ld_put32(p + MB1I_FLAGS, MB1I_HAVE);
	ld_put32(p + MB1I_MEM_LOWER, ld_mem_lower(ld));
	ld_put32(p + MB1I_MEM_UPPER, ld_mem_upper(ld));
	ld_put32(p + MB1I_CMDLINE, put_string(ld, str, ld->cmdline, ld->cmdline_len));
	str += ld->cmdline_len + 1;
	ld_put32(p + MB1I_LOADER_NAME,
		 put_string(ld, str, BOOTLOADER_NAME, BOOTLOADER_NAME_SIZE - 1));
	str += BOOTLOADER_NAME_SIZE;
	ld_put32(p + MB1I_MODS_COUNT, ld->nmod);
	ld_put32(p + MB1I_MODS_ADDR, (u32)mods);
	for (u32 i = 0; i < ld->nmod; i++) {
		u8 *m = ld_ptr(ld, mods + (u64)i * MB1_MOD_ENTRY);

		ld_put32(m, (u32)ld->mod_gpa[i]);
		ld_put32(m + 4, (u32)(ld->mod_gpa[i] + ld->mods[i].size));
		ld_put32(m + 8, put_string(ld, str, mod_str(ld, i), ld->mod_str_len[i]));
		str += ld->mod_str_len[i] + 1;
	}
	ld_put32(p + MB1I_MMAP_LENGTH, n * MB1_MMAP_ENTRY);
	ld_put32(p + MB1I_MMAP_ADDR, (u32)mmap);
	for (u32 i = 0; i < n; i++) {
		u8 *e = ld_ptr(ld, mmap + (u64)i * MB1_MMAP_ENTRY);

		ld_put32(e, MB1_MMAP_ENTRY - 4);
		ld_put64(e + 4, map[i].base);
		ld_put64(e + 12, map[i].len);
		ld_put32(e + 20, map[i].type);
	}
}

int mb1_load(struct ld *ld, u64 hdr_off, struct guest_entry *entry)
{
	const u8 *h = ld->image + hdr_off;
	u32 flags = ld_get32(h + 4);
	u32 required = flags & 0xFFFFu;
	u64 block, block_size;
	int err;

	if (!mb1_checksum_ok(h))
		return ld_fail(ld, BH_EINVAL, "multiboot header checksum mismatch (header at offset "
			       "0x%llx)", (unsigned long long)hdr_off);
	if (required & MB1_FLAG_VIDEO)
		return ld_fail(ld, BH_ENOTSUP, "multiboot header requires video mode information "
			       "(flags bit 2); partitions have no display");
	if (required & ~(MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY | MB1_FLAG_VIDEO))
		return ld_fail(ld, BH_ENOTSUP, "multiboot header flags 0x%x require features the "
			       "specification does not define (bits 0x%x)", flags,
			       required & ~(MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY));
	if (flags & MB1_FLAG_AOUT) {
		if (!ld_fits(hdr_off, MB1_HEADER_AOUT_SIZE, MIN(ld->size, MB1_SEARCH)))
			return ld_fail(ld, BH_EINVAL, "multiboot header at offset 0x%llx: its address "
				       "fields (flags bit 16) run past %s", (unsigned long long)hdr_off,
				       ld->size < MB1_SEARCH ? "the end of the file" :
				       "the first 8 KiB");
		err = aout_plan(ld, "multiboot load range", hdr_off, ld_get32(h + 12),
				ld_get32(h + 16), ld_get32(h + 20), ld_get32(h + 24), false);
		if (!err)
			err = ld_check_entry(ld, ld_get32(h + 28));
	} else if (elf_is_elf(ld->image, ld->size)) {
		err = elf_plan(ld, true);
	} else {
		err = ld_fail(ld, BH_EINVAL, "multiboot header has no address fields (flags bit 16) "
			      "and the file is not ELF");
	}
	if (err)
		return err;

	block_size = MB1B_MODS + (u64)ld->nmod * MB1_MOD_ENTRY + strings_size(ld);
	err = ld_place_boot(ld, block_size, "multiboot information", &block);
	if (!err)
		err = ld_place_modules(ld);
	if (err)
		return err;

	ld_write_kernel(ld);
	ld_write_modules(ld);
	memset(ld_ptr(ld, block), 0, block_size);
	ld_write_gdt(ld, block + MB1B_GDT, false);
	mb1_write_info(ld, block);

	ld_fill_entry_flat(entry, GUEST_MODE_PROTECTED32, block + MB1B_GDT);
	entry->rip = ld->entry;
	entry->rax = MB1_BOOT_MAGIC;
	entry->rbx = block + MB1B_INFO;
	return 0;
}

/* ------------------------------------------------------------------ Multiboot 2 header */

#define MB2_ARCH_I386 0
#define MB2_ARCH_MIPS32 4
#define MB2_TAG_OPTIONAL 1u

enum mb2_header_tag {
	MB2H_END = 0,
	MB2H_INFO_REQUEST = 1,
	MB2H_ADDRESS = 2,
	MB2H_ENTRY = 3,
	MB2H_CONSOLE = 4,
	MB2H_FRAMEBUFFER = 5,
	MB2H_MODULE_ALIGN = 6,
	MB2H_EFI_BS = 7,
	MB2H_ENTRY_EFI32 = 8,
	MB2H_ENTRY_EFI64 = 9,
	MB2H_RELOCATABLE = 10,
};

enum mb2_info_tag {
	MB2I_END = 0,
	MB2I_CMDLINE = 1,
	MB2I_LOADER_NAME = 2,
	MB2I_MODULE = 3,
	MB2I_MEMINFO = 4,
	MB2I_MMAP = 6,
	MB2I_ELF_SECTIONS = 9,
	MB2I_LOAD_BASE = 21,
	MB2I_KNOWN_LAST = 21,
};

/* Information tags a kernel may require: the ones written, and the ones the specification
 * defines for things a partition does not have (BIOS boot device, VBE, framebuffer, APM, EFI,
 * SMBIOS, ACPI, network), which a loader "supports" by leaving them out (spec 3.1.4).
 * Not satisfiable: ELF sections (9, not provided) and types the specification does not know. */
static bool mb2_request_ok(u32 type)
{
	return type != MB2I_ELF_SECTIONS && type <= MB2I_KNOWN_LAST;
}

static const char *mb2_info_name(u32 type)
{
	switch (type) {
	case MB2I_ELF_SECTIONS: return "ELF section headers";
	default: return "not defined by the specification";
	}
}

static const char *mb2_efi_tag_name(u32 type)
{
	switch (type) {
	case MB2H_EFI_BS: return "EFI boot services";
	case MB2H_ENTRY_EFI32: return "EFI i386 entry address";
	default: return "EFI amd64 entry address";
	}
}

struct mb2_header {
	bool have_address, have_entry, relocatable, want_load_base;
	u32 header_addr, load_addr, load_end, bss_end;
	u32 entry_addr;
};

static int mb2_parse_tags(struct ld *ld, u64 hdr_off, u32 hlen, struct mb2_header *mh)
{
	const u8 *img = ld->image;
	u64 end = hdr_off + hlen;

	for (u64 t = hdr_off + 16; t < end && end - t >= 8; ) {
		u16 type = ld_get16(img + t);
		bool optional = ld_get16(img + t + 2) & MB2_TAG_OPTIONAL;
		u32 size = ld_get32(img + t + 4);

		if (size < 8 || size > end - t)
			return ld_fail(ld, BH_EINVAL, "multiboot2 header tag %u at offset 0x%llx has "
				       "size %u, outside the header's %u bytes", type,
				       (unsigned long long)t, size, hlen);
		switch (type) {
		case MB2H_END:
			return 0;
		case MB2H_INFO_REQUEST:
			if ((size - 8) % 4)
				return ld_fail(ld, BH_EINVAL, "multiboot2 information request tag has "
					       "size %u, not 8 plus a multiple of 4", size);
			for (u32 i = 8; i < size; i += 4) {
				u32 req = ld_get32(img + t + i);

				if (req == MB2I_LOAD_BASE)
					mh->want_load_base = true;
				if (!optional && !mb2_request_ok(req))
					return ld_fail(ld, BH_ENOTSUP, "multiboot2 header requires boot "
						       "information tag %u (%s), which Bulkhead does "
						       "not provide", req, mb2_info_name(req));
			}
			break;
		case MB2H_ADDRESS:
			if (size < 24)
				return ld_fail(ld, BH_EINVAL, "multiboot2 address tag has size %u, "
					       "expected 24", size);
			if (mh->have_address)
				return ld_fail(ld, BH_EINVAL, "multiboot2 header has two address tags");
			mh->have_address = true;
			mh->header_addr = ld_get32(img + t + 8);
			mh->load_addr = ld_get32(img + t + 12);
			mh->load_end = ld_get32(img + t + 16);
			mh->bss_end = ld_get32(img + t + 20);
			break;
		case MB2H_ENTRY:
			if (size < 12)
				return ld_fail(ld, BH_EINVAL, "multiboot2 entry address tag has size %u, "
					       "expected 12", size);
			if (mh->have_entry)
				return ld_fail(ld, BH_EINVAL, "multiboot2 header has two entry address "
					       "tags");
			mh->have_entry = true;
			mh->entry_addr = ld_get32(img + t + 8);
			break;
		case MB2H_CONSOLE:       /* no console to describe; the vUART is always there */
		case MB2H_FRAMEBUFFER:   /* a preference; there is no framebuffer */
		case MB2H_MODULE_ALIGN:  /* modules are always page-aligned */
			break;
		case MB2H_RELOCATABLE:   /* loading at the linked address is always allowed */
			mh->relocatable = true;
			break;
		case MB2H_EFI_BS:
		case MB2H_ENTRY_EFI32:
		case MB2H_ENTRY_EFI64:
			if (!optional)
				return ld_fail(ld, BH_ENOTSUP, "multiboot2 header tag %u (%s) is not "
					       "marked optional, but partitions have no EFI firmware",
					       type, mb2_efi_tag_name(type));
			break;
		default:
			if (!optional)
				return ld_fail(ld, BH_ENOTSUP, "multiboot2 header tag %u is unknown and "
					       "not marked optional", type);
			break;
		}
		t += ALIGN_UP((u64)size, 8);
	}
	return ld_fail(ld, BH_EINVAL, "multiboot2 header has no end tag within its %u bytes", hlen);
}

/* ------------------------------------------------------------------ Multiboot 2 information */

#define MB2_MMAP_ENTRY 24

static u64 tag_size(u64 payload)
{
	return ALIGN_UP(8 + payload, 8);
}

u64 mb2_info_size(const struct ld *ld, bool load_base_tag)
{
	u64 n = 8;

	n += tag_size(ld->cmdline_len + 1);
	n += tag_size(BOOTLOADER_NAME_SIZE);
	for (u32 i = 0; i < ld->nmod; i++)
		n += tag_size(8 + ld->mod_str_len[i] + 1);
	n += tag_size(8);                                         /* basic meminfo */
	n += tag_size(8 + LD_MMAP_ENTRIES * MB2_MMAP_ENTRY);      /* memory map */
	if (load_base_tag)
		n += tag_size(4);
	n += tag_size(0);                                         /* end */
	return n;
}

/* Starts a tag at *at; returns a pointer to its payload and moves *at past it. */
static u8 *mb2_tag(struct ld *ld, u64 *at, u32 type, u64 payload)
{
	u8 *p = ld_ptr(ld, *at);

	ld_put32(p, type);
	ld_put32(p + 4, (u32)(8 + payload));
	*at += tag_size(payload);
	return p + 8;
}

void mb2_info_write(struct ld *ld, u64 gpa, bool load_base_tag)
{
	struct ld_mmap map[LD_MMAP_ENTRIES];
	u32 n = ld_mem_map(ld, map);
	u64 at = gpa + 8;
	u8 *p;

	p = mb2_tag(ld, &at, MB2I_CMDLINE, ld->cmdline_len + 1);
	memcpy(p, ld->cmdline, ld->cmdline_len);
	p = mb2_tag(ld, &at, MB2I_LOADER_NAME, BOOTLOADER_NAME_SIZE);
	memcpy(p, BOOTLOADER_NAME, BOOTLOADER_NAME_SIZE);
	for (u32 i = 0; i < ld->nmod; i++) {
		p = mb2_tag(ld, &at, MB2I_MODULE, 8 + ld->mod_str_len[i] + 1);
		ld_put32(p, (u32)ld->mod_gpa[i]);
		ld_put32(p + 4, (u32)(ld->mod_gpa[i] + ld->mods[i].size));
		memcpy(p + 8, mod_str(ld, i), ld->mod_str_len[i]);
	}
	p = mb2_tag(ld, &at, MB2I_MEMINFO, 8);
	ld_put32(p, ld_mem_lower(ld));
	ld_put32(p + 4, ld_mem_upper(ld));
	p = mb2_tag(ld, &at, MB2I_MMAP, 8 + (u64)n * MB2_MMAP_ENTRY);
	ld_put32(p, MB2_MMAP_ENTRY);
	ld_put32(p + 4, 0); /* entry_version */
	for (u32 i = 0; i < n; i++) {
		u8 *e = p + 8 + (u64)i * MB2_MMAP_ENTRY;

		ld_put64(e, map[i].base);
		ld_put64(e + 8, map[i].len);
		ld_put32(e + 16, map[i].type);
	}
	if (load_base_tag) {
		p = mb2_tag(ld, &at, MB2I_LOAD_BASE, 4);
		ld_put32(p, (u32)ld->kernel_low);
	}
	mb2_tag(ld, &at, MB2I_END, 0);
	p = ld_ptr(ld, gpa);
	ld_put32(p, (u32)(at - gpa)); /* total_size */
	ld_put32(p + 4, 0);           /* reserved */
}

/* ------------------------------------------------------------------ Multiboot 2 load */

#define MB2B_GDT 0
#define MB2B_INFO 32

int mb2_load(struct ld *ld, u64 hdr_off, struct guest_entry *entry)
{
	const u8 *h = ld->image + hdr_off;
	u32 arch = ld_get32(h + 4), hlen = ld_get32(h + 8);
	struct mb2_header mh = { 0 };
	bool load_base_tag;
	u64 block, block_size;
	int err;

	if (!mb2_checksum_ok(h))
		return ld_fail(ld, BH_EINVAL, "multiboot2 header checksum mismatch (header at offset "
			       "0x%llx)", (unsigned long long)hdr_off);
	if (arch != MB2_ARCH_I386)
		return ld_fail(ld, BH_ENOTSUP, "multiboot2 header is for architecture %u (%s), not "
			       "i386 (0)", arch, arch == MB2_ARCH_MIPS32 ? "MIPS" : "unknown");
	if (hlen < 16 + 8)
		return ld_fail(ld, BH_EINVAL, "multiboot2 header_length %u is too small for the "
			       "header and an end tag", hlen);
	if (!ld_fits(hdr_off, hlen, MIN(ld->size, MB2_SEARCH)))
		return ld_fail(ld, BH_EINVAL, "multiboot2 header (%u bytes at offset 0x%llx) runs "
			       "past %s", hlen, (unsigned long long)hdr_off,
			       ld->size < MB2_SEARCH ? "the end of the file" : "the first 32 KiB");
	err = mb2_parse_tags(ld, hdr_off, hlen, &mh);
	if (err)
		return err;

	if (mh.have_address) {
		if (!mh.have_entry)
			return ld_fail(ld, BH_EINVAL, "multiboot2 header has an address tag but no "
				       "entry address tag");
		err = aout_plan(ld, "multiboot2 load range", hdr_off, mh.header_addr, mh.load_addr,
				mh.load_end, mh.bss_end, true);
		if (!err)
			err = ld_check_entry(ld, mh.entry_addr);
	} else if (elf_is_elf(ld->image, ld->size)) {
		err = elf_plan(ld, true);
		if (!err && mh.have_entry)
			err = ld_check_entry(ld, mh.entry_addr);
	} else {
		err = ld_fail(ld, BH_EINVAL, "multiboot2 header has no address tag and the file is "
			      "not ELF");
	}
	if (err)
		return err;

	load_base_tag = mh.relocatable || mh.want_load_base;
	block_size = MB2B_INFO + mb2_info_size(ld, load_base_tag);
	err = ld_place_boot(ld, block_size, "multiboot2 information", &block);
	if (!err)
		err = ld_place_modules(ld);
	if (err)
		return err;

	ld_write_kernel(ld);
	ld_write_modules(ld);
	memset(ld_ptr(ld, block), 0, block_size);
	ld_write_gdt(ld, block + MB2B_GDT, false);
	mb2_info_write(ld, block + MB2B_INFO, load_base_tag);

	ld_fill_entry_flat(entry, GUEST_MODE_PROTECTED32, block + MB2B_GDT);
	entry->rip = ld->entry;
	entry->rax = MB2_BOOT_MAGIC;
	entry->rbx = block + MB2B_INFO;
	return 0;
}
