/* PCI configuration space through the legacy 0xcf8/0xcfc mechanism (every PC chipset has it;
 * ECAM comes with the MCFG table when a partition needs devices). */
#ifndef BH_DRIVERS_PCI_H
#define BH_DRIVERS_PCI_H

#include "types.h"

u32 pci_cfg_read32(u8 bus, u8 dev, u8 fn, u16 offset);
void pci_cfg_write32(u8 bus, u8 dev, u8 fn, u16 offset, u32 value);

#endif
