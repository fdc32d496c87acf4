"""Harness of the system tests: boots Bulkhead under QEMU (OVMF or SeaBIOS) through
tools/run-qemu.sh, collects the serial console, and reads the hypervisor's log.

Plain Python (standard library only); conftest.py wraps it in pytest fixtures. The pieces:

- Qemu: one QEMU run. The boot volume is a folder (EFI application, configuration text, further
  files such as guest images) or a disk image attached as a USB stick; firmware="bios" boots the
  image with SeaBIOS (GRUB and the multiboot2 path; make_iso() builds such an image). The serial console goes to
  a file, or to a unix socket that the harness reads (then input can be sent to the console too).
  Every byte of serial output is kept in a log file. expect() waits for a pattern, wait() for QEMU
  to end; both kill QEMU when their time runs out.
- make_config(): the text of a bulkhead.cfg.
- Log: the serial output parsed into hypervisor log lines, with the checks every boot must pass.
- Gpt / fat_boot_sector(): readers of the disk image built by tools/mkimage.sh.
- make_iso() / IsoImage: build and read the hybrid BIOS+UEFI image of tools/mkiso.sh.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The build folder (the Makefile's BUILD): BULKHEAD_BUILD, relative to the repository or absolute.
BUILD = REPO / os.environ.get("BULKHEAD_BUILD", "build")
RUN_QEMU = REPO / "tools" / "run-qemu.sh"
MKIMAGE = REPO / "tools" / "mkimage.sh"
MKISO = REPO / "tools" / "mkiso.sh"
TEST_LOGS = BUILD / "test-logs"

# Every timeout of the harness is multiplied by this (for slow machines).
TIMEOUT_SCALE = float(os.environ.get("BULKHEAD_TIMEOUT_SCALE", "1"))
# One boot under TCG: OVMF ~5 s, then the hypervisor; generous for loaded 2-core CI machines.
BOOT_TIMEOUT = 120

# QEMU's ShutdownCause, as printed by the qemu_system_shutdown_request trace (--qemu-log).
SHUTDOWN_GUEST_SHUTDOWN = 6     # ACPI S5 / EFI ResetSystem(shutdown): a clean power-off

_ANSI = re.compile(r"\x1b(\[[0-9;=?]*[ -/]*[@-~]|[@-Z\\-_])")
# CR + erase-line: the console shell takes its prompt off the line before other output. The
# erased text becomes as many blanks and a line end, so that the cleaned text only ever grows
# (expect() keeps a position in it) and what follows starts a line, as on a terminal.
_ERASED_LINE = re.compile(r"([^\n]*)\r\x1b\[K")


def _blank_erased(m):
    return " " * len(_ANSI.sub("", m.group(1)).replace("\r", "")) + "\n"


def scaled(seconds):
    return seconds * TIMEOUT_SCALE


def clean_text(raw):
    """Serial bytes -> text: CRs and the firmware's terminal escape sequences removed."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return _ANSI.sub("", _ERASED_LINE.sub(_blank_erased, text)).replace("\r", "")


def tail(text, lines=40):
    return "\n".join(text.splitlines()[-lines:])


