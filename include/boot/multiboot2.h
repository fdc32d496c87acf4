/* Multiboot2 (the GRUB 2 boot protocol): the numbers and layouts Bulkhead's multiboot2 entry uses.
 * Written from the Multiboot2 specification (version 2.0). Usable from assembly (the constants)
 * and C (the structures). */
#ifndef BH_BOOT_MULTIBOOT2_H
#define BH_BOOT_MULTIBOOT2_H

/* The header in the kernel image: within its first 32 KiB, 8-byte aligned. */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0            /* 32-bit protected mode entry */
#define MB2_HEADER_TAG_END 0
#define MB2_HEADER_TAG_INFO_REQUEST 1
#define MB2_HEADER_TAG_MODULE_ALIGN 6
#define MB2_HEADER_TAG_OPTIONAL 1  /* flags bit 0: the loader may ignore the tag */

/* In EAX at the entry; EBX holds the physical address of the information structure. */
#define MB2_BOOTLOADER_MAGIC 0x36d76289

/* Tags of the boot information structure. */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_BS 18          /* boot services still running: not requested, refused */

/* Memory map entry types. */
#define MB2_MEM_AVAILABLE 1
#define MB2_MEM_RESERVED 2
#define MB2_MEM_ACPI_RECLAIMABLE 3
#define MB2_MEM_NVS 4
#define MB2_MEM_BADRAM 5

#ifndef __ASSEMBLY__
#include "types.h"

struct mb2_info_header {
	u32 total_size; /* bytes, this header included */
	u32 reserved;
} PACKED;

struct mb2_tag {
	u32 type;
	u32 size;       /* bytes, this header included, padding to 8 excluded */
} PACKED;

struct mb2_tag_string {   /* MB2_TAG_CMDLINE, MB2_TAG_LOADER_NAME */
	struct mb2_tag tag;
	char string[];
} PACKED;

struct mb2_tag_module {
	struct mb2_tag tag;
	u32 mod_start;
	u32 mod_end;    /* exclusive */
	char string[];
} PACKED;

struct mb2_tag_basic_meminfo {
	struct mb2_tag tag;
	u32 mem_lower;  /* KiB from 0 */
	u32 mem_upper;  /* KiB from 1 MiB */
} PACKED;

struct mb2_mmap_entry {
	u64 base_addr;
	u64 length;
	u32 type;
	u32 reserved;
} PACKED;

struct mb2_tag_mmap {
	struct mb2_tag tag;
	u32 entry_size;
	u32 entry_version;
	/* entries of entry_size bytes follow */
} PACKED;

#define MB2_RSDP_V1_SIZE 20
#define MB2_RSDP_V2_SIZE 36
#endif

#endif
