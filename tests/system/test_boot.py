"""Foundation: Bulkhead boots under QEMU/OVMF, starts every CPU, reports, and powers off."""

import re
import shutil

import pexpect
import pytest

import harness
from harness import HarnessError

MEM = "2G"
MEM_KIB = 2 * 1024 * 1024


@pytest.mark.qemu
@pytest.mark.parametrize("cpus", [1, 2, 4], ids=["1cpu", "2cpus", "4cpus"])
def test_boot_efi(qemu, bulkhead_efi, cpus):
    """Boot from a folder (EFI/BOOT/BOOTX64.EFI + bulkhead.cfg), serial on a unix socket."""
    q = qemu(efi=bulkhead_efi, config=harness.boot_config(), smp=cpus, mem=MEM,
             serial="socket")
    q.expect(r"\] I: Bulkhead \S+ starting \(loader: uefi\)")
    q.expect(r"\] I: bulkhead: ready$")
    log = harness.check_poweroff(q)
    harness.check_ready(log, cpus, MEM_KIB)


@pytest.mark.qemu
def test_boot_usb_stick(qemu, bulkhead_img, tmp_path):
    """Boot the `make image` disk as a USB stick, after editing its configuration the way
    docs/boot-media.md tells users to (mtools, no mounting)."""
    gpt = harness.Gpt(bulkhead_img)
    offset = gpt.partitions[0]["first_lba"] * harness.SECTOR
    stick = tmp_path / "stick.img"
    shutil.copyfile(bulkhead_img, stick)
    harness.mtools_write(stick, offset, "/bulkhead.cfg", harness.boot_config())

    q = qemu(image=stick, smp=2, mem=MEM, serial="file")
    # OVMF names the boot device: it must be the stick, not some other disk.
    q.expect(r"BdsDxe: starting Boot\w+ \".*USB.*\"")
    q.expect(r"\] I: Bulkhead \S+ starting \(loader: uefi\)")
    log = harness.check_poweroff(q)
    harness.check_ready(log, 2, MEM_KIB)


@pytest.mark.qemu
@pytest.mark.linux
def test_make_run_console(tmp_path, log_path):
    """`make run` itself, as the README's quick start has it: the Linux example configuration
    (guests/linux.cfg: two Debian kernels and hello, 5 CPUs), the serial console and the QEMU
    monitor on a terminal. Bulkhead keeps running (poweroff_when_ready = no) until Ctrl-A x
    ends QEMU; the runner leaves no temporary files behind. Skips without the Linux guests
    (`make run` would download them)."""
    linux = harness.BUILD / "linux"
    for name in ("vmlinuz-cloud", "vmlinuz-generic", "initramfs.cpio.gz"):
        if not (linux / name).is_file():
            pytest.skip(f"{linux / name} is missing: `make linux-guests` fetches it")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {"TMPDIR": str(tmpdir), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path)}
    with open(log_path, "wb") as logfile:
        child = pexpect.spawn("make", ["--no-print-directory", "run", f"BUILD={harness.BUILD}"],
                              cwd=str(harness.REPO), env=env, logfile=logfile,
                              timeout=harness.scaled(harness.BOOT_TIMEOUT))
        try:
            try:
                child.expect(r"\] I: bulkhead: ready")
                # Either kernel may come up first.
                up = set()
                while len(up) < 2:
                    child.expect(r"LINUX-UP (cloud|generic) cpus=\d+",
                                 timeout=harness.scaled(240))
                    up.add(child.match.group(1).decode())
            except (pexpect.TIMEOUT, pexpect.EOF) as e:
                raise HarnessError(f"`make run` did not boot both Linux partitions "
                                   f"({type(e).__name__})\n"
                                   + harness.tail(harness.clean_text(log_path.read_bytes())))
            assert list(tmpdir.iterdir()), "run-qemu.sh made no temporary folder under TMPDIR"
            # Still running a little later: nothing powers the machine off.
            idx = child.expect([r"powering off", pexpect.EOF, pexpect.TIMEOUT],
                               timeout=harness.scaled(3))
            assert idx == 2, "Bulkhead powered off or QEMU ended with poweroff_when_ready = no"
            child.send("\x01x")                      # Ctrl-A x: quit QEMU
            child.expect(pexpect.EOF, timeout=harness.scaled(30))
        finally:
            child.close(force=True)
    log = harness.Log(harness.clean_text(log_path.read_bytes()))
    log.check_clean()
    harness.check_ready(log, 5, MEM_KIB)
    assert re.search(r"\] I: partitions: 3 configured, 3 valid", log.text)
    assert child.exitstatus == 0, f"`make run` exited with {child.exitstatus}"
    assert not list(tmpdir.iterdir()), \
        f"run-qemu.sh left temporary files: {[p.name for p in tmpdir.iterdir()]}"


