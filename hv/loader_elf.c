/* ELF program-header loading (ELF32 and ELF64, little-endian x86) for multiboot kernels, and
 * plain ELF64 kernels started in long mode on identity-mapped page tables. */
#include "types.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"
#include "hv/loader.h"
#include "loader_internal.h"

#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_INTERP 3

#define EHDR32_SIZE 52
#define EHDR64_SIZE 64
#define PHDR32_SIZE 32
#define PHDR64_SIZE 56

/* The fields used, read at the offsets of either class. */
struct elf_hdr {
	bool is64;
	u16 type, machine, phentsize, phnum;
	u64 entry, phoff;
};

struct elf_phdr {
	u32 type;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

bool elf_is_elf(const u8 *image, u64 size)
{
	return size >= 4 && image[0] == 0x7F && image[1] == 'E' && image[2] == 'L' &&
	       image[3] == 'F';
}

static int read_ehdr(struct ld *ld, struct elf_hdr *eh)
{
	const u8 *p = ld->image;

	if (ld->size < EI_NIDENT || !elf_is_elf(p, ld->size))
		return ld_fail(ld, BH_EINVAL, "not an ELF file");
	if (p[EI_CLASS] != ELFCLASS32 && p[EI_CLASS] != ELFCLASS64)
		return ld_fail(ld, BH_EINVAL, "ELF class %u is neither 32-bit nor 64-bit",
			       p[EI_CLASS]);
	if (p[EI_DATA] == ELFDATA2MSB)
		return ld_fail(ld, BH_ENOTSUP, "big-endian ELF file");
	if (p[EI_DATA] != ELFDATA2LSB)
		return ld_fail(ld, BH_EINVAL, "ELF data encoding %u is not defined", p[EI_DATA]);
	if (p[EI_VERSION] != EV_CURRENT)
		return ld_fail(ld, BH_EINVAL, "ELF version %u, expected 1", p[EI_VERSION]);
	eh->is64 = p[EI_CLASS] == ELFCLASS64;
	if (ld->size < (eh->is64 ? EHDR64_SIZE : EHDR32_SIZE))
		return ld_fail(ld, BH_EINVAL, "file of %llu bytes is shorter than its ELF header",
			       (unsigned long long)ld->size);
	eh->type = ld_get16(p + 16);
	eh->machine = ld_get16(p + 18);
	if (eh->is64) {
		eh->entry = ld_get64(p + 24);
		eh->phoff = ld_get64(p + 32);
		eh->phentsize = ld_get16(p + 54);
		eh->phnum = ld_get16(p + 56);
	} else {
		eh->entry = ld_get32(p + 24);
		eh->phoff = ld_get32(p + 28);
		eh->phentsize = ld_get16(p + 42);
		eh->phnum = ld_get16(p + 44);
	}
	if (eh->type == ET_DYN)
		return ld_fail(ld, BH_ENOTSUP, "ELF type 3 (shared object or position-independent "
			       "executable); kernels must be linked as ET_EXEC");
	if (eh->type != ET_EXEC)
		return ld_fail(ld, BH_EINVAL, "ELF type %u is not an executable (ET_EXEC)",
			       eh->type);
	if (eh->machine != (eh->is64 ? EM_X86_64 : EM_386))
		return ld_fail(ld, BH_ENOTSUP, "ELF machine %u in a %s file, expected %s",
			       eh->machine, eh->is64 ? "64-bit" : "32-bit",
			       eh->is64 ? "x86-64 (62)" : "i386 (3)");
	if (eh->phentsize != (eh->is64 ? PHDR64_SIZE : PHDR32_SIZE))
		return ld_fail(ld, BH_EINVAL, "e_phentsize %u, expected %u", eh->phentsize,
			       eh->is64 ? PHDR64_SIZE : PHDR32_SIZE);
	if (!eh->phnum)
		return ld_fail(ld, BH_EINVAL, "no program headers");
	if (eh->phnum > LD_MAX_SEGMENTS)
		return ld_fail(ld, BH_ENOTSUP, "%u program headers, at most %d are supported",
			       eh->phnum, LD_MAX_SEGMENTS);
	if (!ld_fits(eh->phoff, (u64)eh->phnum * eh->phentsize, ld->size))
		return ld_fail(ld, BH_EINVAL, "program headers at offset 0x%llx (%u x %u bytes) lie "
			       "beyond the end of the file (0x%llx bytes)",
			       (unsigned long long)eh->phoff, eh->phnum, eh->phentsize,
			       (unsigned long long)ld->size);
	return 0;
}

/* Program header i; read_ehdr checked that all of them lie inside the file. */
static void read_phdr(const struct ld *ld, const struct elf_hdr *eh, u32 i, struct elf_phdr *ph)
{
	const u8 *p = ld->image + eh->phoff + (u64)i * eh->phentsize;

	if (eh->is64) {
		ph->type = ld_get32(p);
		ph->offset = ld_get64(p + 8);
		ph->vaddr = ld_get64(p + 16);
		ph->paddr = ld_get64(p + 24);
		ph->filesz = ld_get64(p + 32);
		ph->memsz = ld_get64(p + 40);
		ph->align = ld_get64(p + 48);
	} else {
		ph->type = ld_get32(p);
		ph->offset = ld_get32(p + 4);
		ph->vaddr = ld_get32(p + 8);
		ph->paddr = ld_get32(p + 12);
		ph->filesz = ld_get32(p + 16);
		ph->memsz = ld_get32(p + 20);
		ph->align = ld_get32(p + 28);
	}
}

static int plan_segment(struct ld *ld, u32 i, const struct elf_phdr *ph, bool multiboot)
{
	char what[24];

	fmt_snprintf(what, sizeof(what), "segment %u", i);
	if (ph->align > 1 && (ph->align & (ph->align - 1)))
		return ld_fail(ld, BH_EINVAL, "%s: p_align 0x%llx is not a power of two", what,
			       (unsigned long long)ph->align);
	if (ph->align > 1 && ph->offset % ph->align != ph->vaddr % ph->align)
		return ld_fail(ld, BH_EINVAL, "%s: p_offset 0x%llx and p_vaddr 0x%llx differ "
			       "modulo p_align 0x%llx", what, (unsigned long long)ph->offset,
			       (unsigned long long)ph->vaddr, (unsigned long long)ph->align);
	if (!multiboot && ph->vaddr != ph->paddr)
		return ld_fail(ld, BH_ENOTSUP, "%s is linked at 0x%llx but loads at 0x%llx: "
			       "higher-half kernels need a multiboot header", what,
			       (unsigned long long)ph->vaddr, (unsigned long long)ph->paddr);
	return ld_add_segment(ld, what, ph->paddr, ph->memsz, ph->offset, ph->filesz,
			      multiboot ? LD_4G : ~0ULL);
}

int elf_plan(struct ld *ld, bool multiboot)
{
	struct elf_hdr eh = { 0 };
	struct elf_phdr ph;
	int err = read_ehdr(ld, &eh);

	if (err)
		return err;
	if (!multiboot && !eh.is64)
		return ld_fail(ld, BH_ENOTSUP, "a 32-bit ELF file needs a multiboot header");
	for (u32 i = 0; i < eh.phnum; i++) {
		read_phdr(ld, &eh, i, &ph);
		if (ph.type == PT_INTERP)
			return ld_fail(ld, BH_ENOTSUP, "segment %u is PT_INTERP: a dynamically linked "
				       "program, not a kernel", i);
		if (ph.type != PT_LOAD)
			continue;
		err = plan_segment(ld, i, &ph, multiboot);
		if (err)
			return err;
	}
	if (!ld->nseg)
		return ld_fail(ld, BH_EINVAL, "no loadable segment (PT_LOAD with a memory size)");
	if (!multiboot)
		return ld_check_entry(ld, eh.entry);

	/* Multiboot loads at physical addresses: e_entry is translated through the segment
	 * whose virtual range holds it (the same address when p_vaddr == p_paddr). */
	for (u32 i = 0; i < eh.phnum; i++) {
		read_phdr(ld, &eh, i, &ph);
		if (ph.type == PT_LOAD && eh.entry >= ph.vaddr && eh.entry - ph.vaddr < ph.memsz) {
			ld->entry = ph.paddr + (eh.entry - ph.vaddr);
			return 0;
		}
	}
	return ld_fail(ld, BH_EINVAL, "entry point 0x%llx is not inside any loaded segment",
		       (unsigned long long)eh.entry);
}

/* ------------------------------------------------------------------ plain ELF64 */

#define ELFB_GDT 0
#define ELFB_INFO 32

int elf64_load(struct ld *ld, struct guest_entry *entry)
{
	u64 block, block_size, pt, pt_size;
	int err = elf_plan(ld, false);

	if (err)
		return err;
	pt_size = ld_pt_size(ld);
	block_size = ELFB_INFO + mb2_info_size(ld, false);
	err = ld_place_boot(ld, block_size, "boot information", &block);
	if (!err)
		err = ld_place_boot(ld, pt_size, "page tables", &pt);
	if (!err)
		err = ld_place_modules(ld);
	if (err)
		return err;

	ld_write_kernel(ld);
	ld_write_modules(ld);
	memset(ld_ptr(ld, block), 0, block_size);
	ld_write_gdt(ld, block + ELFB_GDT, true);
	mb2_info_write(ld, block + ELFB_INFO, false);
	ld_pt_write(ld, pt);

	ld_fill_entry_flat(entry, GUEST_MODE_LONG64, block + ELFB_GDT);
	entry->rip = ld->entry;
	entry->cr3 = pt;
	entry->rdi = block + ELFB_INFO;
	entry->rsi = MB2_BOOT_MAGIC;
	return 0;
}
