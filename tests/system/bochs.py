"""Bochs runs for the system tests: boots Bulkhead under Bochs 2.7 (Debian's build), headless,
with COM1 written to a file or served on a TCP socket on 127.0.0.1. Two firmwares:
firmware="uefi" (OVMF, the EFI application) and firmware="bios" (Bochs BIOS, GRUB, the multiboot2
kernel). See tests/bochs/README.md.

Plain Python (standard library only), built on harness.py (logs, configuration, checks).

    b = Bochs(log_path, workdir, efi=path, config=harness.boot_config(), model="ryzen").start()
    b.expect(r"\\] I: bulkhead: ready$")       # regex on the cleaned console, as Qemu.expect
    b.kill()

    run = start_scenario(start, scenarios.SCENARIOS["three"], model="corei7_skylake_x",
                         firmware="bios")       # a partition scenario, console on a socket
    scenarios.SCENARIOS["three"].check(run)

The boot medium is copied or built first (Bochs locks and may write its disk): with OVMF, a GPT
disk image (tools/mkimage.sh) on the ATA primary master, OVMF (/usr/share/ovmf/OVMF.fd) as the
ROM image; with the Bochs BIOS, the hybrid image (tools/mkiso.sh) as an ATAPI CD-ROM or a disk. Bochs runs under `timeout`, so nothing outlives its time limit even if the
harness dies. Every guest-initiated stop makes Bochs exit with status 1: judge from the serial
output, never from the exit status.

Logs, next to log_path (build/test-logs/<test>.log is the serial console):
  <stem>.bochs.log   Bochs' own log (panics; errors and infos with verbose=True)
  <stem>.bochsout    Bochs' stdout/stderr, with the command line and the timings
  <stem>.bochsrc     the configuration the run used
"""

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import harness
from harness import HarnessError, clean_text, scaled, tail, terminate_group

BOCHS = os.environ.get("BOCHS", "bochs")
OVMF = Path(os.environ.get("BULKHEAD_BOCHS_OVMF", "/usr/share/ovmf/OVMF.fd"))
TEMPLATE = harness.REPO / "tests" / "bochs" / "bochsrc-ovmf.in"
TEMPLATES = {"uefi": TEMPLATE, "bios": harness.REPO / "tests" / "bochs" / "bochsrc-bios.in"}
BIOS_ROM = Path("/usr/share/bochs/BIOS-bochs-latest")

# Models with the virtualisation extension Bulkhead uses (see docs in tests/bochs/README.md).
AMD_MODELS = ("ryzen", "zambezi", "trinity_apu")
INTEL_MODELS = ("corei7_skylake_x", "tigerlake", "corei7_icelake_u", "corei3_cnl",
                "broadwell_ult", "corei7_haswell_4770", "corei7_sandy_bridge_2600k")

DEFAULT_IPS = 100_000_000
# Wall-clock limit of one run, enforced by `timeout` around Bochs (scaled by TIMEOUT_SCALE).
DEFAULT_TIME_LIMIT = 240
# Waiting for one marker on the console.
BOOT_TIMEOUT = 180
SECTOR = 512


def disk_geometry(size):
    """(cylinders, heads, spt) with cylinders*heads*spt*512 == size, as Bochs demands of a flat
    disk image; prefers the conventional 16 heads and many sectors per track."""
    if size <= 0 or size % SECTOR:
        raise HarnessError(f"a disk image of {size} bytes is not a whole number of sectors")
    sectors = size // SECTOR
    for heads in (16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1):
        for spt in range(63, 0, -1):
            if sectors % (heads * spt) == 0 and sectors // (heads * spt) <= 65535:
                return sectors // (heads * spt), heads, spt
    raise HarnessError(f"no CHS geometry fits {sectors} sectors; pad the image "
                       "(ESP_MIB=N for tools/mkimage.sh)")


def render_config(template_text, fields):
    """The template with every @NAME@ replaced; raises on a field left unfilled."""
    text = template_text
    for name, value in fields.items():
        text = text.replace(f"@{name}@", str(value))
    left = sorted(set(re.findall(r"@([A-Z_]+)@", text)))
    if left:
        raise HarnessError(f"bochsrc template fields without a value: {', '.join(left)}")
    return text


# How many debugger stops (panics) one run survives.
CONTINUES = 1000