# The two debug hooks of docs/config.md show how the hypervisor copes with a CPU that never
# answers and with an exception on one CPU.

@pytest.mark.qemu
def test_cpu_that_does_not_answer(qemu, bulkhead_efi):
    """debug_phantom_cpu: one more CPU (an APIC ID the machine lacks) is started; it is reported
    after a bounded wait, counted as enabled but not online, and the boot goes on."""
    q = qemu(efi=bulkhead_efi, config=harness.boot_config(debug_phantom_cpu=7), smp=2,
             mem=MEM, serial="file")
    q.expect(r"\] [WE]: cpu: APIC ID (0x)?7 did not answer")
    q.expect(r"\] I: bulkhead: ready$")
    status = q.wait()
    log = q.log()
    # The report of the missing CPU is the only complaint.
    problems = [p for p in log.problems() if not harness.RX_NO_ANSWER.search(p.split(": ", 1)[-1])]
    assert not problems, f"unexpected faults or errors: {problems}"
    assert len(log.find_all(harness.RX_NO_ANSWER)) == 1
    log.check_order(harness.RX_START, harness.RX_NO_ANSWER, harness.RX_ONLINE, harness.RX_READY,
                    harness.RX_POWEROFF)
    _, online = log.require(harness.RX_ONLINE, "'bulkhead: N/M CPUs online'")
    assert online.group(0) == "bulkhead: 2/3 CPUs online"
    s = log.summary()
    assert (s["cpus_online"], s["cpus_enabled"]) == (2, 3), s
    assert status == 0 and q.shutdown_reasons() == [harness.SHUTDOWN_GUEST_SHUTDOWN], \
        f"no clean power-off: status {status}, shutdown requests {q.shutdown_reasons()}"


@pytest.mark.qemu
def test_fault_stops_only_that_cpu(qemu, bulkhead_efi):
    """debug_fault_cpu: CPU 1 raises #UD once online. The fault is reported with its registers;
    CPU 0 goes on to ready and powers the machine off cleanly."""
    q = qemu(efi=bulkhead_efi, config=harness.boot_config(debug_fault_cpu=1), smp=2,
             mem=MEM, serial="file")
    q.expect(r"^FAULT cpu 1 \(APIC ID 1\): vector 6 \(#UD")
    q.expect(r"\] I: bulkhead: powering off \(ACPI S5\)$")
    status = q.wait()
    text = q.output
    reports = re.findall(r"^FAULT cpu \d+ \(APIC ID", text, re.MULTILINE)
    assert len(reports) == 1, f"expected one FAULT report, got {len(reports)}"
    # The whole report reaches the console before the power-off: every register, and the line
    # that ends it.
    missing = [reg for reg in ("RIP", "RSP", "RAX", "R8", "R15", "CR2")
               if not re.search(rf"^\s+.*\b{reg}\s+[0-9a-fA-F]{{16}}\b", text, re.MULTILINE)]
    ended = re.search(r"^FAULT cpu 1: stopped", text, re.MULTILINE) is not None
    assert not missing and ended, (
        f"the FAULT report is incomplete (cut off by the power-off?): registers missing "
        f"{missing}, closing 'FAULT cpu 1: stopped' line {'present' if ended else 'missing'}")
    log = harness.Log(text)
    assert not [line for line in log.lines if line.level == "E"], "unexpected E: lines"
    log.check_order(harness.RX_START, harness.RX_ONLINE, harness.RX_READY, harness.RX_POWEROFF)
    assert status == 0 and q.shutdown_reasons() == [harness.SHUTDOWN_GUEST_SHUTDOWN], \
        f"no clean power-off: status {status}, shutdown requests {q.shutdown_reasons()}"