def terminate_group(proc):
    """Ends a process started in its own process group: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def copy_serial(sock, log_path, done, sink=None):
    """A console reader thread's body: appends what arrives on `sock` to log_path (and hands it
    to `sink`) until the emulator closes the stream; then sets the `done` event."""
    with open(log_path, "ab", buffering=0) as log:
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            log.write(data)
            if sink is not None:
                sink(data)
    done.set()


# The console shell's answers with --json: one line, an object starting with "ok".
SHELL_JSON = re.compile(r'^(\{"ok":.*\})[ \t]*$', re.MULTILINE)


def shell_json(run, command, timeout=30):
    """Types `command --json` on a run's console (anything with sendline() and expect()) and
    returns the JSON answer, parsed."""
    run.sendline(f"{command} --json")
    return json.loads(run.expect(SHELL_JSON, timeout=timeout).group(1))


class HarnessError(AssertionError):
    """A boot that did not go as expected; the message carries the end of the serial log."""


# ---------------------------------------------------------------------------------------------
# Configuration

def make_config(**settings):
    """Text of a bulkhead.cfg: make_config(poweroff_when_ready=True, log_level="debug").

    Booleans become yes/no. `extra` (a string) is appended verbatim, e.g. partition sections.
    """
    extra = settings.pop("extra", "")
    lines = ["# written by the system tests"]
    for key, value in settings.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        lines.append(f"{key} = {value}")
    text = "\n".join(lines) + "\n"
    if extra:
        text += "\n" + extra.strip("\n") + "\n"
    return text


def boot_config(**overrides):
    """The configuration the tests boot with by default: defaults, and power off when ready."""
    settings = {"console": "com1", "baud": 115200, "log_level": "info",
                "poweroff_when_ready": True}
    settings.update(overrides)
    return make_config(**settings)


# ---------------------------------------------------------------------------------------------
# One QEMU run

class Qemu:
    """One run of tools/run-qemu.sh.

    Boot from a folder:  Qemu(log, work, efi=..., config=TEXT, files={"guests/a.elf": path})
    Boot a disk image:   Qemu(log, work, image=path)          (as a USB stick, not modified)
    ... with SeaBIOS:    Qemu(log, work, image=iso, firmware="bios")   (GRUB, multiboot2)

    serial="file":   QEMU writes the console to the log file itself.
    serial="socket": QEMU serves the console on a unix socket and waits for the harness to
                     connect before the machine starts, so nothing is lost; send() types on it.
    """

    def __init__(self, log_path, workdir, *, efi=None, config=None, files=None, image=None,
                 smp=4, mem="2G", serial="file", firmware="uefi", extra_args=()):
        if serial not in ("file", "socket"):
            raise ValueError(f"serial must be 'file' or 'socket', not {serial!r}")
        if firmware not in ("uefi", "bios"):
            raise ValueError(f"firmware must be 'uefi' or 'bios', not {firmware!r}")
        if image is not None and (efi is not None or config is not None or files):
            raise ValueError("an image boots as it is: no efi, config or files with image")
        if firmware == "bios" and image is None:
            raise ValueError("firmware='bios' boots an image (make_iso()), not a folder")
        self.log_path = Path(log_path)
        self.qemu_log_path = self.log_path.with_suffix(".qemu.log")
        self.workdir = Path(workdir)
        self.efi = efi
        self.config = config
        self.files = dict(files or {})
        self.image = image
        self.smp = smp
        self.mem = mem
        self.serial = serial
        self.firmware = firmware
        self.extra_args = list(extra_args)

        self.proc = None
        self.returncode = None
        self._cursor = 0             # expect() continues after the previous match
        self._clean_upto = 0         # raw bytes up to here (whole lines) are cleaned in
        self._clean_done = ""        # ... this text
        self._sock = None
        self._sockdir = None
        self._reader = None
        self._buf = bytearray()
        self._buf_lock = threading.Lock()
        self._reader_done = threading.Event()
        self._qemu_out = None
        self._trace_path = self.workdir / "qemu-trace.log"

    # -- starting ------------------------------------------------------------------------------
    def command(self):
        cmd = [str(RUN_QEMU), "--firmware", self.firmware, "--smp", str(self.smp),
               "--mem", str(self.mem), "--workdir", str(self.workdir / "run"),
               "--qemu-log", str(self._trace_path)]
        if self.image is not None:
            cmd += ["--image", str(self.image)]
        else:
            if self.efi is not None:
                cmd += ["--efi", str(self.efi)]
            if self.config is not None:
                cfg = self.workdir / "bulkhead.cfg"
                cfg.write_text(self.config)
                cmd += ["--config", str(cfg)]
            for dest, src in self.files.items():
                cmd += ["--file", f"{src}:{dest}"]
        if self.serial == "file":
            cmd += ["--serial-file", str(self.log_path)]
        else:
            # sun_path holds 108 bytes: keep the socket in a short folder of its own.
            self._sockdir = tempfile.mkdtemp(prefix="bh-serial-")
            cmd += ["--serial-unix", os.path.join(self._sockdir, "com1")]
        if self.extra_args:
            cmd += ["--", *self.extra_args]
        return cmd

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        cmd = self.command()
        self._qemu_out = open(self.qemu_log_path, "wb")
        self._qemu_out.write(("$ " + " ".join(cmd) + "\n").encode())
        self._qemu_out.flush()
        self.started_at = time.monotonic()
        # A session of its own, so that a timeout ends the script and QEMU together.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._qemu_out,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=REPO)
        if self.serial == "socket":
            self._connect(scaled(30))
        return self

    def _connect(self, timeout):
        path = os.path.join(self._sockdir, "com1")
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._finish()
                raise HarnessError(f"QEMU ended (status {self.proc.returncode}) before its serial "
                                   f"socket accepted a connection:\n{self._qemu_output_tail()}")
            if os.path.exists(path):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(path)
                    break
                except OSError:
                    s.close()
            if time.monotonic() > deadline:
                self.kill()
                raise HarnessError(f"QEMU's serial socket {path} did not come up in {timeout:.0f} s")
            time.sleep(0.05)
        self._sock = s
        self._reader = threading.Thread(target=self._read_socket, name="serial-reader",
                                        daemon=True)
        self._reader.start()

    def _read_socket(self):
        copy_serial(self._sock, self.log_path, self._reader_done, self._keep)

    def _keep(self, data):
        with self._buf_lock:
            self._buf += data

    # -- output --------------------------------------------------------------------------------
    def raw_output(self):
        if self.serial == "socket":
            with self._buf_lock:
                return bytes(self._buf)
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    @property
    def output(self):
        """The serial output so far, cleaned (see clean_text). Cleaning never reaches across a
        line end, so the complete lines are cleaned once and kept (a flooding guest makes
        megabytes of console)."""
        raw = self.raw_output()
        done = raw.rfind(b"\n", self._clean_upto) + 1
        if done > self._clean_upto:
            self._clean_done += clean_text(raw[self._clean_upto:done])
            self._clean_upto = done
        return self._clean_done + clean_text(raw[self._clean_upto:])

    def log(self):
        return Log(self.output)

    def _qemu_output_tail(self):
        try:
            return tail(self.qemu_log_path.read_text(errors="replace"), 20)
        except FileNotFoundError:
            return ""

    def describe(self, lines=40):
        return (f"--- last {lines} lines of the serial log {self.log_path} ---\n"
                f"{tail(self.output, lines)}\n"
                f"--- QEMU's own output {self.qemu_log_path} ---\n{self._qemu_output_tail()}")

    # -- interaction ---------------------------------------------------------------------------
    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        """Waits until the serial output after the previous match matches `pattern` (a regex,
        searched in the cleaned text, re.MULTILINE). Returns the match. Raises HarnessError when
        QEMU ends first or the time runs out (then QEMU is killed)."""
        rx = re.compile(pattern, re.MULTILINE) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + scaled(timeout)
        while True:
            exited = self.proc.poll() is not None
            if exited:
                self._finish()
            text = self.output
            m = rx.search(text, self._cursor)
            if m:
                self._cursor = m.end()
                return m
            if exited:
                raise HarnessError(f"QEMU ended (status {self.proc.returncode}) before the serial "
                                   f"output matched {rx.pattern!r}\n{self.describe()}")
            if time.monotonic() > deadline:
                self.kill()
                raise HarnessError(f"no match for {rx.pattern!r} within {scaled(timeout):.0f} s; "
                                   f"QEMU killed\n{self.describe()}")
            time.sleep(0.05)

    def send(self, data):
        """Types `data` (str or bytes) on the serial console (serial="socket" only)."""
        if self._sock is None:
            raise HarnessError("send() needs Qemu(serial='socket')")
        self._sock.sendall(data.encode() if isinstance(data, str) else data)

    def sendline(self, line):
        self.send(line + "\r")

    def detach_serial(self):
        """Lets another client (tools/bulkhead-console) have the serial socket: closes the
        harness's connection (QEMU listens again; output meanwhile is not kept) and returns the
        socket's path. attach_serial() connects again."""
        if self._sock is None:
            raise HarnessError("detach_serial() needs Qemu(serial='socket'), attached")
        self._sock.shutdown(socket.SHUT_RDWR)
        self._reader_done.wait(timeout=5)
        self._sock.close()
        self._sock = None
        return os.path.join(self._sockdir, "com1")

    def attach_serial(self):
        self._reader_done.clear()
        self._connect(scaled(30))

    def shell(self, command, timeout=30):
        """Runs `command --json` at the console shell; returns the parsed one-line answer."""
        return shell_json(self, command, timeout)

    # -- ending --------------------------------------------------------------------------------
    def wait(self, timeout=BOOT_TIMEOUT):
        """Waits for QEMU to end by itself; returns its exit status. Kills it and raises
        HarnessError if it is still running after `timeout` seconds (counted from start())."""
        remaining = self.started_at + scaled(timeout) - time.monotonic()
        try:
            self.proc.wait(timeout=max(remaining, 0.1))
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError(f"QEMU still running {scaled(timeout):.0f} s after it started; "
                               f"killed\n{self.describe()}") from None
        self._finish()
        return self.returncode

    def kill(self):
        """Ends the run (SIGTERM to the script and QEMU, SIGKILL if that does not do)."""
        if self.proc is None:
            return
        terminate_group(self.proc)
        self._finish()

    def _finish(self):
        """After QEMU ended: drain the serial socket, gather the logs, remove temporary files."""
        if self.proc is not None and self.proc.poll() is not None and self.returncode is None:
            self.returncode = self.proc.returncode
        if self._reader is not None:
            self._reader_done.wait(timeout=5)
        if self._sock is not None and self._reader_done.is_set():
            self._sock.close()
            self._sock = None
        if self._sockdir is not None and self.returncode is not None:
            shutil.rmtree(self._sockdir, ignore_errors=True)
            self._sockdir = None
        if self._qemu_out is not None and self.returncode is not None:
            if self._trace_path.exists():
                self._qemu_out.write(b"--- QEMU trace (-D) ---\n")
                self._qemu_out.write(self._trace_path.read_bytes())
            self._qemu_out.close()
            self._qemu_out = None

    def check_powered_off(self, timeout=BOOT_TIMEOUT):
        """After the hypervisor said it powers off: QEMU ends by itself with status 0, on a
        guest power-off request (not a reset, triple fault or kill)."""
        status = self.wait(timeout)
        if status != 0:
            raise HarnessError(f"QEMU exited with status {status}, expected 0\n{self.describe()}")
        reasons = self.shutdown_reasons()
        if reasons != [SHUTDOWN_GUEST_SHUTDOWN]:
            raise HarnessError(f"QEMU shutdown requests {reasons}, expected one guest power-off "
                               f"[{SHUTDOWN_GUEST_SHUTDOWN}] (none: a reset, triple fault or "
                               f"kill)\n{self.describe()}")

    def shutdown_reasons(self):
        """QEMU's shutdown causes requested during the run (see SHUTDOWN_*). A power-off by the
        guest is [6]; a reset or triple fault (with -no-reboot) or a kill leaves it empty."""
        try:
            text = self._trace_path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return [int(m) for m in re.findall(r"qemu_system_shutdown_request reason=(\d+)", text)]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()


