"""Partitions on AMD-V under QEMU (TCG: SVM with nested paging, no next-RIP save, no decode
assists), booted through UEFI: the test guests run side by side, the attacker is contained, bad
configuration lines are reported while the valid partitions still boot. The scenarios live in
scenarios.py; test_multiboot2.py runs them through GRUB."""

import re

import pytest

from scenarios import SCENARIOS

MEM = "2G"


def start(qemu, efi, scenario):
    return qemu(efi=efi, config=scenario.config(), files=scenario.files(), smp=scenario.smp,
                mem=MEM, serial="socket")


@pytest.mark.qemu
def test_three_partitions_side_by_side(qemu, bulkhead_efi):
    s = SCENARIOS["three"]
    s.check(start(qemu, bulkhead_efi, s))


@pytest.mark.qemu
def test_bad_configuration_is_reported_and_valid_partitions_boot(qemu, bulkhead_efi):
    s = SCENARIOS["bad"]
    q = start(qemu, bulkhead_efi, s)
    s.check(q)
    # The UEFI loader names the file it could not read, before the hypervisor does.
    assert re.search(r"cannot read 'guests/missing\.elf'", q.output)


@pytest.mark.qemu
def test_triple_fault_restarts_only_its_partition(qemu, bulkhead_efi):
    s = SCENARIOS["crasher"]
    s.check(start(qemu, bulkhead_efi, s))
