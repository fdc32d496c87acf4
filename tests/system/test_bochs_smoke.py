"""Bochs smoke tests: Bulkhead's EFI application boots through OVMF under Bochs 2.7 on an AMD-V
model and a VT-x model, and reaches `bulkhead: ready` with no FAULT; the Bochs BIOS boots the
hybrid image through GRUB and multiboot2. See tests/bochs/README.md.

OVMF under Bochs publishes no ACPI tables, so Bulkhead runs its boot CPU only and cannot power
off: those tests kill Bochs once the console shows the end of the boot. ~10-15 s each; the BIOS
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
    b = bochs_run(efi=bulkhead_efi, config=harness.boot_config(), model=model, cpus=1,
                  ips=bochs.DEFAULT_IPS)
    b.expect(r"BdsDxe: starting Boot\w+ .*Ata\(Primary,Master", timeout=READY_TIMEOUT)
    b.expect(r"\] I: Bulkhead \S+ starting \(loader: uefi\)", timeout=60)
    b.expect(r"\] I: bulkhead: ready$", timeout=60)
    # poweroff_when_ready: the power-off fails without ACPI, then Bulkhead's reset through port
    # 0xcf9 restarts OVMF, which hangs: the line after `ready` is as far as the test waits.
    b.expect(r"\] I: bulkhead: powering off", timeout=60)
    b.kill()
    log = bochs.check_ready_no_acpi(b.log())
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