# ---------------------------------------------------------------------------------------------
# The hypervisor's log

# `[    0.123456] I: message`; searched, not anchored, in case firmware output shares the line.
LOG_LINE = re.compile(r"\[\s*(\d+\.\d{6})\] ([IWED]): (.*)$")

RX_START = re.compile(r"^Bulkhead (\S+) starting \(loader: (\w+)\)")
RX_ONLINE = re.compile(r"^bulkhead: (\d+)/(\d+) CPUs online$")
RX_NO_ANSWER = re.compile(r"^cpu: APIC ID (\S+) did not answer")
RX_SUM_CPUS = re.compile(r"^summary: cpus (\d+)/(\d+) online$")
RX_SUM_MEM = re.compile(r"^summary: memory hv-used (\d+) KiB, free (\d+) KiB, "
                        r"firmware-kept (\d+) KiB$")
RX_SUM_BOOT = re.compile(r"^summary: boot time (\d+\.\d{6}) s \(entry to ready\)$")
RX_READY = re.compile(r"^bulkhead: ready$")
RX_POWEROFF = re.compile(r"^bulkhead: powering off \(ACPI S5\)$")


class LogLine:
    def __init__(self, index, time_s, level, message):
        self.index = index          # position among the log lines
        self.time = time_s
        self.level = level
        self.message = message

    def __repr__(self):
        return f"[{self.time:14.6f}] {self.level}: {self.message}"


