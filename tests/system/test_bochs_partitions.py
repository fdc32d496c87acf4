"""Partition scenarios (scenarios.py) under Bochs: a CPU model, a firmware, a scenario. Add a
line to CASES to run another combination; bochs.run_scenario() does the rest.

Known limits of Bochs 2.7 as used here (so not listed):
- OVMF under Bochs publishes no ACPI tables: Bulkhead finds only the boot CPU, so no partition
  can get a CPU ("uefi" fails every scenario until CPUs are found another way).
- On `ryzen` (AMD-V) a triple fault inside a guest ends Bochs ("3rd (13) exception with no
  resolution") instead of leaving SVM with a SHUTDOWN exit: "three" (the attacker ends with a
  triple fault) and "crasher" cannot run there."""

import pytest

import bochs
from scenarios import SCENARIOS

pytestmark = pytest.mark.bochs

# (Bochs CPU model, firmware, scenario)
CASES = [
    ("ryzen", "bios", "bad"),
]


@pytest.mark.parametrize("model, firmware, name", CASES,
                         ids=["-".join(case) for case in CASES])
def test_bochs_partitions(bochs_run, bulkhead_efi, bulkhead_elf, model, firmware, name):
    bochs.run_scenario(bochs_run, SCENARIOS[name], model=model, firmware=firmware)
