/* GRUB's multiboot2 boot information → struct boot_info. Pure: reads the tag list from a buffer,
 * never the memory it describes (see include/boot/mb2info.h for the rules, in particular how
 * modules are named). */
#include "boot/mb2info.h"
#include "boot/multiboot2.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

#define MAX_CARVES (BOOT_MAX_FILES + 16)
#define MAX_SPANS (BOOT_MAX_MEM + MAX_CARVES)

struct span {
	u64 base;
	u64 end; /* exclusive */
	u32 type;
};

/* Working space of one parse: the raw map and the region boundaries (too big for the boot
 * stack's comfort, and parses never overlap). */
static struct span spans[MAX_SPANS];
static u64 points[2 * MAX_SPANS];

static void PRINTF_LIKE(2, 3) note(struct mb2_notes *n, const char *fmt, ...)
{
	va_list ap;

	if (!n)
		return;
	if (n->count < MB2_MAX_NOTES) {
		va_start(ap, fmt);
		fmt_vsnprintf(n->text[n->count], MB2_NOTE_MAX, fmt, ap);
		va_end(ap);
	}
	n->count++;
}

static void copy_string(char *dst, size_t size, const char *src, size_t max)
{
	size_t n = 0;

	while (n < max && src[n] && n < size - 1) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
}

/* ------------------------------------------------------------------ paths */

static char path_char(char c)
{
	if (c == '\\')
		return '/';
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}

static const char *skip_separators(const char *p)
{
	while (*p == '/' || *p == '\\')
		p++;
	return p;
}

bool mb2_same_path(const char *a, const char *b)
{
	a = skip_separators(a);
	b = skip_separators(b);
	for (; *a && *b; a++, b++)
		if (path_char(*a) != path_char(*b))
			return false;
	return *a == *b;
}

static int find_file(const struct boot_info *info, const char *path, bool exact)
{
	for (u32 i = 0; i < info->file_count; i++) {
		const char *name = info->files[i].name;

		if (exact ? !strcmp(name, path) : mb2_same_path(name, path))
			return (int)i;
	}
	return -1;
}

/* ------------------------------------------------------------------ memory map */

/* Higher wins where regions overlap: what must not be handed out beats what may be. */
static u32 type_rank(u32 type)
{
	switch (type) {
	case BOOT_MEM_USABLE: return 1;
	case BOOT_MEM_BOOT_RECLAIM: return 2;
	case BOOT_MEM_LOADER: return 3;
	case BOOT_MEM_ACPI_RECLAIM: return 4;
	case BOOT_MEM_ACPI_NVS: return 5;
	case BOOT_MEM_MMIO:
	case BOOT_MEM_RESERVED: return 6;
	case BOOT_MEM_UNUSABLE: return 7;
	default: return 0;
	}
}

static u32 mb2_mem_type(u32 type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE: return BOOT_MEM_USABLE;
	case MB2_MEM_ACPI_RECLAIMABLE: return BOOT_MEM_ACPI_RECLAIM;
	case MB2_MEM_NVS: return BOOT_MEM_ACPI_NVS;
	case MB2_MEM_BADRAM: return BOOT_MEM_UNUSABLE;
	default: return BOOT_MEM_RESERVED;
	}
}

struct map_builder {
	u32 count;
	u32 dropped;
};

static void add_span(struct map_builder *b, u64 base, u64 length, u32 type)
{
	u64 end = base + length;

	if (!length)
		return;
	if (end < base)
		end = ~0ull; /* runs past the top: clamp */
	if (b->count == MAX_SPANS) {
		b->dropped++;
		return;
	}
	spans[b->count++] = (struct span){ base, end, type };
}

static void sort_points(u32 n)
{
	for (u32 i = 1; i < n; i++) {
		u64 v = points[i];
		u32 j = i;

		for (; j > 0 && points[j - 1] > v; j--)
			points[j] = points[j - 1];
		points[j] = v;
	}
}

/* Paints the spans onto the line of addresses: each elementary interval takes the type of the
 * highest-ranked span covering it; equal neighbours merge; usable RAM shrinks to whole pages. */
