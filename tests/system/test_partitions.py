"""Partitions on AMD-V under QEMU (TCG: SVM with nested paging, no next-RIP save, no decode
assists), booted through UEFI: the test guests run side by side, the attacker is contained, bad
configuration lines are reported while the valid partitions still boot. The scenarios live in
scenarios.py; test_multiboot2.py runs them through GRUB."""

import re

import pytest

import harness
import scenarios
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


QUIET = """
[partition quiet]
cpus = 1
memory = 16M
kernel = guests/hello.elf
cmdline = name=quiet idle=1
watchdog = 1
on_crash = restart
"""


@pytest.mark.qemu
def test_watchdog_restarts_a_silent_partition(qemu, bulkhead_efi):
    """hello with idle=1 prints its line, then waits with interrupts on: still running, but
    silent. Its watchdog (1 s) calls that a failure, and on_crash = restart brings it back, with
    the crash back-off once it keeps failing; its halted vCPU is taken back by NMI each time."""
    config = harness.make_config(log_level="info", poweroff_when_ready=False, extra=QUIET)
    q = qemu(efi=bulkhead_efi, config=config, files=scenarios.guest_files("hello"), smp=2,
             mem=MEM, serial="socket")
    q.expect(r"^\[quiet\] HELLO quiet cpuid-hv=BulkheadBulk$", timeout=60)
    q.expect(r"\] E: partition quiet: failed: watchdog: no console output for 1 s$", timeout=60)
    q.expect(r"\] I: partition quiet: restarting it \(on_crash = restart\)", timeout=30)
    q.expect(r"\] I: partition quiet: restarted \(restart 1\)", timeout=30)
    q.expect(r"^\[quiet\] HELLO quiet ", timeout=60)
    q.expect(r"\] E: partition quiet: failed again: watchdog: no console output for 1 s; "
             r"crash 2 in a row, each within 60 s of its start: restarting in 1 s$", timeout=60)
    q.expect(r"\] I: partition quiet: restarted \(restart 2\)", timeout=30)
    q.expect(r"^\[quiet\] HELLO quiet ", timeout=60)
    scenarios.power_off(q)
    assert "FAULT cpu" not in q.output