class Log:
    """Serial output (cleaned text) seen as hypervisor log lines."""

    def __init__(self, text):
        self.text = text
        self.lines = []
        for raw in text.splitlines():
            m = LOG_LINE.search(raw)
            if m:
                self.lines.append(LogLine(len(self.lines), float(m.group(1)), m.group(2),
                                          m.group(3).rstrip()))

    def find(self, rx):
        """First log line whose message matches rx: (LogLine, match), or (None, None)."""
        for line in self.lines:
            m = rx.search(line.message)
            if m:
                return line, m
        return None, None

    def find_all(self, rx):
        return [(line, m) for line in self.lines for m in [rx.search(line.message)] if m]

    def require(self, rx, what):
        line, m = self.find(rx)
        if line is None:
            raise HarnessError(f"the log has no {what} line (/{rx.pattern}/)\n"
                               f"--- end of the serial output ---\n{tail(self.text)}")
        return line, m

    def problems(self):
        """Lines no boot may show: hypervisor exceptions (FAULT...) and error-level messages."""
        bad = []
        for raw in self.text.splitlines():
            if "FAULT" in raw or re.search(r"\] E: ", raw):
                bad.append(raw)
        return bad

    def check_clean(self):
        bad = self.problems()
        if bad:
            raise HarnessError("the log shows faults or errors:\n  " + "\n  ".join(bad[:20]) +
                               f"\n--- end of the serial output ---\n{tail(self.text)}")

    def check_order(self, *rxs):
        """The first lines matching each regex appear in this order."""
        last = None
        for rx in rxs:
            line, _ = self.require(rx, rx.pattern)
            if last is not None and line.index < last[0].index:
                raise HarnessError(f"log line {line!r} comes before {last[0]!r}, "
                                   f"expected after it\n{tail(self.text)}")
            last = (line, rx)

    def summary(self):
        """The boot summary as a dict; raises if a summary line is missing."""
        _, cpus = self.require(RX_SUM_CPUS, "'summary: cpus'")
        _, mem = self.require(RX_SUM_MEM, "'summary: memory'")
        _, boot = self.require(RX_SUM_BOOT, "'summary: boot time'")
        return {
            "cpus_online": int(cpus.group(1)), "cpus_enabled": int(cpus.group(2)),
            "hv_used_kib": int(mem.group(1)), "free_kib": int(mem.group(2)),
            "firmware_kept_kib": int(mem.group(3)), "boot_time_s": float(boot.group(1)),
        }


