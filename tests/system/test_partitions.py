"""Partitions side by side: the test guests run together, the attacker is contained, bad
configuration lines are reported while the valid partitions still boot, a triple fault restarts
only its partition. Every scenario runs on each machine of MACHINES:
  - QEMU TCG: AMD-V with nested paging, no next-RIP save, no decode assists (RIP advanced by
    decoding the instruction);
  - Bochs `ryzen` through OVMF: AMD-V with next-RIP save (no ACPI there: CPUs from the UEFI
    loader, power-off through the PIIX4)."""

import re

import pytest

import harness

MEM = "2G"
BOCHS_MEM_MIB = 512
GUESTS = harness.BUILD / "guests"

MACHINES = [
    pytest.param("qemu", marks=pytest.mark.qemu, id="qemu-svm"),
    pytest.param("ryzen", marks=pytest.mark.bochs, id="bochs-ryzen"),
]

THREE = """
[partition hello]
cpus = 1
memory = 16M
kernel = guests/hello.elf
cmdline = name=hello

[partition memcheck]
cpus = 2
memory = 32M
kernel = guests/memcheck.elf
cmdline = name=memcheck

[partition attacker]
cpus = 3
memory = 16M
kernel = guests/attacker.elf
cmdline = name=attacker
on_crash = stop
"""


def guest_files(*names):
    files = {}
    for name in names:
        path = GUESTS / f"{name}.elf"
        if not path.is_file():
            pytest.fail(f"{path} is missing: run `make all`", pytrace=False)
        files[f"guests/{name}.elf"] = path
    return files


@pytest.fixture(params=MACHINES)
def machine(request):
    """The machine a scenario runs on: "qemu" or a Bochs CPU model."""
    return request.param


def start(machine, request, efi, extra, *guests, smp=4):
    """Boots the hypervisor with these partitions on `machine`, console on a socket."""
    config = harness.make_config(log_level="info", poweroff_when_ready=False, extra=extra)
    files = guest_files(*guests)
    if machine == "qemu":
        run = request.getfixturevalue("qemu")
        return run(efi=efi, config=config, files=files, smp=smp, mem=MEM, serial="socket")
    run = request.getfixturevalue("bochs_run")
    return run(efi=efi, config=config, files=files, model=machine, cpus=smp,
               mem_mib=BOCHS_MEM_MIB, serial="socket")


def power_off(m, machine):
    """The hypervisor still answers on its console: statistics, then a clean power-off."""
    m.send("s")
    m.expect(r"\] I: stats: \d+ partition\(s\)", timeout=30)
    m.send("p")
    m.expect(r"\] I: bulkhead: powering off", timeout=30)
    if machine == "qemu":
        assert m.wait() == 0
        assert m.shutdown_reasons() == [harness.SHUTDOWN_GUEST_SHUTDOWN]
    else:
        # No FADT under Bochs/OVMF: the PIIX4 soft-off, which ends Bochs with status 1.
        m.expect(r"\] I: power: no FADT; PIIX4 soft-off", timeout=30)
        assert m.wait(timeout=60) == 1