def free_tcp_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bochs:
    """One Bochs run booting Bulkhead from a disk image, through OVMF or the Bochs BIOS.

    Boot a new image:   Bochs(log, work, efi=path, config=TEXT, files={"guests/a.elf": path})
    ... through GRUB:   Bochs(log, work, firmware="bios", efi=..., elf=..., config=..., files=...)
    Boot an image:      Bochs(log, work, image=path)            (copied; the original stays)

    firmware: "uefi" (OVMF; a tools/mkimage.sh disk) or "bios" (Bochs BIOS; a tools/mkiso.sh
    image, elf= defaults to the build's bulkhead.elf); media: how a BIOS sees the image, "cdrom"
    (El Torito) or "disk" (the hybrid MBR, as a USB stick); serial: "file" (COM1 to the log) or
    "socket" (COM1 on a TCP socket that Bochs waits on before it starts; send() types on it).

    model: a Bochs CPU model (`bochs --help cpu`); cpus: `cpu: count`; ips: instructions per
    emulated second; mem_mib: RAM; time_limit: wall seconds before `timeout` ends Bochs;
    verbose: Bochs' errors and infos go to its log too (large: see the template).
    """

    def __init__(self, log_path, workdir, *, efi=None, elf=None, config=None, files=None,
                 image=None, firmware="uefi", media=None, model="ryzen", cpus=1,
                 ips=DEFAULT_IPS, mem_mib=512, serial="file", time_limit=DEFAULT_TIME_LIMIT,
                 verbose=False, template=None):
        if firmware not in TEMPLATES:
            raise ValueError(f"firmware must be one of {sorted(TEMPLATES)}, not {firmware!r}")
        media = media or ("cdrom" if firmware == "bios" else "disk")
        if media not in ("cdrom", "disk") or (firmware == "uefi" and media != "disk"):
            raise ValueError(f"media {media!r} does not go with firmware {firmware!r}")
        if serial not in ("file", "socket"):
            raise ValueError(f"serial must be 'file' or 'socket', not {serial!r}")
        if image is not None and (efi is not None or elf is not None or config is not None
                                  or files):
            raise ValueError("an image boots as it is: no efi, elf, config or files with image")
        if image is None and efi is None:
            raise ValueError("Bochs needs efi=... (with config) or image=...")
        self.log_path = Path(log_path)
        stem = self.log_path.with_suffix("")
        self.bochs_log_path = Path(f"{stem}.bochs.log")
        self.out_path = Path(f"{stem}.bochsout")
        self.rc_path = Path(f"{stem}.bochsrc")
        self.workdir = Path(workdir)
        self.efi = efi
        self.elf = elf
        self.config = config
        self.files = dict(files or {})
        self.image = image
        self.firmware = firmware
        self.media = media
        self.serial = serial
        self.model = model
        self.cpus = cpus
        self.ips = int(ips)
        self.mem_mib = int(mem_mib)
        self.time_limit = time_limit
        self.verbose = verbose
        self.template = Path(template or TEMPLATES[firmware])

        self.proc = None
        self.returncode = None
        self.started_at = None
        self.marks = {}              # pattern -> wall seconds after start() it first matched
        self._cursor = 0
        self._out = None
        self._port = None
        self._sock = None
        self._reader = None
        self._reader_done = threading.Event()

    # -- starting ------------------------------------------------------------------------------
    def _disk(self):
        disk = self.workdir / "disk.img"
        if self.image is not None:
            shutil.copyfile(self.image, disk)
            return disk
        if self.firmware == "bios":
            return harness.make_iso(disk, self.config if self.config is not None else "",
                                    self.files, efi=self.efi, elf=self.elf)
        cfg = self.workdir / "bulkhead.cfg"
        cfg.write_text(self.config if self.config is not None else "")
        cmd = [str(harness.MKIMAGE), str(disk), str(self.efi), str(cfg)]
        cmd += [f"{src}:{dest}" for dest, src in self.files.items()]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=harness.REPO)
        if r.returncode != 0:
            raise HarnessError(f"mkimage.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return disk

    def bochsrc(self, disk):
        if self.media == "cdrom":
            ata0_master = f"type=cdrom, path={disk}, status=inserted"
        else:
            cylinders, heads, spt = disk_geometry(disk.stat().st_size)
            ata0_master = (f"type=disk, path={disk}, mode=flat, cylinders={cylinders}, "
                           f"heads={heads}, spt={spt}")
        if self.serial == "socket":
            self._port = free_tcp_port()
            com1 = f"mode=socket-server, dev=127.0.0.1:{self._port}"
        else:
            com1 = f"mode=file, dev={self.log_path.resolve()}"
        ovmf_size = OVMF.stat().st_size if OVMF.is_file() else 0
        fields = {
            "OVMF": OVMF, "OVMF_ADDRESS": hex((1 << 32) - ovmf_size),
            "MODEL": self.model, "CPUS": self.cpus, "IPS": self.ips, "MEM_MIB": self.mem_mib,
            "DISK": disk, "ATA0_MASTER": ata0_master, "BOOT": self.media, "COM1": com1,
            "BOCHS_LOG": self.bochs_log_path.resolve(),
            "CPU_PANIC": "".join(f", cpu{i}=report" for i in range(self.cpus)),
            "ERROR_ACTION": "report" if self.verbose else "ignore",
            "INFO_ACTION": "report" if self.verbose else "ignore",
        }
        return render_config(self.template.read_text(), fields)

    def command(self):
        limit = max(1, int(scaled(self.time_limit)))
        # timeout sends TERM at the limit and KILL 10 s later; -rc feeds the debugger its "c".
        return ["timeout", "--kill-after=10", str(limit), BOCHS, "-q", "-f", str(self.rc_path),
                "-rc", str(self.workdir / "cont.rc")]

    def start(self):
        if shutil.which(BOCHS) is None:
            raise HarnessError(f"'{BOCHS}' not found: run tools/install-deps.sh (package bochs)")
        if self.firmware == "uefi" and not OVMF.is_file():
            raise HarnessError(f"{OVMF} not found: run tools/install-deps.sh (package ovmf)")
        if self.firmware == "bios" and not BIOS_ROM.is_file():
            raise HarnessError(f"{BIOS_ROM} not found: run tools/install-deps.sh "
                               "(package bochsbios)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        disk = self._disk()
        self.rc_path.write_text(self.bochsrc(disk))
        # Debian's Bochs has its debugger compiled in: every panic (a guest's triple fault is one,
        # see the templates) stops in it and reads the next command. From /dev/null that is an
        # end of file and Bochs quits; the rc file is read first, so it holds many "continue"s.
        (self.workdir / "cont.rc").write_text("c\n" * CONTINUES)
        cmd = self.command()
        self._out = open(self.out_path, "wb")
        self._out.write(("$ " + " ".join(cmd) + "\n").encode())
        self._out.flush()
        self.started_at = time.monotonic()
        # A session of its own: kill() ends timeout and Bochs together.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=self.workdir)
        if self.serial == "socket":
            self._connect(scaled(60))
        return self

    def _connect(self, timeout):
        """Bochs serves COM1 once it has read its configuration and waits for this client
        before it runs the machine."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._finish()
                raise HarnessError(f"Bochs ended (status {self.returncode}) before its COM1 "
                                   f"socket accepted a connection\n{self.describe()}")
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.connect(("127.0.0.1", self._port))
                break
            except OSError:
                s.close()
            if time.monotonic() > deadline:
                self.kill()
                raise HarnessError(f"Bochs' COM1 socket (port {self._port}) did not come up "
                                   f"in {timeout:.0f} s\n{self.describe()}")
            time.sleep(0.1)
        self._sock = s
        self._reader = threading.Thread(target=self._read_socket, name="bochs-com1",
                                        daemon=True)
        self._reader.start()

    def _read_socket(self):
        harness.copy_serial(self._sock, self.log_path, self._reader_done)

    def send(self, data):
        """Types `data` (str or bytes) on COM1 (serial="socket" only)."""
        if self._sock is None:
            raise HarnessError("send() needs Bochs(serial='socket')")
        self._sock.sendall(data.encode() if isinstance(data, str) else data)

    def sendline(self, line):
        self.send(line + "\r")

    # -- output --------------------------------------------------------------------------------
    def raw_output(self):
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    @property
    def output(self):
        return clean_text(self.raw_output())

    def log(self):
        return harness.Log(self.output)

    def elapsed(self):
        return time.monotonic() - self.started_at

    def _bochs_output_tail(self):
        try:
            return tail(self.out_path.read_text(errors="replace"), 15)
        except FileNotFoundError:
            return ""

    def describe(self, lines=40):
        return (f"--- last {lines} lines of the serial log {self.log_path} ---\n"
                f"{tail(self.output, lines)}\n"
                f"--- Bochs' own output {self.out_path} (its log: {self.bochs_log_path}) ---\n"
                f"{self._bochs_output_tail()}")

    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        """Waits until the console after the previous match matches `pattern` (regex,
        re.MULTILINE, on the cleaned text); returns the match and notes the wall time in
        self.marks. Raises HarnessError if Bochs ends first or time runs out (Bochs killed)."""
        rx = re.compile(pattern, re.MULTILINE) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + scaled(timeout)
        while True:
            exited = self.proc.poll() is not None
            if exited:
                self._finish()
            m = rx.search(self.output, self._cursor)
            if m:
                self._cursor = m.end()
                self.marks.setdefault(rx.pattern, self.elapsed())
                self._note(f"{self.elapsed():8.1f} s  matched {rx.pattern!r}")
                return m
            if exited:
                raise HarnessError(f"Bochs ended (status {self.returncode}) before the serial "
                                   f"output matched {rx.pattern!r}\n{self.describe()}")
            if time.monotonic() > deadline:
                self.kill()
                raise HarnessError(f"no match for {rx.pattern!r} within {scaled(timeout):.0f} s; "
                                   f"Bochs killed\n{self.describe()}")
            time.sleep(0.1)

    def _note(self, text):
        if self._out is not None:
            self._out.write(f"# {text}\n".encode())
            self._out.flush()

    # -- ending --------------------------------------------------------------------------------
    def wait(self, timeout=None):
        """Waits for Bochs to end by itself (a guest stop: status 1; the time limit: 124);
        returns the status. Kills it and raises HarnessError after `timeout` seconds."""
        limit = scaled(timeout if timeout is not None else self.time_limit + 15)
        try:
            self.proc.wait(timeout=max(self.started_at + limit - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError(f"Bochs still running {limit:.0f} s after it started; killed\n"
                               f"{self.describe()}") from None
        self._finish()
        return self.returncode

    def check_powered_off(self, timeout=None):
        """After the hypervisor said it powers off: Bochs ends by itself (status 1, as for
        every guest-initiated stop, not 124 for its time limit) and says it was ACPI's soft
        power-off (not a triple fault or Bochs' shutdown port)."""
        status = self.wait(timeout)
        if status != 1:
            raise HarnessError(f"Bochs exited with status {status}, expected 1 (a guest stop)"
                               f"\n{self.describe()}")
        if "soft power off" not in self.out_path.read_text(errors="replace"):
            raise HarnessError(f"Bochs stopped, but not by an ACPI power-off\n{self.describe()}")

    def kill(self):
        """Ends the run: SIGTERM to timeout and Bochs, SIGKILL if that does not do."""
        if self.proc is None:
            return
        terminate_group(self.proc)
        self._finish()

    def _finish(self):
        if self.proc is None or self.proc.poll() is None:
            return
        if self.returncode is None:
            self.returncode = self.proc.returncode
            self._note(f"{self.elapsed():8.1f} s  Bochs ended, status {self.returncode}")
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._reader is not None:
            self._reader_done.wait(timeout=5)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        # The disk copy (tens of MiB) is not worth keeping; the lock file goes with it.
        for name in ("disk.img", "disk.img.lock"):
            try:
                (self.workdir / name).unlink()
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()


# ---------------------------------------------------------------------------------------------
# Checks

def start_scenario(start, scenario, *, model, firmware, cpus=None, **kwargs):
    """Starts a partition scenario (scenarios.SCENARIOS[...]) under a Bochs CPU model and
    firmware ("bios": GRUB and multiboot2; "uefi": OVMF), with the build's bulkhead.efi and
    bulkhead.elf, the scenario's configuration and guests, its CPU count and the console on a
    socket. `start` makes runs (the bochs_run fixture, or a lambda around Bochs(...).start()).
    Then: scenario.check(run)."""
    return start(efi=harness.BUILD / "bulkhead.efi",
                 elf=harness.BUILD / "bulkhead.elf" if firmware == "bios" else None,
                 config=scenario.config(), files=scenario.files(), firmware=firmware,
                 model=model, cpus=cpus or scenario.smp, serial="socket", **kwargs)


def run_scenario(start, scenario, *, model, firmware, **kwargs):
    """start_scenario(), then the scenario's checks on the console; returns the run."""
    run = start_scenario(start, scenario, model=model, firmware=firmware, **kwargs)
    scenario.check(run)
    return run


def faults(log):
    """Console lines that report a hypervisor exception."""
    return [line for line in log.text.splitlines() if "FAULT" in line]


def check_ready_no_acpi(log, cpus):
    """A Bochs/OVMF boot: started by the UEFI loader, found its `cpus` CPUs without ACPI (from
    the loader's MP-services list) and started them, reached `bulkhead: ready`, no FAULT line.
    (The W: line about the missing RSDP is expected.)"""
    bad = faults(log)
    if bad:
        raise HarnessError("the log shows faults:\n  " + "\n  ".join(bad[:20]) +
                           f"\n--- end of the serial output ---\n{tail(log.text)}")
    _, m = log.require(harness.RX_START, "'Bulkhead <version> starting'")
    if m.group(2) != "uefi":
        raise HarnessError(f"started by loader {m.group(2)!r}, expected uefi")
    if cpus > 1:
        log.require(re.compile(rf"cpu: no ACPI MADT; using the {cpus} CPUs the firmware "
                               r"reported at boot"), "CPU list from the UEFI loader")
    _, online = log.require(harness.RX_ONLINE, "'bulkhead: N/M CPUs online'")
    if (int(online.group(1)), int(online.group(2))) != (cpus, cpus):
        raise HarnessError(f"'{online.group(0)}', expected {cpus}/{cpus}")
    log.check_order(harness.RX_START, harness.RX_ONLINE, harness.RX_READY)
    return log