static void build_map(const struct map_builder *b, struct boot_info *info, struct mb2_notes *notes)
{
	u32 np = 0, unique = 0, lost = 0;

	for (u32 i = 0; i < b->count; i++) {
		points[np++] = spans[i].base;
		points[np++] = spans[i].end;
	}
	sort_points(np);
	for (u32 i = 0; i < np; i++)
		if (!unique || points[unique - 1] != points[i])
			points[unique++] = points[i];

	info->mem_count = 0;
	for (u32 i = 0; i + 1 < unique; i++) {
		u64 lo = points[i], hi = points[i + 1];
		u32 best = 0, type = 0;
		struct boot_mem_region *last;

		for (u32 s = 0; s < b->count; s++) {
			if (spans[s].base <= lo && spans[s].end >= hi && type_rank(spans[s].type) > best) {
				best = type_rank(spans[s].type);
				type = spans[s].type;
			}
		}
		if (!type)
			continue; /* a hole */
		last = info->mem_count ? &info->mem[info->mem_count - 1] : NULL;
		if (last && last->type == type && last->base + last->size == lo) {
			last->size += hi - lo;
			continue;
		}
		if (info->mem_count == BOOT_MAX_MEM) {
			lost++;
			continue;
		}
		info->mem[info->mem_count++] = (struct boot_mem_region){ lo, hi - lo, type };
	}

	/* Usable RAM in whole pages only: the hypervisor hands it out by the page. */
	u32 out = 0;
	for (u32 i = 0; i < info->mem_count; i++) {
		struct boot_mem_region r = info->mem[i];

		if (r.type == BOOT_MEM_USABLE) {
			u64 lo = ALIGN_UP(r.base, PAGE_SIZE);
			u64 hi = ALIGN_DOWN(r.base + r.size, PAGE_SIZE);

			if (r.base > ~0ull - PAGE_SIZE || lo >= hi)
				continue;
			r.base = lo;
			r.size = hi - lo;
		}
		info->mem[out++] = r;
	}
	info->mem_count = out;
	if (lost || b->dropped)
		note(notes, "memory map: %u regions beyond the first %u ignored", lost + b->dropped,
		     BOOT_MAX_MEM);
}

int mb2_take_pages(struct boot_info *info, u64 pages, u64 limit, u64 *addr)
{
	u64 need = pages * PAGE_SIZE;

	if (!pages || pages > (~0ull >> 13))
		return BH_ENOMEM;
	limit = ALIGN_DOWN(limit, PAGE_SIZE);
	for (u32 i = info->mem_count; i-- > 0;) {
		struct boot_mem_region *r = &info->mem[i];
		u64 top = MIN(r->base + r->size, limit), lo;
		struct boot_mem_region pieces[3];
		u32 n = 0;

		if (r->type != BOOT_MEM_USABLE || top < r->base + need || top - need < PAGE_SIZE)
			continue;
		lo = top - need;
		if (r->base < lo)
			pieces[n++] = (struct boot_mem_region){ r->base, lo - r->base, BOOT_MEM_USABLE };
		pieces[n++] = (struct boot_mem_region){ lo, need, BOOT_MEM_LOADER };
		if (top < r->base + r->size)
			pieces[n++] = (struct boot_mem_region){ top, r->base + r->size - top,
								BOOT_MEM_USABLE };
		if (info->mem_count + n - 1 > BOOT_MAX_MEM)
			return BH_ENOMEM;
		memmove(&info->mem[i + n], &info->mem[i + 1],
			(info->mem_count - i - 1) * sizeof(info->mem[0]));
		memcpy(&info->mem[i], pieces, n * sizeof(pieces[0]));
		info->mem_count += n - 1;
		*addr = lo;
		return 0;
	}
	return BH_ENOMEM;
}

/* ------------------------------------------------------------------ tags */

struct parse {
	const u8 *mbi;
	u32 total;
	const struct mb2_where *where;
	struct boot_info *info;
	struct mb2_notes *notes;
	struct map_builder map;
	const struct mb2_tag_mmap *mmap;
	const struct mb2_tag_basic_meminfo *meminfo;
	u64 rsdp_old, rsdp_new;
	u32 modules;
	u64 carves[MAX_CARVES][2];
	u32 carve_count;
};