def test_three_partitions_side_by_side(machine, request, bulkhead_efi):
    q = start(machine, request, bulkhead_efi, THREE, "hello", "memcheck", "attacker")
    q.expect(r"\] I: partitions: 3 configured, 3 valid")
    q.expect(r"\] I: bulkhead: ready")
    q.expect(r"^\[hello\] HELLO hello cpuid-hv=BulkheadBulk$", timeout=60)
    q.expect(r"^\[attacker\] ATTACK done$", timeout=240)
    q.expect(r"\] E: partition attacker: failed on vCPU 0 \(CPU 3\): triple fault", timeout=60)
    q.expect(r"\] E: partition attacker: parked", timeout=30)
    # memcheck goes on after the attacker died: two more rounds, all good.
    q.expect(r"^\[memcheck\] MEMCHECK ok bytes=\d+ rounds=\d+$", timeout=60)
    q.expect(r"^\[memcheck\] MEMCHECK ok bytes=\d+ rounds=\d+$", timeout=60)
    power_off(q, machine)

    text = q.output
    attacks = re.findall(r"^\[attacker\] ATTACK (\S+): (blocked|ESCAPED|skipped)", text,
                         re.MULTILINE)
    assert len(attacks) > 40, f"only {len(attacks)} attack lines"
    escaped = [a for a, verdict in attacks if verdict != "blocked"]
    assert not escaped, f"not blocked: {escaped}"
    assert "MEMCHECK FAIL" not in text
    assert "FAULT cpu" not in text
    assert re.search(r"^\[hello\] ", text, re.MULTILINE)
    assert re.search(r"\] I: partition hello: stopped \(the guest halted\)", text)
    # Exit counters at stop and on demand.
    assert re.search(r"\] I: partition attacker: failed, exits total=\d+ .*stage2-fault=\d+", text)
    assert re.search(r"\] I: partition memcheck: running, exits total=\d+", text)
    # Only the attacker failed.
    errors = [l.message for l in harness.Log(text).lines if l.level == "E"]
    assert errors and all(e.startswith("partition attacker:") for e in errors), errors


BAD = """
colour = blue

[partition hello]
cpus = 1
memory = 16M
kernel = guests/hello.elf
cmdline = name=hello

[partition twice]
cpus = 1
memory = 16M
kernel = guests/hello.elf

[partition nokernel]
cpus = 2
memory = 16M
kernel = guests/missing.elf

[partition huge]
cpus = 3
memory = 64G
kernel = guests/hello.elf

[partition ghost]
cpus = 9
memory = 16M
kernel = guests/hello.elf
"""


def test_bad_configuration_is_reported_and_valid_partitions_boot(machine, request, bulkhead_efi):
    q = start(machine, request, bulkhead_efi, BAD, "hello")
    q.expect(r"\] I: bulkhead: ready")
    q.expect(r"^\[hello\] HELLO hello cpuid-hv=BulkheadBulk$", timeout=60)
    power_off(q, machine)
    text = q.output
    # The loader names the file it could not read; the parser and the plan name the line.
    assert re.search(r"cannot read 'guests/missing\.elf'", text)
    for pattern in (
            r"bulkhead\.cfg:\d+: unknown key 'colour'",
            r"bulkhead\.cfg:\d+: CPU 1 is already given to partition 'hello' \(line \d+\)",
            r"bulkhead\.cfg:\d+: kernel 'guests/missing\.elf' ",
            r"bulkhead\.cfg:\d+: memory over-committed: partition 'huge' needs",
            r"bulkhead\.cfg:\d+: CPU 9 does not exist",
    ):
        assert re.search(pattern, text), f"missing error: {pattern}"
    for name in ("twice", "nokernel", "huge", "ghost"):
        assert re.search(rf"\] E: partition {name}: refused", text), name
    assert re.search(r"\] I: partitions: 5 configured, 1 valid", text)


CRASHER = """
[partition crasher]
cpus = 1
memory = 16M
kernel = guests/attacker.elf
cmdline = name=crasher skip=cpuid,insn,msr,io,lapic,ioapic,hpet,pci,mmio,mem,vuart,cr4
on_crash = restart

[partition hello]
cpus = 2
memory = 16M
kernel = guests/hello.elf
cmdline = name=hello
"""


def test_triple_fault_restarts_only_its_partition(machine, request, bulkhead_efi):
    q = start(machine, request, bulkhead_efi, CRASHER, "attacker", "hello", smp=3)
    q.expect(r"^\[hello\] HELLO hello cpuid-hv=BulkheadBulk$", timeout=60)
    q.expect(r"\] E: partition crasher: failed on vCPU 0 \(CPU 1\): triple fault", timeout=60)
    q.expect(r"\] I: partition crasher: restarted \(restart 1\)", timeout=30)
    q.expect(r"^\[crasher\] ATTACK start name=crasher", timeout=60)
    q.expect(r"\] I: partition crasher: restarted \(restart 2\)", timeout=60)
    power_off(q, machine)
    assert "FAULT cpu" not in q.output
    assert re.search(r"\] I: partition hello: stopped \(the guest halted\)", q.output)
