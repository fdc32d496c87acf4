/* Multiboot 1 header: magic, flags, checksum. No flags: the image is an ELF file (the loader
 * takes the load addresses and the entry point from it) and the guest needs no memory information. */
#define MB1_HEADER_MAGIC 0x1BADB002
#define MB1_HEADER_FLAGS 0x00000000

	.section .multiboot, "a"
	.balign 4
	.long MB1_HEADER_MAGIC
	.long MB1_HEADER_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)
