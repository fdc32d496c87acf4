/* Power-off and reset of the whole machine. */
#include "drivers/power.h"
#include "arch/cpu.h"
#include "arch/tsc.h"
#include "arch/x86.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "hv/log.h"

#define SLP_EN (1u << 13)
#define SCI_EN 1u
#define ACPI_ENABLE_WAIT_US 1000000ull

static const struct acpi_info *acpi;

void power_init(const struct acpi_info *info)
{
	acpi = info;
}

static u64 gas_read(const struct acpi_gas *g)
{
	u8 width = g->access_size ? (u8)(8u << (g->access_size - 1)) : g->bit_width;

	if (g->space_id == ACPI_SPACE_IO) {
		if (width == 8)
			return inb((u16)g->address);
		if (width == 32)
			return inl((u16)g->address);
		return inw((u16)g->address);
	}
	if (g->space_id == ACPI_SPACE_MEMORY) {
		if (width == 8)
			return *(volatile u8 *)(uintptr_t)g->address;
		if (width == 32)
			return *(volatile u32 *)(uintptr_t)g->address;
		return *(volatile u16 *)(uintptr_t)g->address;
	}
	return 0;
}

static void gas_write(const struct acpi_gas *g, u64 v)
{
	u8 width = g->access_size ? (u8)(8u << (g->access_size - 1)) : g->bit_width;

	if (g->space_id == ACPI_SPACE_IO) {
		if (width == 8)
			outb((u16)g->address, (u8)v);
		else if (width == 32)
			outl((u16)g->address, (u32)v);
		else
			outw((u16)g->address, (u16)v);
	} else if (g->space_id == ACPI_SPACE_MEMORY) {
		if (width == 8)
			*(volatile u8 *)(uintptr_t)g->address = (u8)v;
		else if (width == 32)
			*(volatile u32 *)(uintptr_t)g->address = (u32)v;
		else
			*(volatile u16 *)(uintptr_t)g->address = (u16)v;
	}
}

/* Firmware may leave the chipset in legacy (SMM) mode; SLP_EN only works in ACPI mode. */
static void ensure_acpi_mode(void)
{
	const struct acpi_fadt_info *f = &acpi->fadt;

	if (gas_read(&f->pm1a_cnt) & SCI_EN)
		return;
	if (!f->smi_cmd || !f->acpi_enable)
		return; /* hardware-reduced or always in ACPI mode */
	outb((u16)f->smi_cmd, f->acpi_enable);
	u64 start = tsc_uptime_us();

	while (!(gas_read(&f->pm1a_cnt) & SCI_EN) && tsc_uptime_us() - start < ACPI_ENABLE_WAIT_US)
		cpu_relax();
}

#define REPORT_WAIT_US 2000000ull

/* Lets a CPU that is reporting a fault finish before the machine goes away. */
static void wait_for_fault_reports(void)
{
	u64 start = tsc_uptime_us();

	while (trap_reports_pending() && tsc_uptime_us() - start < REPORT_WAIT_US)
		cpu_relax();
}

/* Intel PIIX4 power management function (PCI 00:01.3 on 440BX/FX machines, Bochs and QEMU `pc`):
 * its PM1 control register powers off with SLP_TYP 0 ("soft off" in the PIIX4 datasheet). Used
 * when there is no FADT to name the register, as with OVMF under Bochs. */
#define PIIX4_PM_ID 0x71138086u
#define PIIX4_PMBA 0x40
#define PIIX4_PMREGMISC 0x80
#define PIIX4_PM1_CNT 0x04

static void piix4_power_off(void)
{
	if (pci_cfg_read32(0, 1, 3, 0) != PIIX4_PM_ID)
		return;
	if (!(pci_cfg_read32(0, 1, 3, PIIX4_PMREGMISC) & 1)) {
		log_err("power: PIIX4 power management I/O is disabled");
		return;
	}
	u16 base = (u16)(pci_cfg_read32(0, 1, 3, PIIX4_PMBA) & 0xffc0);

	if (!base) {
		log_err("power: PIIX4 power management has no I/O base");
		return;
	}
	log_info("power: no FADT; PIIX4 soft-off through port 0x%x", base + PIIX4_PM1_CNT);
	irq_disable();
	outw((u16)(base + PIIX4_PM1_CNT), (u16)SLP_EN);
	udelay(500000);
}

void power_off(void)
{
	wait_for_fault_reports();
	if (!acpi || !acpi->fadt.present || !acpi->fadt.pm1a_cnt.address) {
		piix4_power_off();
		log_err("power: no ACPI PM1 control block, cannot power off");
		return;
	}
	if (!acpi->s5_present) {
		log_err("power: no \\_S5 object in the DSDT, cannot power off");
		return;
	}
	ensure_acpi_mode();
	irq_disable();
	gas_write(&acpi->fadt.pm1a_cnt, ((u64)acpi->s5_slp_typa << 10) | SLP_EN);
	if (acpi->fadt.pm1b_cnt.address)
		gas_write(&acpi->fadt.pm1b_cnt, ((u64)acpi->s5_slp_typb << 10) | SLP_EN);
	udelay(500000);
	log_err("power: the machine did not power off");
}

void power_reset(void)
{
	wait_for_fault_reports();
	irq_disable();
	if (acpi && acpi->fadt.present && acpi->fadt.reset_supported &&
	    acpi->fadt.reset_reg.address) {
		gas_write(&acpi->fadt.reset_reg, acpi->fadt.reset_value);
		udelay(500000);
	}
	/* PCI reset control register: hard reset. */
	outb(0xcf9, 0x02);
	udelay(10);
	outb(0xcf9, 0x06);
	udelay(500000);
	/* Keyboard controller: pulse the reset line. */
	outb(0x64, 0xfe);
	udelay(500000);
	/* Last resort: a triple fault with an empty IDT. */
	struct {
		u16 limit;
		u64 base;
	} PACKED empty = { 0, 0 };
	__asm__ volatile("lidt %0; int3" ::"m"(empty));
}