# ---------------------------------------------------------------------------------------------
# Disk images (tools/mkimage.sh)

ESP_TYPE_GUID = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
SECTOR = 512


class Gpt:
    """Reads and checks the GPT of a disk image (512-byte sectors); raises HarnessError."""

    def __init__(self, path):
        data = Path(path).read_bytes()
        self.size = len(data)
        if self.size % SECTOR:
            raise HarnessError(f"{path}: size {self.size} is not a multiple of {SECTOR}")
        self.last_lba = self.size // SECTOR - 1
        mbr = data[:SECTOR]
        if mbr[510:512] != b"\x55\xaa":
            raise HarnessError(f"{path}: no MBR boot signature")
        self.mbr_types = [mbr[446 + 16 * i + 4] for i in range(4)]
        if self.mbr_types[0] != 0xEE:
            raise HarnessError(f"{path}: MBR partition 1 has type {self.mbr_types[0]:#x}, "
                               "expected the protective 0xee")
        self.header = self._header(data, 1, path)
        backup = self._header(data, self.last_lba, path)
        if (self.header["my_lba"], self.header["alt_lba"]) != (1, self.last_lba):
            raise HarnessError(f"{path}: primary GPT header LBAs {self.header['my_lba']}/"
                               f"{self.header['alt_lba']}, expected 1/{self.last_lba}")
        if (backup["my_lba"], backup["alt_lba"]) != (self.last_lba, 1):
            raise HarnessError(f"{path}: backup GPT header misplaced")
        self.partitions = self._entries(data, self.header, path)
        backup_parts = self._entries(data, backup, path)
        if backup_parts != self.partitions:
            raise HarnessError(f"{path}: the backup partition table differs from the primary")

    @staticmethod
    def _header(data, lba, path):
        raw = data[lba * SECTOR:(lba + 1) * SECTOR]
        if raw[:8] != b"EFI PART":
            raise HarnessError(f"{path}: no GPT header at LBA {lba}")
        size = struct.unpack_from("<I", raw, 12)[0]
        crc = struct.unpack_from("<I", raw, 16)[0]
        if not 92 <= size <= SECTOR:
            raise HarnessError(f"{path}: GPT header at LBA {lba} has a bad size {size}")
        check = bytearray(raw[:size])
        check[16:20] = b"\0\0\0\0"
        if zlib.crc32(check) != crc:
            raise HarnessError(f"{path}: GPT header at LBA {lba} fails its CRC")
        my_lba, alt_lba, first, last = struct.unpack_from("<QQQQ", raw, 24)
        entries_lba, count, entry_size, entries_crc = struct.unpack_from("<QIII", raw, 72)
        return {"my_lba": my_lba, "alt_lba": alt_lba, "first_usable": first,
                "last_usable": last, "entries_lba": entries_lba, "count": count,
                "entry_size": entry_size, "entries_crc": entries_crc}

    @staticmethod
    def _entries(data, h, path):
        start = h["entries_lba"] * SECTOR
        table = data[start:start + h["count"] * h["entry_size"]]
        if zlib.crc32(table) != h["entries_crc"]:
            raise HarnessError(f"{path}: GPT partition entries at LBA {h['entries_lba']} "
                               "fail their CRC")
        parts = []
        for i in range(h["count"]):
            e = table[i * h["entry_size"]:(i + 1) * h["entry_size"]]
            type_guid = uuid.UUID(bytes_le=e[:16])
            if type_guid.int == 0:
                continue
            first, last = struct.unpack_from("<QQ", e, 32)
            name = e[56:128].decode("utf-16-le").rstrip("\0")
            parts.append({"number": i + 1, "type": type_guid, "first_lba": first,
                          "last_lba": last, "name": name})
        return parts


