/* Guest kernel loaders: Multiboot 1, Multiboot 2 and plain ELF64 (Linux bzImage comes later).
 * Pure: they see guest RAM only as a host buffer (guest-physical 0 = buf[0]), validate every
 * header field against the image size and the RAM size, and describe the CPU state the kernel's
 * protocol defines. Unit-tested on the host with crafted and broken images. */
#ifndef BH_HV_LOADER_H
#define BH_HV_LOADER_H

#include "types.h"

#define LOADER_MAX_MODULES 9 /* an initrd and 8 modules */

/* Guest RAM: guest-physical [0, size) is host memory [base, base + size). */
struct guest_ram {
	u8 *base;
	u64 size;
};

struct guest_blob {
	const u8 *data;
	u64 size;
	const char *name;    /* file name, for messages */
	const char *args;    /* module string / arguments, "" if none */
};

enum guest_mode {
	GUEST_MODE_PROTECTED32, /* flat 4 GiB code/data segments, paging off (multiboot) */
	GUEST_MODE_LONG64,      /* long mode, identity-mapped page tables at cr3 */
	GUEST_MODE_REAL16,      /* real mode at cs:rip, segment base cs * 16 (a SIPI start) */
};

/* The vCPU state a kernel's boot protocol defines, vendor-neutral. Segments are flat (base 0,
 * limit 4 GiB), except in GUEST_MODE_REAL16 (64 KiB segments, CS base cs * 16, the others 0);
 * the vCPU code builds the descriptors. */
struct guest_entry {
	enum guest_mode mode;
	u64 rip;
	u64 rsp;          /* 0: the protocol defines none */
	u64 rax, rbx, rcx, rdx, rsi, rdi;
	u64 cr3;          /* GUEST_MODE_LONG64 only */
	u64 gdt_base;     /* a GDT the loader placed in guest RAM (selectors below), 0 if none */
	u16 gdt_limit;
	u16 cs, ds;       /* selectors matching that GDT */
};

enum guest_format {
	GUEST_FORMAT_UNKNOWN = 0,
	GUEST_FORMAT_MULTIBOOT1,
	GUEST_FORMAT_MULTIBOOT2,
	GUEST_FORMAT_ELF64,
};

/* Which protocol the image speaks: a Multiboot 2 header in the first 32 KiB wins, then a
 * Multiboot 1 header in the first 8 KiB, then an ELF64 file header. */
enum guest_format loader_detect(const u8 *image, u64 size);
const char *loader_format_name(enum guest_format format);

/* Copies the kernel and modules into guest RAM, writes the boot information the protocol
 * defines (multiboot info with command line, memory map of exactly this RAM, modules) and fills
 * *entry. Guest RAM is expected zeroed. On failure returns BH_EINVAL/BH_ERANGE/BH_ENOMEM/
 * BH_ENOTSUP and puts a one-line reason naming the file and the field in `why`.
 * Memory-map and layout conventions: docs/guest-boot.md. */
int loader_load(struct guest_ram *ram, const struct guest_blob *kernel, const char *cmdline,
		const struct guest_blob *modules, u32 module_count, struct guest_entry *entry,
		char *why, size_t why_size);

#endif
