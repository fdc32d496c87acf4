"""Partition scenarios shared by every boot path and emulator: the configuration, the guests it
needs, the CPUs, and the checks on the console. A scenario runs on anything with the interface of
harness.Qemu: expect(), send(), output, and power_off() (see below).

    s = scenarios.SCENARIOS["three"]
    q = qemu(efi=..., config=s.config(), files=s.files(), smp=s.smp, serial="socket")
    s.check(q)                                  # ends with a power-off from the console

test_partitions.py runs them through UEFI (QEMU/OVMF), test_multiboot2.py through GRUB
(QEMU/SeaBIOS); bochs.run_scenario() runs one under a Bochs CPU model and firmware.
"""

import re

import pytest

import harness

GUESTS = harness.BUILD / "guests"

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


def guest_files(*names):
    """{path on the boot volume: built file} of test guests; fails when one is not built."""
    files = {}
    for name in names:
        path = GUESTS / f"{name}.elf"
        if not path.is_file():
            pytest.fail(f"{path} is missing: run `make all`", pytrace=False)
        files[f"guests/{name}.elf"] = path
    return files


def power_off(run):
    """The hypervisor still answers on its console shell: `list --json`, then a clean power-off
    (the run checks the way it ended: run.check_powered_off()). Returns {name: partition} of
    the list."""
    answer = harness.shell_json(run, "list")
    assert answer["ok"] and answer["command"] == "list", answer
    run.sendline("poweroff")
    run.expect(r"\] I: bulkhead: powering off \(ACPI S5\)", timeout=30)
    run.check_powered_off()
    return {p["name"]: p for p in answer["partitions"]}


def check_three(run):
    """hello, memcheck and attacker side by side; the attacker is contained and dies alone."""
    run.expect(r"\] I: partitions: 3 configured, 3 valid")
    run.expect(r"\] I: bulkhead: ready")
    run.expect(r"^\[hello\] HELLO hello cpuid-hv=BulkheadBulk$", timeout=60)
    run.expect(r"^\[attacker\] ATTACK done$", timeout=240)
    run.expect(r"\] E: partition attacker: failed on vCPU 0 \(CPU 3\): triple fault", timeout=60)
    run.expect(r"\] E: partition attacker: parked", timeout=30)
    # memcheck goes on after the attacker died: two more rounds, all good.
    run.expect(r"^\[memcheck\] MEMCHECK ok bytes=\d+ rounds=\d+$", timeout=60)
    run.expect(r"^\[memcheck\] MEMCHECK ok bytes=\d+ rounds=\d+$", timeout=60)
    listed = power_off(run)

    text = run.output
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
    assert listed["memcheck"]["state"] == "running" and listed["memcheck"]["exits_total"] > 0
    assert listed["attacker"]["state"] == "failed"
    assert listed["hello"]["state"] == "stopped"
    # Only the attacker failed.
    errors = [l.message for l in harness.Log(text).lines if l.level == "E"]
    assert errors and all(e.startswith("partition attacker:") for e in errors), errors


def check_bad(run):
    """Every mistake of the configuration is named by its line; the valid partition boots."""
    run.expect(r"\] I: bulkhead: ready")
    run.expect(r"^\[hello\] HELLO hello cpuid-hv=BulkheadBulk$", timeout=60)
    power_off(run)
    text = run.output
    # The boot path records the file it could not find; the hypervisor names it, and the parser
    # and the plan name the line.
    assert re.search(r"\] E: boot: file 'guests/missing\.elf' could not be read", text)
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


def check_crasher(run):
    """A guest that triple-faults is restarted, again and again, waiting longer each time (one
    line per crash once it loops); its neighbour runs on and the hypervisor keeps answering."""
    run.expect(r"^\[hello\] HELLO hello cpuid-hv=BulkheadBulk$", timeout=60)
    run.expect(r"\] E: partition crasher: failed on vCPU 0 \(CPU 1\): triple fault", timeout=60)
    run.expect(r"\] I: partition crasher: restarting it \(on_crash = restart\)", timeout=30)
    run.expect(r"\] I: partition crasher: restarted \(restart 1\)", timeout=30)
    run.expect(r"^\[crasher\] ATTACK start name=crasher", timeout=60)
    for crash, delay in ((2, 1), (3, 2)):
        run.expect(rf"\] E: partition crasher: failed again: triple fault \(shutdown\) on vCPU 0 "
                   rf"\(CPU 1\); crash {crash} in a row, each within 60 s of its start: "
                   rf"restarting in {delay} s$", timeout=60)
        # The back-off waits on the service CPU: the shell answers meanwhile.
        info = harness.shell_json(run, "info crasher")
        assert info["ok"] and info["exits_total"] > 0, info
        assert "triple fault" in info["last_failure"]["why"], info
        run.expect(rf"\] I: partition crasher: restarted \(restart {crash}\)", timeout=60)
    power_off(run)
    text = run.output
    assert "FAULT cpu" not in text
    assert re.search(r"\] I: partition hello: stopped \(the guest halted\)", text)
    # The crash loop is one line per crash: registers only for the first crash.
    assert len(re.findall(r"^  RIP ", text, re.MULTILINE)) == 1


class Scenario:
    def __init__(self, name, extra, guests, smp, check):
        self.name = name
        self.extra = extra
        self.guests = guests
        self.smp = smp
        self.check = check

    def config(self):
        """The configuration text: console defaults, no power-off when ready, the partitions."""
        return harness.make_config(log_level="info", poweroff_when_ready=False,
                                   extra=self.extra)

    def files(self):
        return guest_files(*self.guests)


SCENARIOS = {
    "three": Scenario("three", THREE, ("hello", "memcheck", "attacker"), 4, check_three),
    "bad": Scenario("bad", BAD, ("hello",), 4, check_bad),
    "crasher": Scenario("crasher", CRASHER, ("attacker", "hello"), 3, check_crasher),
}
