"""Bochs smoke tests: Bulkhead's EFI application boots through OVMF under Bochs 2.7 on an AMD-V
model and a VT-x model, and reaches `bulkhead: ready` with no FAULT; the Bochs BIOS boots the
hybrid image through GRUB and multiboot2. See tests/bochs/README.md.

OVMF under Bochs publishes no ACPI tables: Bulkhead takes the CPU list from the UEFI loader (MP
services) and powers off through the PIIX4 power-management function. ~10-15 s each; the BIOS
boot with 2 CPUs ~20 s (the Bochs BIOS is slow with more than one CPU)."""

import re

import pytest

import bochs
import harness

pytestmark = pytest.mark.bochs

READY_TIMEOUT = 180          # wall seconds to `bulkhead: ready` (a boot takes ~10 s here)


@pytest.mark.parametrize("model, backend", [
    ("ryzen", r"virt: AMD-V \(SVM, nested paging\)"),
    ("corei7_skylake_x", r"virt: .*VT-x"),
], ids=["ryzen", "skylake_x"])
def test_bochs_boot_ready(bochs_run, bulkhead_efi, model, backend):
    b = bochs_run(efi=bulkhead_efi, config=harness.boot_config(), model=model, cpus=2,
                  ips=bochs.DEFAULT_IPS)
    b.expect(r"BdsDxe: starting Boot\w+ .*Ata\(Primary,Master", timeout=READY_TIMEOUT)
    b.expect(r"\] I: Bulkhead \S+ starting \(loader: uefi\)", timeout=60)
    b.expect(r"\] I: bulkhead: ready$", timeout=60)
    # poweroff_when_ready without a FADT: the PIIX4 soft-off ends Bochs.
    b.expect(r"\] I: power: no FADT; PIIX4 soft-off through port 0xb004", timeout=60)
    b.check_powered_off()
    log = bochs.check_ready_no_acpi(b.log(), cpus=2)
    log.require(re.compile(backend), "virtualization backend line")


def test_bochs_bios_grub_ready(bochs_run, bulkhead_efi, bulkhead_elf):
    """The Bochs BIOS boots the hybrid image as a CD: GRUB, bulkhead.elf through multiboot2.
    The BIOS publishes ACPI tables, so every CPU is found and started, and the power-off works:
    Bochs ends by itself."""
    b = bochs_run(efi=bulkhead_efi, elf=bulkhead_elf, config=harness.boot_config(),
                  firmware="bios", model="ryzen", cpus=2, ips=bochs.DEFAULT_IPS)
    b.expect(r"bulkhead: multiboot2 loader", timeout=READY_TIMEOUT)
    b.expect(r"\] I: Bulkhead \S+ starting \(loader: multiboot2\)", timeout=60)
    b.expect(r"\] I: bulkhead: ready$", timeout=60)
    b.expect(r"\] I: bulkhead: powering off \(ACPI S5\)$", timeout=60)
    b.check_powered_off()
    log = b.log()
    harness.check_ready(log, 2, 512 * 1024, loader="multiboot2")
    log.require(re.compile(r"virt: AMD-V \(SVM, nested paging\)"), "virtualization backend line")
