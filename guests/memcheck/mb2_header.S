/* Multiboot 2 header (8-byte aligned, in the first 32 KiB of the file): magic, architecture 0
 * (i386 protected mode), length, checksum, then tags. One information request, not optional:
 * memcheck cannot work without the memory map (6); it also wants the command line (1). The
 * image is an ELF file: load addresses and entry point come from it, no address tags. */
#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	.balign 8
info_request:
	.short 1			/* type: information request */
	.short 0			/* flags: required */
	.long info_request_end - info_request
	.long 1				/* boot command line */
	.long 6				/* memory map */
info_request_end:

	.balign 8
	.short 0			/* end tag */
	.short 0
	.long 8
mb2_header_end:
