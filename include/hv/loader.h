/* Guest kernel loaders: Multiboot 1, Multiboot 2, plain ELF64 and Linux bzImage.
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
	GUEST_FORMAT_LINUX,     /* bzImage, x86 boot protocol 2.12+, entered at its 64-bit entry */
};

/* What the partition offers besides RAM, for the protocols that describe it to the kernel.
 * Only Linux uses it: the ACPI area is reserved in its e820 map and boot_params.acpi_rsdp_addr
 * points at the RSDP. The other protocols ignore it. */
struct guest_platform {
	u64 acpi_base, acpi_size; /* page-aligned area holding the ACPI tables; size 0: none */
	u64 acpi_rsdp;            /* the RSDP, 16-byte aligned, inside that area */
};

/* Where the partition code builds a guest's ACPI tables (hv/vacpi.h): the top of the legacy
 * hole, reserved in every memory map the loaders give, where a PC's firmware keeps its RSDP,
 * so that kernels without acpi_rsdp_addr find it by the usual scan of 0xE0000-0xFFFFF. */
#define GUEST_ACPI_BASE 0xE0000ULL
#define GUEST_ACPI_SIZE 0x20000ULL

/* Which protocol the image speaks: a Linux bzImage setup header (0xAA55 at 0x1FE, "HdrS" at
 * 0x202) wins, then a Multiboot 2 header in the first 32 KiB, then a Multiboot 1 header in the
 * first 8 KiB, then an ELF64 file header. */
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
/* The same with a platform description (NULL: none). The loader writes nothing into the ACPI
 * area and places nothing there, so the tables may be built before or after the load. A Linux
 * kernel takes the first module as its initrd and refuses further ones. */
int loader_load_platform(struct guest_ram *ram, const struct guest_blob *kernel,
			 const char *cmdline, const struct guest_blob *modules, u32 module_count,
			 const struct guest_platform *platform, struct guest_entry *entry,
			 char *why, size_t why_size);

#endif
