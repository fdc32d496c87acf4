"""Stock Debian kernels in partitions under QEMU (AMD-V): the cloud kernel on two CPUs and the
generic kernel on one, side by side with a test guest, each booted by Bulkhead's bzImage loader
with generated ACPI tables and reaching the initramfs' `LINUX-UP` line with exactly its own CPUs
and RAM. Needs `make linux-guests` (the tests skip without the kernels, like
test_linux_direct.py). Typing goes to a partition after the shell's `console NAME` and back to
the shell with Ctrl-\\ (docs/console.md)."""

import re
import time

import pytest

import harness

pytestmark = [pytest.mark.qemu, pytest.mark.linux]

LINUX = harness.BUILD / "linux"
GUESTS = harness.BUILD / "guests"

CONFIG = """
[partition cloud]
cpus = 1-2
memory = 384M
kernel = linux/vmlinuz-cloud
initrd = linux/initramfs.cpio.gz
cmdline = console=ttyS0 bulkhead.partition=cloud
on_crash = stop

[partition generic]
cpus = 3
memory = 256M
kernel = linux/vmlinuz-generic
initrd = linux/initramfs.cpio.gz
cmdline = console=ttyS0 bulkhead.partition=generic
on_crash = stop

[partition hello]
cpus = 4
memory = 16M
kernel = guests/hello.elf
cmdline = name=hello
"""

BOOT_TIMEOUT = 240    # wall seconds to LINUX-UP (about 20-40 s here under TCG)
BACK_TO_HYPERVISOR = "\x1c"  # Ctrl-\\


def linux_files():
    files = {}
    for name in ("vmlinuz-cloud", "vmlinuz-generic", "initramfs.cpio.gz"):
        path = LINUX / name
        if not path.is_file():
            pytest.skip(f"{path} is missing: `make linux-guests` fetches the Debian kernels")
        files[f"linux/{name}"] = path
    hello = GUESTS / "hello.elf"
    if not hello.is_file():
        pytest.fail(f"{hello} is missing: run `make all`", pytrace=False)
    files["guests/hello.elf"] = hello
    return files


def check_linux_up(text, name, cpus, mem_mib):
    m = re.search(rf"^\[{name}\] LINUX-UP {name} cpus=(\d+) memkb=(\d+)\s*$", text, re.MULTILINE)
    assert m, f"no LINUX-UP line from {name}"
    assert int(m.group(1)) == cpus, f"{name}: {m.group(0)}"
    memkb = int(m.group(2))
    # MemTotal is the RAM the partition has, less what the kernel keeps for itself.
    assert 0.7 * mem_mib * 1024 < memkb <= mem_mib * 1024, f"{name}: {m.group(0)}"


def test_two_debian_kernels_side_by_side(qemu, bulkhead_efi):
    config = harness.make_config(log_level="info", poweroff_when_ready=False, extra=CONFIG)
    q = qemu(efi=bulkhead_efi, config=config, files=linux_files(), smp=5, mem="2G",
             serial="socket")
    q.expect(r"\] I: partitions: 3 configured, 3 valid")
    q.expect(r"\] I: partition cloud: .*kernel 'linux/vmlinuz-cloud' \(Linux bzImage\)")
    q.expect(r"\] I: bulkhead: ready")
    q.expect(r"^\[hello\] HELLO hello cpuid-hv=BulkheadBulk$", timeout=60)
    # Either kernel may come up first (a loaded machine changes the order).
    up = {q.expect(r"^\[(cloud|generic)\] LINUX-UP ", timeout=BOOT_TIMEOUT).group(1)
          for _ in range(2)}
    assert up == {"cloud", "generic"}, up

    # A line typed on the console reaches the attached partition; its output comes raw.
    q.sendline("console generic")
    q.expect(r"\] I: console: attached to partition generic", timeout=30)
    q.expect(r"^LINUX-UP generic ", timeout=30)          # the scrollback, replayed
    q.send("echo answer-$((6*7)) cpus-$(nproc)\r")
    q.expect(r"^answer-42 cpus-1\s*$", timeout=60)
    q.send("date +year-%Y\r")
    year = q.expect(r"^year-(\d{4})\s*$", timeout=60).group(1)
    assert year == str(time.gmtime().tm_year), f"the guest's date says {year}"
    # reboot restarts that partition only; poweroff stops it.
    q.send("reboot\r")
    q.expect(r"\] I: partition generic: the guest reset its machine; restarting it", timeout=60)
    q.expect(r"^LINUX-UP generic ", timeout=BOOT_TIMEOUT)
    q.send("poweroff\r")
    q.expect(r"\] I: partition generic: stopped \(the guest powered off", timeout=60)
    q.send(BACK_TO_HYPERVISOR)
    q.expect(r"\] I: console: back to the hypervisor", timeout=30)
    # The shell still answers, with each Linux partition's state and exits by reason.
    listed = {p["name"]: p for p in q.shell("list")["partitions"]}
    assert listed["cloud"]["state"] == "running" and listed["cloud"]["restarts"] == 0
    assert listed["generic"]["state"] == "stopped" and listed["generic"]["restarts"] == 1
    info = q.shell("info cloud")
    assert info["pc_platform"] and info["exits"]["io"] > 0, info
    # The cloud kernel's console too: attach, type, come back.
    q.sendline("console cloud")
    q.expect(r"\] I: console: attached to partition cloud", timeout=30)
    q.send("echo cloud-$((6*7)) cpus-$(nproc)\r")
    q.expect(r"^cloud-42 cpus-2\s*$", timeout=60)
    q.send(BACK_TO_HYPERVISOR)
    q.expect(r"\] I: console: back to the hypervisor", timeout=30)
    q.sendline("poweroff")
    q.expect(r"\] I: bulkhead: powering off \(ACPI S5\)", timeout=30)
    q.check_powered_off()

    text = q.output
    # The cloud partition ran on undisturbed: one boot, no restart.
    assert len(re.findall(r"^\[cloud\] LINUX-UP", text, re.MULTILINE)) == 1
    assert re.search(r"\] I: partition generic: restarted \(restart 1\)", text)
    check_linux_up(text, "cloud", 2, 384)
    check_linux_up(text, "generic", 1, 256)
    # Each kernel saw only its own CPUs in the MADT it was given.
    assert re.search(r"^\[cloud\] .*smpboot: Allowing 2 CPUs", text, re.MULTILINE)
    assert re.search(r"^\[generic\] .*smpboot: Allowing 1 CPUs", text, re.MULTILINE)
    assert not re.search(r"Kernel panic|FAULT cpu", text)
    errors = [line.message for line in harness.Log(text).lines if line.level == "E"]
    assert not errors, errors