static void carve(struct parse *p, u64 base, u64 end)
{
	if (end <= base)
		return;
	if (p->carve_count == MAX_CARVES) {
		note(p->notes, "too many modules: memory of module at 0x%llx not reserved",
		     (unsigned long long)base);
		return;
	}
	p->carves[p->carve_count][0] = ALIGN_DOWN(base, PAGE_SIZE);
	p->carves[p->carve_count][1] = end > ~0ull - PAGE_SIZE ? ~0ull : ALIGN_UP(end, PAGE_SIZE);
	p->carve_count++;
}

static void take_cmdline(struct parse *p, const struct mb2_tag_string *t)
{
	size_t max = t->tag.size - sizeof(t->tag);

	copy_string(p->info->cmdline, sizeof(p->info->cmdline), t->string, max);
	if (strnlen(t->string, max) >= sizeof(p->info->cmdline))
		note(p->notes, "command line longer than %u characters: cut",
		     (unsigned)sizeof(p->info->cmdline) - 1);
}

static void take_module(struct parse *p, const struct mb2_tag_module *t)
{
	struct boot_info *info = p->info;
	size_t max = t->tag.size - sizeof(*t);
	const char *s = t->string;
	struct boot_file *f;
	size_t n = 0;

	p->modules++;
	carve(p, t->mod_start, t->mod_end);
	if (info->file_count == BOOT_MAX_FILES) {
		if (p->modules == BOOT_MAX_FILES + 1)
			note(p->notes, "more than %u modules: module %u and later are ignored",
			     BOOT_MAX_FILES, p->modules);
		return;
	}
	f = &info->files[info->file_count++];
	/* The name is the first word of the module's string. */
	while (max && (*s == ' ' || *s == '\t')) {
		s++;
		max--;
	}
	while (n < max && s[n] && s[n] != ' ' && s[n] != '\t')
		n++;
	if (!n)
		fmt_snprintf(f->name, sizeof(f->name), "module%u", p->modules);
	else
		copy_string(f->name, sizeof(f->name), s, n);
	if (n >= sizeof(f->name))
		note(p->notes, "module %u: name longer than %u characters: cut", p->modules,
		     (unsigned)sizeof(f->name) - 1);
	if (t->mod_end < t->mod_start) {
		note(p->notes, "module '%s' ends (0x%x) before it starts (0x%x)", f->name,
		     t->mod_end, t->mod_start);
		f->error = BH_EINVAL;
		return;
	}
	if (!IS_ALIGNED(t->mod_start, PAGE_SIZE))
		note(p->notes, "module '%s' at 0x%x is not page aligned", f->name, t->mod_start);
	f->addr = t->mod_start;
	f->size = t->mod_end - t->mod_start;
}

static void take_tag(struct parse *p, u32 off, const struct mb2_tag *tag)
{
	switch (tag->type) {
	case MB2_TAG_CMDLINE:
		take_cmdline(p, (const struct mb2_tag_string *)tag);
		break;
	case MB2_TAG_MODULE:
		if (tag->size < sizeof(struct mb2_tag_module)) {
			note(p->notes, "module tag at offset %u too short (%u bytes): ignored", off,
			     tag->size);
			break;
		}
		take_module(p, (const struct mb2_tag_module *)tag);
		break;
	case MB2_TAG_BASIC_MEMINFO:
		if (tag->size >= sizeof(struct mb2_tag_basic_meminfo))
			p->meminfo = (const struct mb2_tag_basic_meminfo *)tag;
		break;
	case MB2_TAG_MMAP: {
		const struct mb2_tag_mmap *m = (const struct mb2_tag_mmap *)tag;

		if (tag->size < sizeof(*m) || m->entry_size < sizeof(struct mb2_mmap_entry)) {
			note(p->notes, "memory map tag at offset %u malformed: ignored", off);
			break;
		}
		p->mmap = m;
		break;
	}
	case MB2_TAG_ACPI_OLD:
		if (tag->size >= sizeof(*tag) + MB2_RSDP_V1_SIZE)
			p->rsdp_old = p->where->mbi_phys + off + sizeof(*tag);
		break;
	case MB2_TAG_ACPI_NEW:
		if (tag->size >= sizeof(*tag) + MB2_RSDP_V1_SIZE)
			p->rsdp_new = p->where->mbi_phys + off + sizeof(*tag);
		break;
	case MB2_TAG_EFI_BS:
		note(p->notes, "the boot loader left UEFI boot services running; Bulkhead does not "
			       "use them");
		break;
	default:
		break;
	}
}