def fat_boot_sector(path, offset):
    """The fields of a FAT boot sector at byte `offset` of an image that the tests check."""
    with open(path, "rb") as f:
        f.seek(offset)
        bs = f.read(SECTOR)
    bytes_per_sector, sectors_per_cluster, reserved, fats, root_entries, total16 = \
        struct.unpack_from("<HBHBHH", bs, 11)
    fat16_size = struct.unpack_from("<H", bs, 22)[0]
    hidden, total32 = struct.unpack_from("<II", bs, 28)
    fat32_size = struct.unpack_from("<I", bs, 36)[0]
    fat_size = fat16_size or fat32_size
    total = total16 or total32
    root_sectors = (root_entries * 32 + bytes_per_sector - 1) // bytes_per_sector \
        if bytes_per_sector else 0
    data_sectors = total - reserved - fats * fat_size - root_sectors
    clusters = data_sectors // sectors_per_cluster if sectors_per_cluster else 0
    return {
        "signature": bs[510:512], "bytes_per_sector": bytes_per_sector,
        "hidden_sectors": hidden, "total_sectors": total, "clusters": clusters,
        # The FAT type follows from the cluster count alone (Microsoft's FAT specification).
        "fat_type": "FAT12" if clusters < 4085 else "FAT16" if clusters < 65525 else "FAT32",
        "fs_type_label": (bs[82:90] if fat16_size == 0 else bs[54:62]).decode("ascii", "replace"),
    }


