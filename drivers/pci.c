/* PCI configuration space, legacy mechanism #1. Callers are the boot CPU or a CPU holding the
 * lock below: the address/data pair is one shared register set. */
#include "drivers/pci.h"
#include "arch/spinlock.h"
#include "arch/x86.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

static struct spinlock pci_lock = SPINLOCK_INIT;

static u32 cfg_address(u8 bus, u8 dev, u8 fn, u16 offset)
{
	return 0x80000000u | (u32)bus << 16 | (u32)(dev & 31) << 11 | (u32)(fn & 7) << 8 |
	       (offset & 0xfc);
}

u32 pci_cfg_read32(u8 bus, u8 dev, u8 fn, u16 offset)
{
	u32 v;

	spin_lock(&pci_lock);
	outl(PCI_CONFIG_ADDRESS, cfg_address(bus, dev, fn, offset));
	v = inl(PCI_CONFIG_DATA);
	spin_unlock(&pci_lock);
	return v;
}

void pci_cfg_write32(u8 bus, u8 dev, u8 fn, u16 offset, u32 value)
{
	spin_lock(&pci_lock);
	outl(PCI_CONFIG_ADDRESS, cfg_address(bus, dev, fn, offset));
	outl(PCI_CONFIG_DATA, value);
	spin_unlock(&pci_lock);
}