static bool is_ram(u32 type)
{
	return type != BOOT_MEM_RESERVED && type != BOOT_MEM_MMIO;
}

/* A BIOS map marks address windows as "reserved" too (PCI ECAM, the APIC pages, AMD's
 * HyperTransport hole below 1 TiB). Reserved ranges that start beyond the end of RAM, not right
 * at it (firmware keeps RAM at the top of the low memory), cannot be RAM: below 4 GiB they are
 * recorded as MMIO, not as memory the firmware keeps; above 4 GiB they are left out, as UEFI
 * firmware leaves them out of its map (the hypervisor would map them for nothing). */
static void mark_windows(struct map_builder *b)
{
	u64 ram_top = 0;
	u32 out = 0;

	for (u32 i = 0; i < b->count; i++)
		if (is_ram(spans[i].type))
			ram_top = MAX(ram_top, spans[i].end);
	for (u32 i = 0; i < b->count; i++) {
		if (spans[i].type == BOOT_MEM_RESERVED && spans[i].base > ram_top) {
			if (spans[i].base >= 4 * GiB)
				continue;
			spans[i].type = BOOT_MEM_MMIO;
		}
		spans[out++] = spans[i];
	}
	b->count = out;
}

static void take_memory(struct parse *p)
{
	if (p->mmap) {
		const struct mb2_tag_mmap *m = p->mmap;
		u32 count = (u32)((m->tag.size - sizeof(*m)) / m->entry_size);
		const u8 *e = (const u8 *)(m + 1);

		for (u32 i = 0; i < count; i++, e += m->entry_size) {
			const struct mb2_mmap_entry *me = (const struct mb2_mmap_entry *)e;

			add_span(&p->map, me->base_addr, me->length, mb2_mem_type(me->type));
		}
	} else if (p->meminfo) {
		note(p->notes, "no memory map from the boot loader: using its lower/upper sizes");
		add_span(&p->map, 0, (u64)p->meminfo->mem_lower * KiB, BOOT_MEM_USABLE);
		add_span(&p->map, 1 * MiB, (u64)p->meminfo->mem_upper * KiB, BOOT_MEM_USABLE);
	}
	mark_windows(&p->map);
	for (u32 i = 0; i < p->carve_count; i++)
		add_span(&p->map, p->carves[i][0], p->carves[i][1] - p->carves[i][0],
			 BOOT_MEM_LOADER);
	build_map(&p->map, p->info, p->notes);
}

/* "config=NAME" anywhere on the command line (at a word start) names the configuration. */
static void config_name(const char *cmdline, char *name, size_t size)
{
	copy_string(name, size, MB2_DEFAULT_CONFIG, size);
	for (const char *c = cmdline; *c; c++) {
		if ((c == cmdline || c[-1] == ' ') && !strncmp(c, "config=", 7)) {
			size_t n = 0;

			c += 7;
			while (c[n] && c[n] != ' ')
				n++;
			copy_string(name, size, c, n);
			return;
		}
	}
}

int mb2_parse(const void *mbi, u64 avail, const struct mb2_where *where, struct boot_info *info,
	      struct mb2_notes *notes)
{
	static struct parse p;
	const struct mb2_info_header *h = mbi;
	char cfg[BOOT_NAME_MAX];
	bool ended = false;
	u32 off;

	memset(info, 0, sizeof(*info));
	info->magic = BOOT_INFO_MAGIC;
	info->config_file = -1;
	copy_string(info->loader, sizeof(info->loader), "multiboot2", sizeof(info->loader));
	info->image_base = where->image_start;
	info->image_size = where->image_end - where->image_start;
	if (notes)
		notes->count = 0;

	if (!mbi || avail < sizeof(*h) + sizeof(struct mb2_tag)) {
		note(notes, "no boot information");
		return BH_EINVAL;
	}
	if (h->total_size < sizeof(*h) + sizeof(struct mb2_tag) || h->total_size > avail) {
		note(notes, "boot information has a bad total size %u", h->total_size);
		return BH_EINVAL;
	}
	if (!IS_ALIGNED(where->mbi_phys, 8)) {
		note(notes, "boot information at 0x%llx is not 8-byte aligned",
		     (unsigned long long)where->mbi_phys);
		return BH_EINVAL;
	}