def mtools_read(image, offset, path):
    """Contents of `path` in the FAT file system at byte `offset` of `image` (mtools)."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    r = subprocess.run(["mcopy", "-n", "-i", f"{image}@@{offset}", f"::{path}", "-"],
                       capture_output=True, env=env)
    if r.returncode != 0:
        raise HarnessError(f"mcopy could not read {path} from {image}: "
                           f"{r.stderr.decode(errors='replace')}")
    return r.stdout


def mtools_write(image, offset, path, data):
    """Replaces (or creates) `path` in the FAT file system at byte `offset` of `image`."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    with tempfile.NamedTemporaryFile() as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        r = subprocess.run(["mcopy", "-o", "-i", f"{image}@@{offset}", f.name, f"::{path}"],
                           capture_output=True, env=env)
    if r.returncode != 0:
        raise HarnessError(f"mcopy could not write {path} into {image}: "
                           f"{r.stderr.decode(errors='replace')}")


# ---------------------------------------------------------------------------------------------
# The hybrid image (tools/mkiso.sh)

ISO_BLOCK = 2048


def make_iso(out, config, files=None, efi=None, elf=None):
    """Builds a hybrid BIOS+UEFI image at `out` with tools/mkiso.sh: configuration text `config`,
    further files {path in the ESP: source} (GRUB loads each as a module named by its path), and
    the build's bulkhead.efi and bulkhead.elf unless given. Returns `out`."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg = out.with_suffix(".cfg")
    cfg.write_text(config)
    efi = efi or BUILD / "bulkhead.efi"
    elf = elf or BUILD / "bulkhead.elf"
    cmd = [str(MKISO), str(out), str(efi), str(elf), str(cfg)]
    cmd += [f"{src}:{dest}" for dest, src in (files or {}).items()]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ, GRUB_TIMEOUT="0"))
    if r.returncode != 0:
        raise HarnessError(f"mkiso.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return out


class IsoImage:
    """Reads what the tests check of a tools/mkiso.sh image: the MBR, the GPT's ESP, the ISO 9660
    volume and its El Torito boot catalog. Raises HarnessError when a piece is missing."""

    def __init__(self, path):
        self.path = Path(path)
        data = self.path.read_bytes()
        self.size = len(data)
        if data[510:512] != b"\x55\xaa":
            raise HarnessError(f"{path}: no MBR boot signature")
        pvd = data[16 * ISO_BLOCK:17 * ISO_BLOCK]
        if pvd[0] != 1 or pvd[1:6] != b"CD001":
            raise HarnessError(f"{path}: no ISO 9660 primary volume descriptor at block 16")
        self.volume_id = pvd[40:72].decode("ascii", "replace").strip()
        brvd = data[17 * ISO_BLOCK:18 * ISO_BLOCK]
        if brvd[0] != 0 or brvd[1:6] != b"CD001" or \
                not brvd[7:30].startswith(b"EL TORITO SPECIFICATION"):
            raise HarnessError(f"{path}: no El Torito boot record at block 17")
        catalog = struct.unpack_from("<I", brvd, 0x47)[0] * ISO_BLOCK
        self.boot_entries = self._catalog(data[catalog:catalog + ISO_BLOCK], path)
        self.gpt = Gpt(path)
        esps = [p for p in self.gpt.partitions if p["type"] == ESP_TYPE_GUID]
        if len(esps) != 1:
            raise HarnessError(f"{path}: {len(esps)} EFI system partitions, expected 1")
        self.esp = esps[0]
        self.esp_offset = self.esp["first_lba"] * SECTOR

    @staticmethod
    def _catalog(cat, path):
        """[(platform, bootable, load_lba)] of the El Torito catalog: 0 = BIOS, 0xef = UEFI."""
        if cat[0] != 1 or cat[30:32] != b"\x55\xaa":
            raise HarnessError(f"{path}: bad El Torito validation entry")
        entries = [(cat[1], cat[32] == 0x88, struct.unpack_from("<I", cat, 32 + 8)[0])]
        off = 64
        while off + 64 <= len(cat) and cat[off] in (0x90, 0x91):
            platform, count = cat[off + 1], struct.unpack_from("<H", cat, off + 2)[0]
            for i in range(count):
                e = cat[off + 32 * (i + 1):off + 32 * (i + 2)]
                entries.append((platform, e[0] == 0x88, struct.unpack_from("<I", e, 8)[0]))
            if cat[off] == 0x91:
                break
            off += 32 * (count + 1)
        return entries

    def read(self, name):
        """A file of the ESP (e.g. "/bulkhead.cfg")."""
        return mtools_read(self.path, self.esp_offset, name)

    def write(self, name, data):
        """Replaces a file of the ESP, as a user edits it on the stick."""
        mtools_write(self.path, self.esp_offset, name, data)


# ---------------------------------------------------------------------------------------------
# Checks shared by the tests

def check_ready(log, cpus, mem_kib=None, loader="uefi"):
    """A boot that reached `bulkhead: ready` with every one of `cpus` CPUs online and printed a
    sane summary, with no fault or error on the way, started by `loader` (uefi, multiboot2).
    Returns the summary."""
    log.check_clean()
    check_loader(log, loader)
    silent = log.find_all(RX_NO_ANSWER)
    if silent:
        raise HarnessError("CPUs did not answer:\n  " + "\n  ".join(repr(l) for l, _ in silent))
    _, online = log.require(RX_ONLINE, "'bulkhead: N/M CPUs online'")
    if (int(online.group(1)), int(online.group(2))) != (cpus, cpus):
        raise HarnessError(f"'{online.group(0)}', expected {cpus}/{cpus}")
    log.check_order(RX_START, RX_ONLINE, RX_SUM_CPUS, RX_SUM_MEM, RX_SUM_BOOT, RX_READY)
    s = log.summary()
    if (s["cpus_online"], s["cpus_enabled"]) != (cpus, cpus):
        raise HarnessError(f"summary says {s['cpus_online']}/{s['cpus_enabled']} CPUs, "
                           f"expected {cpus}/{cpus}")
    if s["hv_used_kib"] <= 0 or s["free_kib"] <= 0:
        raise HarnessError(f"implausible memory summary: {s}")
    if mem_kib is not None:
        if s["hv_used_kib"] + s["free_kib"] > mem_kib:
            raise HarnessError(f"memory summary {s} adds up to more than the {mem_kib} KiB of RAM")
        if s["free_kib"] < mem_kib // 2:
            raise HarnessError(f"less than half of the {mem_kib} KiB of RAM free: {s}")
        if s["firmware_kept_kib"] >= mem_kib:
            raise HarnessError(f"firmware keeps more than all RAM: {s}")
    if s["boot_time_s"] <= 0:
        raise HarnessError(f"boot time {s['boot_time_s']} s is not positive")
    return s


def check_loader(log, loader):
    """The hypervisor says which boot path started it: `uefi` or `multiboot2`."""
    start, m = log.require(RX_START, "'Bulkhead <version> starting'")
    if m.group(2) != loader:
        raise HarnessError(f"started by loader {m.group(2)!r}, expected {loader}: {start!r}")
    return start


def check_poweroff(q, timeout=BOOT_TIMEOUT):
    """The run ends by itself with an ACPI power-off after `bulkhead: ready`: the log says
    so, QEMU saw a guest shutdown request (not a reset or triple fault), and exits 0."""
    q.check_powered_off(timeout)
    log = q.log()
    log.check_clean()
    log.check_order(RX_READY, RX_POWEROFF)
    return log
