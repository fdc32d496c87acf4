"""Stock Debian kernels in partitions under QEMU (AMD-V): the cloud kernel on two CPUs and the
generic kernel on one, side by side with a test guest, each booted by Bulkhead's bzImage loader
with generated ACPI tables and reaching the initramfs' `LINUX-UP` line with exactly its own CPUs
and RAM. Needs `make linux-guests` (the tests skip without the kernels, like
test_linux_direct.py). Typing goes to a partition after the shell's `console NAME` (its output
then comes raw, without the `[name] ` prefix) and back to the shell with Ctrl-\
(docs/console.md). Both kernels keep real time (`sleep 5`); the cloud kernel's `reboot`
restarts its partition (both CPUs taken back, RAM scrubbed, images reloaded) and `poweroff`
stops it, while the generic kernel's uptime keeps counting."""

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


def uptime(q, tag):
    """Seconds since the attached partition's kernel booted, from its /proc/uptime. `tag` tells
    the answer from an earlier one in the scrollback that attaching replays."""
    q.send(f"read up idle < /proc/uptime; echo uptime-{tag}-$up\r")
    return float(q.expect(rf"^uptime-{tag}-([\d.]+)\s*$", timeout=60).group(1))


def check_linux_up(text, name, cpus, mem_mib):
    m = re.search(rf"^\[{name}\] LINUX-UP {name} cpus=(\d+) memkb=(\d+)\s*$", text, re.MULTILINE)
    assert m, f"no LINUX-UP line from {name}"
    assert int(m.group(1)) == cpus, f"{name}: {m.group(0)}"
    memkb = int(m.group(2))
    # MemTotal is the RAM the partition has, less what the kernel keeps for itself.
    assert 0.7 * mem_mib * 1024 < memkb <= mem_mib * 1024, f"{name}: {m.group(0)}"


def timed_sleep(q, name, seconds=5, tries=3):
    """Runs `sleep` in partition `name` (attached: its output comes raw) between two lines that print the
    guest's uptime; returns (real seconds, guest seconds) between those lines. Real time is when
    the lines reached the test, so a loaded machine can only make it look longer; the guest's
    TSC under QEMU TCG is the host's, which on a shared host can jump: up to `tries` runs, the
    first with both within 5 % wins (a wrong rate fails them all). Every run goes to build/test-logs/linux-sleep-times.txt."""
    # Shell builtins around the sleep (read, echo): no process start is timed with it.
    line = (f"read a x < /proc/uptime; echo T0 $a; sleep {seconds}; "
            f"read b x < /proc/uptime; echo T1 $b")
    for _ in range(tries):
        q.send(line + "\r")
        g0 = float(q.expect(r"^T0 ([\d.]+)\s*$", timeout=60).group(1))
        h0 = time.monotonic()
        g1 = float(q.expect(r"^T1 ([\d.]+)\s*$", timeout=60).group(1))
        real, guest = time.monotonic() - h0, g1 - g0
        with open(harness.TEST_LOGS / "linux-sleep-times.txt", "a") as f:
            f.write(f"{name}: sleep {seconds}: {real:.3f} s real, {guest:.3f} s guest uptime\n")
        if abs(real - seconds) <= 0.05 * seconds and abs(guest - seconds) <= 0.05 * seconds:
            break
    return real, guest


