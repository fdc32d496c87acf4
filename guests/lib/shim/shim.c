/* TEST-ONLY shim, never part of a partition: lets QEMU's -kernel (which boots Multiboot 1 ELF32
 * kernels only) start memcheck (Multiboot 2) and the attacker (ELF64) the way Bulkhead's loaders
 * do, to try them before the hypervisor can run partitions. It loads the built-in kernel's
 * PT_LOAD segments, turns the Multiboot 1 information into Multiboot 2 (command line, memory
 * map), and enters the kernel: 32-bit with EAX = 0x36D76289, EBX = info for an ELF32; long mode
 * on identity-mapped page tables (0-4 GiB) with RDI = info, RSI = 0x36D76289 for an ELF64.
 * On the command line, `shimram=<MiB>` cuts the memory map there, like a small partition, and
 * `shimfake=<MiB>` adds a 1 MiB "available" entry at that address where there is no RAM (to see
 * memcheck fail). */
#include "guest.h"
#include "io.h"

#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MMAP (1u << 6)

struct mb1_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};

struct mb1_mmap {
	u32 size;
	u64 base, length;
	u32 type;
} __attribute__((packed));

struct elf_ident {
	u8 magic[4], class, data, version, pad[9];
};

struct elf32_ehdr {
	struct elf_ident id;
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct elf64_ehdr {
	struct elf_ident id;
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

extern const u8 payload_start[], payload_end[];
void shim_main(u32 magic, u32 info);
void shim_enter32(u32 entry, u32 magic, u32 info);
void shim_enter64(u32 cr3, u32 entry, u32 magic, u32 info);

static u8 mb2[4096] __attribute__((aligned(8)));
static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[4][512] __attribute__((aligned(4096)));

static NORETURN void die(const char *why)
{
	con_printf("SHIM error: %s\n", why);
	halt_forever();
}

static void load_segment(u64 offset, u64 paddr, u64 filesz, u64 memsz)
{
	u64 size = (u64)(payload_end - payload_start);

	if (offset > size || filesz > size - offset || filesz > memsz || paddr + memsz > 0xf000000)
		die("bad program header");
	memcpy((void *)(uptr)paddr, payload_start + offset, (size_t)filesz);
	memset((void *)(uptr)(paddr + filesz), 0, (size_t)(memsz - filesz));
}

static u32 put_tag(u32 off, u32 type, const void *data, u32 size)
{
	u32 *t = (u32 *)(mb2 + off);

	if (off + 8 + size + 8 > sizeof(mb2))
		die("boot information too large");
	t[0] = type;
	t[1] = 8 + size;
	memcpy(t + 2, data, size);
	return (off + 8 + size + 7) & ~7u;
}

static u32 build_mb2(const struct mb1_info *mbi, u64 ram_cut, u64 fake)
{
	static u8 map[8 + 33 * 24];
	const char *cmdline = (mbi->flags & MB1_INFO_CMDLINE) ? (const char *)(uptr)mbi->cmdline : "";
	u32 off = 8, n = 0;

	off = put_tag(off, 1, cmdline, (u32)strlen(cmdline) + 1);
	((u32 *)map)[0] = 24; /* entry size */
	((u32 *)map)[1] = 0;  /* entry version */
	if (mbi->flags & MB1_INFO_MMAP) {
		for (u32 p = 0; p + 4 <= mbi->mmap_length && n < 32;) {
			const struct mb1_mmap *e = (const void *)(uptr)(mbi->mmap_addr + p);
			u64 *d = (u64 *)(map + 8 + n * 24);

			p += e->size + 4;
			if (ram_cut && e->base >= ram_cut)
				continue;
			d[0] = e->base;
			d[1] = ram_cut && e->base + e->length > ram_cut ? ram_cut - e->base : e->length;
			d[2] = e->type;
			n++;
		}
	}
	if (fake) {
		u64 *d = (u64 *)(map + 8 + n++ * 24);

		d[0] = fake;
		d[1] = MiB;
		d[2] = 1;
	}
	off = put_tag(off, 6, map, 8 + n * 24);
	((u32 *)(mb2 + off))[0] = 0; /* end tag */
	((u32 *)(mb2 + off))[1] = 8;
	off += 8;
	((u32 *)mb2)[0] = off;
	((u32 *)mb2)[1] = 0;
	return off;
}

static u64 mib_option(const struct mb1_info *mbi, const char *key)
{
	char v[16];
	u64 mib = 0;

	if (!(mbi->flags & MB1_INFO_CMDLINE) ||
	    !cmdline_get((const char *)(uptr)mbi->cmdline, key, v, sizeof(v)))
		return 0;
	for (const char *p = v; *p >= '0' && *p <= '9'; p++)
		mib = mib * 10 + (u64)(*p - '0');
	return mib * MiB;
}

void shim_main(u32 magic, u32 info)
{
	const struct mb1_info *mbi = (const struct mb1_info *)(uptr)info;
	const struct elf_ident *id = (const void *)payload_start;

	con_init();
	if (magic != 0x2BADB002u)
		die("not started by a Multiboot 1 loader");
	if (memcmp(id->magic, "\177ELF", 4))
		die("payload is not ELF");
	build_mb2(mbi, mib_option(mbi, "shimram"), mib_option(mbi, "shimfake"));

	if (id->class == 1) {
		const struct elf32_ehdr *eh = (const void *)payload_start;

		for (u32 i = 0; i < eh->phnum; i++) {
			const struct elf32_phdr *ph =
				(const void *)(payload_start + eh->phoff + i * eh->phentsize);

			if (ph->type == 1)
				load_segment(ph->offset, ph->paddr, ph->filesz, ph->memsz);
		}
		con_printf("SHIM starting ELF32 at 0x%x, Multiboot 2 info at %p\n", eh->entry,
			   (void *)mb2);
		shim_enter32(eh->entry, MB2_BOOT_MAGIC, (u32)(uptr)mb2);
	} else if (id->class == 2) {
		const struct elf64_ehdr *eh = (const void *)payload_start;

		for (u32 i = 0; i < eh->phnum; i++) {
			const struct elf64_phdr *ph =
				(const void *)(payload_start + eh->phoff + i * eh->phentsize);

			if (ph->type == 1)
				load_segment(ph->offset, ph->paddr, ph->filesz, ph->memsz);
		}
		memset(pml4, 0, sizeof(pml4));
		memset(pdpt, 0, sizeof(pdpt));
		for (u32 g = 0; g < 4; g++) {
			for (u32 j = 0; j < 512; j++)
				pd[g][j] = ((u64)g << 30) + ((u64)j << 21) + 0x83; /* P, W, PS */
			pdpt[g] = (u64)(uptr)pd[g] + 0x3;
		}
		pml4[0] = (u64)(uptr)pdpt + 0x3;
		con_printf("SHIM starting ELF64 at 0x%llx, Multiboot 2 info at %p\n",
			   (unsigned long long)eh->entry, (void *)mb2);
		shim_enter64((u32)(uptr)pml4, (u32)eh->entry, MB2_BOOT_MAGIC, (u32)(uptr)mb2);
	}
	die("payload is neither ELF32 nor ELF64");
}
