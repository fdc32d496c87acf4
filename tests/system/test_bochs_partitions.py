"""Partition scenarios (scenarios.py) under Bochs: a CPU model, a firmware, a scenario. Add a
line to CASES to run another combination; bochs.run_scenario() does the rest.

`ryzen` is AMD-V with next-RIP save (QEMU has none): with "uefi" (OVMF, no ACPI: CPUs from
the UEFI loader, PIIX4 power-off) and "bios" (GRUB, multiboot2, the Bochs BIOS' ACPI) every
scenario runs there. A guest triple fault is a Bochs panic before the SVM SHUTDOWN intercept:
the harness keeps Bochs going (see tests/bochs/README.md)."""

import pytest

import bochs
from scenarios import SCENARIOS

pytestmark = pytest.mark.bochs

# (Bochs CPU model, firmware, scenario)
CASES = [
    ("ryzen", "uefi", "three"),
    ("ryzen", "uefi", "bad"),
    ("ryzen", "uefi", "crasher"),
    ("ryzen", "bios", "three"),
]


@pytest.mark.parametrize("model, firmware, name", CASES,
                         ids=["-".join(case) for case in CASES])
def test_bochs_partitions(bochs_run, bulkhead_efi, bulkhead_elf, model, firmware, name):
    bochs.run_scenario(bochs_run, SCENARIOS[name], model=model, firmware=firmware)