def check_sleep(q, name, seconds=5):
    """`sleep 5` takes 5 s of real time (within 5 %), and the guest's clock agrees."""
    real, guest = timed_sleep(q, name, seconds)
    assert abs(real - seconds) <= 0.05 * seconds, f"{name}: sleep {seconds} took {real:.2f} s"
    assert abs(guest - seconds) <= 0.05 * seconds, \
        f"{name}: sleep {seconds} took {guest:.2f} s by its own uptime"


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
    check_sleep(q, "generic")
    uptime_before, host_before = uptime(q, "before"), time.monotonic()
    q.send(BACK_TO_HYPERVISOR)
    q.expect(r"\] I: console: back to the hypervisor", timeout=30)

    # The cloud kernel (two CPUs) answers and keeps time too.
    q.sendline("console cloud")
    q.expect(r"\] I: console: attached to partition cloud", timeout=30)
    q.send("echo cloud-$((6*7)) cpus-$(nproc)\r")
    q.expect(r"^cloud-42 cpus-2\s*$", timeout=60)
    check_sleep(q, "cloud")
    # reboot restarts the cloud partition, both of its CPUs taken back and the second one
    # started again by the new kernel; poweroff stops it. generic runs on meanwhile.
    q.send("reboot\r")
    q.expect(r"\] I: partition cloud: the guest reset its machine; restarting it", timeout=60)
    q.expect(r"\] I: partition cloud: restarted \(restart 1\)", timeout=60)
    q.expect(r"^LINUX-UP cloud cpus=2 ", timeout=BOOT_TIMEOUT)    # both CPUs again
    q.send("poweroff\r")
    q.expect(r"\] I: partition cloud: stopped \(the guest powered off", timeout=60)
    q.send(BACK_TO_HYPERVISOR)
    q.expect(r"\] I: console: back to the hypervisor", timeout=30)

    # The shell starts the powered-off partition again (a fresh boot), then restarts it (its
    # CPUs taken back from a running Linux, RAM scrubbed, images reloaded).
    answer = q.shell("start cloud")
    assert answer["ok"], answer
    q.expect(r"^\[cloud\] LINUX-UP cloud cpus=2 ", timeout=BOOT_TIMEOUT)
    answer = q.shell("restart cloud")
    assert answer["ok"], answer
    q.expect(r"\] I: partition cloud: restarted \(restart 2\)", timeout=60)
    q.expect(r"^\[cloud\] LINUX-UP cloud cpus=2 ", timeout=BOOT_TIMEOUT)

    # generic's uptime went on counting across all of its neighbour's restarts: untouched.
    q.sendline("console generic")
    q.expect(r"\] I: console: attached to partition generic", timeout=30)
    uptime_after, host_after = uptime(q, "after"), time.monotonic()
    # ... all the while: not reset, not paused (the real time passed bounds it from above).
    counted, passed = uptime_after - uptime_before, host_after - host_before
    assert 0.9 * passed < counted < 1.1 * passed, (uptime_before, uptime_after, passed)
    q.send(BACK_TO_HYPERVISOR)
    q.expect(r"\] I: console: back to the hypervisor", timeout=30)

    # The shell still answers, with each Linux partition's state and exits by reason.
    listed = {p["name"]: p for p in q.shell("list")["partitions"]}
    assert listed["cloud"]["state"] == "running" and listed["cloud"]["restarts"] == 2
    assert listed["generic"]["state"] == "running" and listed["generic"]["restarts"] == 0
    info = q.shell("info generic")
    assert info["pc_platform"] and info["exits"]["io"] > 0, info
    q.sendline("poweroff")
    q.expect(r"\] I: bulkhead: powering off \(ACPI S5\)", timeout=30)
    q.check_powered_off()

    text = q.output
    # The generic partition ran on undisturbed: one boot, no restart.
    assert len(re.findall(r"^\[generic\] LINUX-UP", text, re.MULTILINE)) == 1
    assert not re.search(r"partition generic: (restarted|stopped|failed)", text)
    check_linux_up(text, "cloud", 2, 384)
    check_linux_up(text, "generic", 1, 256)
    # Each kernel saw only its own CPUs in the MADT it was given.
    assert re.search(r"^\[cloud\] .*smpboot: Allowing 2 CPUs", text, re.MULTILINE)
    assert re.search(r"^\[generic\] .*smpboot: Allowing 1 CPUs", text, re.MULTILINE)
    assert not re.search(r"Kernel panic|FAULT cpu", text)
    errors = [line.message for line in harness.Log(text).lines if line.level == "E"]
    assert not errors, errors
