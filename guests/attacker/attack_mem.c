/* Memory attacks. Guest-physical addresses outside the partition's RAM must not be mapped:
 * loads return all ones, stores are dropped. A probe writes a pattern and reads it back:
 * all ones -> blocked; the pattern -> ESCAPED (and the old value is put back); anything else ->
 * ESCAPED too (something is mapped there). All accesses are 32-bit MOVs through uncached
 * mappings (setup_paging in attacker.c). */
#include "attacker.h"

#define LAPIC_BASE 0xfee00000ull
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_INIT 0x00000500u
#define ICR_NMI 0x00000400u
#define ICR_ASSERT 0x00004000u
#define ICR_ALL_BUT_SELF 0x000c0000u

#define IOAPIC_BASE 0xfec00000ull
#define HPET_BASE 0xfed00000ull
#define RESET_VECTOR 0xfffffff0ull

#define SWEEP_STEP (16 * MiB)
#define SWEEP_END (8 * GiB)

#define ALL_ONES 0xffffffffu

enum probe_result { PROBE_BLOCKED, PROBE_STUCK, PROBE_VISIBLE };

struct probe {
	u64 addr;
	u32 before, pattern, after;
};

static u32 pattern_for(u64 addr)
{
	return 0x5afe0000u ^ (u32)(addr >> 12) ^ (u32)(addr >> 44);
}

static enum probe_result probe_rw(struct probe *p)
{
	p->pattern = pattern_for(p->addr);
	p->before = mmio_read32(p->addr);
	mmio_write32(p->addr, p->pattern);
	p->after = mmio_read32(p->addr);
	if (p->after == p->pattern) {
		mmio_write32(p->addr, p->before);
		return PROBE_STUCK;
	}
	if (p->before != ALL_ONES || p->after != ALL_ONES)
		return PROBE_VISIBLE;
	return PROBE_BLOCKED;
}

/* --- the sweep beyond RAM ------------------------------------------------------------------- */

static void mem_beyond_ram(void)
{
	struct probe self = { .addr = target.scratch_word }, first_bad = { 0 };
	enum probe_result first_result = PROBE_BLOCKED;
	u64 end = MIN(MAX(SWEEP_END, target.ram_end + GiB), target.map_limit), a, last = 0;
	u32 count = 0, bad = 0;

	if (!target.ram_end) {
		escaped("cannot evaluate: no memory map, RAM size unknown");
		return;
	}
	/* The method must see a write stick where one does: in our own RAM. */
	if (probe_rw(&self) != PROBE_STUCK) {
		escaped("cannot evaluate: own RAM at 0x%llx did not keep 0x%08x (reads 0x%08x)",
			(unsigned long long)self.addr, self.pattern, self.after);
		return;
	}
	for (a = (target.ram_end + 3) & ~3ull; a < end;
	     a = (a + SWEEP_STEP) & ~(SWEEP_STEP - 1)) {
		struct probe p = { .addr = a };
		enum probe_result r = probe_rw(&p);

		count++;
		last = a;
		if (r != PROBE_BLOCKED && bad++ == 0) {
			first_bad = p;
			first_result = r;
		}
	}
	if (!count) {
		escaped("cannot evaluate: RAM ends at 0x%llx, nothing mapped above it below 0x%llx",
			(unsigned long long)target.ram_end, (unsigned long long)end);
	} else if (bad) {
		escaped("%u of %u probes 0x%llx-0x%llx got through; first: 0x%llx %s 0x%08x", bad,
			count, (unsigned long long)target.ram_end, (unsigned long long)last,
			(unsigned long long)first_bad.addr,
			first_result == PROBE_STUCK ? "kept" : "reads", first_bad.after);
	} else {
		blocked("%u probes 0x%llx-0x%llx read all ones", count,
			(unsigned long long)target.ram_end, (unsigned long long)last);
	}
}

/* --- device windows ------------------------------------------------------------------------- */

static void lapic_id_read(void)
{
	u32 id = mmio_read32(LAPIC_BASE + LAPIC_ID);
	u32 version = mmio_read32(LAPIC_BASE + LAPIC_VERSION);

	if (id == ALL_ONES && version == ALL_ONES)
		blocked("LAPIC ID and version read all ones");
	else
		escaped("LAPIC ID reads 0x%08x, version 0x%08x", id, version);
}