	memset(&p, 0, sizeof(p));
	p.mbi = mbi;
	p.total = h->total_size;
	p.where = where;
	p.info = info;
	p.notes = notes;
	carve(&p, where->image_start, where->image_end);
	carve(&p, where->mbi_phys, where->mbi_phys + h->total_size);

	for (off = sizeof(*h); off + sizeof(struct mb2_tag) <= p.total;) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(p.mbi + off);

		if (tag->size < sizeof(*tag) || tag->size > p.total - off) {
			note(notes, "tag %u at offset %u has a bad size %u: the rest is ignored",
			     tag->type, off, tag->size);
			break;
		}
		if (tag->type == MB2_TAG_END) {
			ended = true;
			break;
		}
		take_tag(&p, off, tag);
		off += ALIGN_UP(tag->size, 8u);
	}
	if (!ended && off + sizeof(struct mb2_tag) > p.total)
		note(notes, "boot information has no end tag");

	if (!p.mmap && !p.meminfo) {
		note(notes, "the boot loader gave no memory information");
		return BH_EINVAL;
	}
	take_memory(&p);
	info->rsdp = p.rsdp_new ? p.rsdp_new : p.rsdp_old;

	config_name(info->cmdline, cfg, sizeof(cfg));
	info->config_file = find_file(info, cfg, false);
	if (info->config_file >= 0 && info->files[info->config_file].error)
		info->config_file = -1;
	if (info->config_file < 0)
		note(notes, "no module is named '%s' (the configuration)", cfg);

	if (mb2_take_pages(info, 1, MB2_TRAMPOLINE_LIMIT, &info->trampoline) != 0) {
		info->trampoline = 0;
		note(notes, "no free page below 0x%llx for starting the other CPUs",
		     MB2_TRAMPOLINE_LIMIT);
	}
	return 0;
}

/* ------------------------------------------------------------------ names from the config */

struct namer {
	struct boot_info *info;
	struct mb2_notes *notes;
	bool claimed[BOOT_MAX_FILES];
};

static struct boot_file *append_file(struct namer *n, const char *path)
{
	struct boot_info *info = n->info;
	struct boot_file *f;

	if (info->file_count == BOOT_MAX_FILES) {
		note(n->notes, "too many files: '%s' not recorded", path);
		return NULL;
	}
	f = &info->files[info->file_count];
	memset(f, 0, sizeof(*f));
	copy_string(f->name, sizeof(f->name), path, sizeof(f->name));
	n->claimed[info->file_count++] = true;
	return f;
}

static void name_file(const struct cfg_file *cf, void *ctx)
{
	struct namer *n = ctx;
	struct boot_info *info = n->info;
	struct boot_file *f;
	int i;

	if (!cf->path[0])
		return;
	i = find_file(info, cf->path, true);
	if (i >= 0) {
		n->claimed[i] = true;
		return;
	}
	i = find_file(info, cf->path, false);
	if (i < 0) {
		f = append_file(n, cf->path);
		if (f)
			f->error = BH_ENOENT;
		return;
	}
	if (!n->claimed[i] && i != info->config_file) {
		/* The module becomes the file the configuration names, in its spelling. */
		copy_string(info->files[i].name, sizeof(info->files[i].name), cf->path,
			    sizeof(info->files[i].name));
		n->claimed[i] = true;
		return;
	}
	/* Already known under another spelling: the same memory under this name too. */
	f = append_file(n, cf->path);
	if (f) {
		f->addr = info->files[i].addr;
		f->size = info->files[i].size;
		f->error = info->files[i].error;
	}
}

void mb2_name_files(struct boot_info *info, const struct config *cfg, struct mb2_notes *notes)
{
	static struct namer n;

	memset(&n, 0, sizeof(n));
	n.info = info;
	n.notes = notes;
	config_for_each_file(cfg, name_file, &n);
}

/* ------------------------------------------------------------------ RSDP */

u64 mb2_find_rsdp(const void *area, u64 phys, u64 size, const void *copy, u64 len)
{
	const u8 *a = area;

	if (!area || !copy || !len || size < len)
		return 0;
	for (u64 off = ALIGN_UP(phys, 16) - phys; off + len <= size; off += 16)
		if (!memcmp(a + off, copy, len))
			return phys + off;
	return 0;
}
