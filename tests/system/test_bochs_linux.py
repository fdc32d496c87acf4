"""A stock Debian kernel in a partition on Intel VT-x: Bochs `corei7_skylake_x` (EPT, VPID,
unrestricted guest) through OVMF, the only VT-x machine here (QEMU's TCG has none). The cloud
kernel with the busybox initramfs on one CPU reaches `LINUX-UP` with its own CPU and RAM, answers a
command typed on its console, and the hypervisor reports the partition's exits by reason (the
VT-x exit census of docs/linux-guests.md). Needs `make linux-guests` (skips without the kernels,
like the other Linux tests). A few minutes: Bochs emulates ~80 M instructions per second."""

import re
import time

import pytest

import bochs
import harness
import scenarios

pytestmark = [pytest.mark.bochs, pytest.mark.linux]

LINUX = harness.BUILD / "linux"
MODEL = "corei7_skylake_x"
MEM_MIB = 128
# `quiet`: the kernel's boot messages would cost two vUART exits per character.
CONFIG = f"""
[partition cloud]
cpus = 1
memory = {MEM_MIB}M
kernel = linux/vmlinuz-cloud
initrd = linux/initramfs.cpio.gz
cmdline = console=ttyS0 bulkhead.partition=cloud quiet
on_crash = stop
"""
LINUX_TIMEOUT = 480       # wall seconds from Bochs' start to LINUX-UP (~1.5-2.5 min here)


def linux_files():
    files = {}
    for name in ("vmlinuz-cloud", "initramfs.cpio.gz"):
        path = LINUX / name
        if not path.is_file():
            pytest.skip(f"{path} is missing: `make linux-guests` fetches the Debian kernels")
        files[f"linux/{name}"] = path
    return files


def record(text):
    """Boot time and exit census go to build/test-logs/linux-boot-times.txt; nothing asserts
    on them (timings depend on the machine)."""
    with open(harness.TEST_LOGS / "linux-boot-times.txt", "a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} cloud in a partition, Bochs {MODEL} "
                f"(VT-x), {MEM_MIB} MiB: {text}\n")


def test_cloud_kernel_on_vmx(bochs_run, bulkhead_efi):
    config = harness.make_config(log_level="info", poweroff_when_ready=False, extra=CONFIG)
    run = bochs_run(efi=bulkhead_efi, config=config, files=linux_files(), model=MODEL, cpus=2,
                    mem_mib=384, serial="socket", time_limit=LINUX_TIMEOUT + 240)
    run.expect(r"\] I: virt: Intel VT-x \(EPT, VPID, unrestricted guest\)$")
    run.expect(r"\] I: partition cloud: .*kernel 'linux/vmlinuz-cloud' \(Linux bzImage\)")
    m = run.expect(r"^\[cloud\] LINUX-UP cloud cpus=(\d+) memkb=(\d+)\s*$", timeout=LINUX_TIMEOUT)
    up = run.elapsed()
    assert int(m.group(1)) == 1, m.group(0)
    # MemTotal: the partition's RAM less what the kernel keeps for its image and tables.
    assert 0.6 * MEM_MIB * 1024 < int(m.group(2)) <= MEM_MIB * 1024, m.group(0)

    # Exits by reason up to here (the shell's answer adds a few).
    info = harness.shell_json(run, "info cloud", timeout=60)
    assert info["ok"] and info["state"] == "running", info
    exits = " ".join(f"{reason}={count}" for reason, count in sorted(info["exits"].items()))
    record(f"LINUX-UP after {up:.1f} s wall; exits total={info['exits_total']} {exits}, "
           f"blocked {info['blocked_accesses']}")

    # Typing reaches the partition's shell, and its answer comes back.
    run.sendline("console cloud")
    run.expect(r"\] I: console: attached to partition cloud", timeout=30)
    run.send("echo answer-$((6*7)) cpus-$(nproc)\r")
    run.expect(r"^answer-42 cpus-1\s*$", timeout=120)
    # Where the hypervisor runs the LAPICs in x2APIC mode (Bochs' Skylake-X has x2APIC), the
    # guest is offered x2APIC and switches to it (`quiet` keeps it off the console: ask dmesg).
    # Also the warnings `quiet` hides about MSRs the guest touched without expecting a #GP: a
    # feature CPUID offers but the MSR policy refuses (`MS[R]`: the echoed command must not
    # match the check below).
    run.send("dmesg | grep -i -e x2apic -e 'APIC routing' -e 'unchecked MS[R]'; "
             "echo dmesg-$((1+1))\r")
    m = run.expect(r"^((?:.*\n)*?)dmesg-2\s*$", timeout=120)
    assert "unchecked MSR" not in m.group(1), m.group(1)
    if re.search(r"I: cpu 0: APIC ID \d+, x2APIC mode", run.output):
        assert re.search(r"x2apic enabled", m.group(1)), m.group(1)
        assert re.search(r"Switched APIC routing to physical x2apic", m.group(1)), m.group(1)
    run.send("\x1c")                                     # Ctrl-\ back to the shell
    run.expect(r"\] I: console: back to the hypervisor", timeout=30)
    scenarios.power_off(run)

    text = run.output
    assert "vmx:" not in text, "the VT-x backend reported a failure"
    assert not re.search(r"Kernel panic|Oops|invalid opcode|FAULT cpu|unchecked MSR", text)
    errors = [line.message for line in harness.Log(text).lines if line.level == "E"]
    assert not errors, errors