static void ioapic_regsel(void)
{
	u32 sel, version, redir;

	mmio_write32(IOAPIC_BASE, 0x01); /* IOREGSEL: version register */
	sel = mmio_read32(IOAPIC_BASE);
	version = mmio_read32(IOAPIC_BASE + 0x10);
	/* Redirect IRQ 0 (kept masked) and read it back. */
	mmio_write32(IOAPIC_BASE, 0x10);
	mmio_write32(IOAPIC_BASE + 0x10, 0x000100feu);
	mmio_write32(IOAPIC_BASE, 0x10);
	redir = mmio_read32(IOAPIC_BASE + 0x10);
	if (sel == ALL_ONES && version == ALL_ONES && redir == ALL_ONES)
		blocked("IOREGSEL and IOWIN read all ones");
	else
		escaped("IOREGSEL reads 0x%08x, version 0x%08x, IRQ 0 entry 0x%08x", sel, version,
			redir);
}

static void hpet_caps(void)
{
	u32 caps = mmio_read32(HPET_BASE), period = mmio_read32(HPET_BASE + 4);

	if (caps == ALL_ONES && period == ALL_ONES)
		blocked("capabilities read all ones");
	else
		escaped("HPET capabilities 0x%08x, period 0x%08x fs", caps, period);
}

static void ecam(u64 base)
{
	u32 id = mmio_read32(base), command = mmio_read32(base + 4);

	if (id == ALL_ONES && command == ALL_ONES)
		blocked("00:00.0 reads all ones");
	else
		escaped("00:00.0 ID 0x%08x, command/status 0x%08x", id, command);
}

static void pci_ecam_b0000000(void) { ecam(0xb0000000ull); }
static void pci_ecam_e0000000(void) { ecam(0xe0000000ull); }

static void mmio_bios_rom(void)
{
	u32 v = mmio_read32(RESET_VECTOR);

	if (v == ALL_ONES)
		blocked("reset vector reads all ones");
	else
		escaped("firmware reset vector at 0x%llx reads 0x%08x",
			(unsigned long long)RESET_VECTOR, v);
}

/* --- IPIs through the xAPIC ICR ------------------------------------------------------------- */

static void send_ipi(u32 low, const char *what)
{
	u32 high_rb = ALL_ONES, low_rb = ALL_ONES;

	if (low & ICR_ALL_BUT_SELF) {
		mmio_write32(LAPIC_BASE + LAPIC_ICR_HIGH, 0);
		mmio_write32(LAPIC_BASE + LAPIC_ICR_LOW, low);
		low_rb = mmio_read32(LAPIC_BASE + LAPIC_ICR_LOW);
	} else {
		for (u32 apic = 0; apic < 4; apic++) {
			mmio_write32(LAPIC_BASE + LAPIC_ICR_HIGH, apic << 24);
			mmio_write32(LAPIC_BASE + LAPIC_ICR_LOW, low);
			high_rb &= mmio_read32(LAPIC_BASE + LAPIC_ICR_HIGH);
			low_rb &= mmio_read32(LAPIC_BASE + LAPIC_ICR_LOW);
		}
	}
	if (low_rb == ALL_ONES && high_rb == ALL_ONES)
		blocked("%s: ICR reads all ones", what);
	else
		escaped("%s: ICR reads 0x%08x:0x%08x", what, high_rb, low_rb);
}

static void lapic_icr_init(void) { send_ipi(ICR_INIT | ICR_ASSERT, "INIT to APIC IDs 0-3"); }
static void lapic_icr_nmi(void) { send_ipi(ICR_NMI | ICR_ASSERT, "NMI to APIC IDs 0-3"); }
static void lapic_icr_init_all(void)
{
	send_ipi(ICR_INIT | ICR_ASSERT | ICR_ALL_BUT_SELF, "INIT to all but self");
}
static void lapic_icr_nmi_all(void)
{
	send_ipi(ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF, "NMI to all but self");
}

const struct attack mmio_probe_attacks[] = {
	{ "lapic-id-read", lapic_id_read },
	{ "ioapic-regsel", ioapic_regsel },
	{ "hpet-caps", hpet_caps },
	{ "pci-ecam-b0000000", pci_ecam_b0000000 },
	{ "pci-ecam-e0000000", pci_ecam_e0000000 },
	{ "mmio-bios-rom", mmio_bios_rom },
	{ NULL, NULL },
};

const struct attack mem_sweep_attacks[] = {
	{ "mem-beyond-ram", mem_beyond_ram },
	{ NULL, NULL },
};

const struct attack ipi_attacks[] = {
	{ "lapic-icr-init", lapic_icr_init },
	{ "lapic-icr-nmi", lapic_icr_nmi },
	{ "lapic-icr-init-all", lapic_icr_init_all },
	{ "lapic-icr-nmi-all", lapic_icr_nmi_all },
	{ NULL, NULL },
};
