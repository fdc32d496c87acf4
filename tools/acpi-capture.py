#!/usr/bin/python3
"""Capture real ACPI tables for the unit tests in tests/data/acpi/.

acpidump.efi (tools/acpidump-efi/) prints every ACPI table as a console line
    ACPIDUMP <SIG> <hex phys addr> <decimal length> <hex bytes...>
This script turns such a log into tests/data/acpi/<machine>/<SIG>@<hexaddr>.bin files, one per
table, named so the test can load each one back at its original physical address.

    tools/acpi-capture.py split LOG OUTDIR      split an existing log
    tools/acpi-capture.py run MACHINE [OUTDIR]  boot MACHINE, capture its tables, split them

MACHINE is one of
    qemu-q35, qemu-pc  QEMU with OVMF, booting acpidump.efi (built here)
    bochs              Bochs with its own BIOS: the tables are read from a RAM image that the
                       Bochs debugger saves when the BIOS jumps to the boot sector
    bochs-ovmf         Bochs with OVMF, booting acpidump.efi. OVMF 2022.11 installs ACPI tables
                       only from QEMU's fw_cfg, which Bochs lacks, so this finds no RSDP.

`run` replaces the .bin files in OUTDIR (default tests/data/acpi/MACHINE) and keeps the raw
console log as build/acpidump/MACHINE.log.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, "build", "acpidump")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
OVMF_COMBINED = "/usr/share/ovmf/OVMF.fd"  # the 2 MiB image Bochs maps as its ROM

QEMU_MACHINES = {
    "qemu-q35": ["-M", "q35", "-cpu", "max", "-smp", "4", "-m", "2G"],
    "qemu-pc": ["-M", "pc", "-cpu", "max", "-smp", "2", "-m", "1G"],
}

# Terminal escape sequences that OVMF's serial console mixes into the output.
ESCAPE = re.compile(r"\x1b\[[0-9;=?]*[A-Za-z]")
HEADER = re.compile(r"ACPIDUMP ([!-~]{4}) ([0-9a-fA-F]+) ([0-9]+) ?([0-9a-fA-F]*)$")


class CaptureError(Exception):
    pass


def parse_log(text):
    """Returns [(signature, address, bytes)] for every table line in a console log.

    A line that the console wrapped is continued by the hex-only lines after it, until the
    announced length is reached."""
    lines = [ESCAPE.sub("", l).strip() for l in text.replace("\r", "\n").split("\n")]
    tables = []
    i = 0
    while i < len(lines):
        m = HEADER.search(lines[i])
        i += 1
        if not m:
            continue
        sig, addr, length, hexdata = m.group(1), int(m.group(2), 16), int(m.group(3)), m.group(4)
        while len(hexdata) < 2 * length and i < len(lines) and re.fullmatch(r"[0-9a-fA-F]+", lines[i]):
            hexdata += lines[i]
            i += 1
        if len(hexdata) != 2 * length:
            raise CaptureError("%s@%x: %d hex digits for %d bytes" % (sig, addr, len(hexdata), length))
        tables.append((sig, addr, bytes.fromhex(hexdata)))
    if not tables:
        errors = [l for l in lines if l.startswith("ACPIDUMP-ERROR")]
        raise CaptureError(errors[0] if errors else "no ACPIDUMP lines in the log")
    if "ACPIDUMP-END" not in text:
        raise CaptureError("the log has no ACPIDUMP-END line: the dump was cut short")
    return tables


def file_name(sig, addr):
    # '/' or '\\' would break the path; any other printable character is kept.
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in sig)
    return "%s@%x.bin" % (safe, addr)


def write_tables(tables, outdir):
    os.makedirs(outdir, exist_ok=True)
    for old in os.listdir(outdir):
        if old.endswith(".bin"):
            os.remove(os.path.join(outdir, old))
    for sig, addr, data in tables:
        with open(os.path.join(outdir, file_name(sig, addr)), "wb") as f:
            f.write(data)
        print("%-4s @ %#10x %6d bytes" % (sig, addr, len(data)))


def build_dumper():
    subprocess.run(["make", "-s", "-C", os.path.join(TOP, "tools", "acpidump-efi")], check=True)
    return os.path.join(BUILD, "acpidump.efi")


def run_qemu(machine, efi, workdir, log):
    esp = os.path.join(workdir, "esp", "EFI", "BOOT")
    os.makedirs(esp)
    shutil.copy(efi, os.path.join(esp, "BOOTX64.EFI"))
    vars_copy = os.path.join(workdir, "vars.fd")
    shutil.copy(OVMF_VARS, vars_copy)
    cmd = ["qemu-system-x86_64"] + QEMU_MACHINES[machine] + [
        "-display", "none", "-net", "none", "-serial", "file:" + log,
        "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
        "-drive", "if=pflash,format=raw,unit=1,file=" + vars_copy,
        "-drive", "format=raw,file=fat:rw:" + os.path.join(workdir, "esp"),
    ]
    subprocess.run(cmd, check=True, timeout=300, stdin=subprocess.DEVNULL)


BOCHS_COMMON = """\
cpu: model=ryzen, count=2, ips=50000000, reset_on_triple_fault=0
pci: enabled=1, chipset=i440fx
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: rfb, options="timeout=0"
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: {bochslog}
"""

# Bochs BIOS: boots a floppy whose boot sector only spins (jmp $); the debugger stops at 0x7c00,
# when POST has built the ACPI tables, and saves the RAM.
BOCHS_BIOS_RC = """\
megs: {megs}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
floppya: 1_44={floppy}, status=inserted
boot: floppy
"""
BOCHS_BIOS_MEGS = 32

# OVMF: boots acpidump.efi from a FAT disk, output on COM1.
BOCHS_OVMF_RC = """\
megs: 512
romimage: file={rom}, address=0xffe00000
ata0-master: type=disk, path={disk}, mode=flat
boot: disk
com1: enabled=1, mode=file, dev={log}
"""


def run_bochs(rc_text, workdir, debugger_commands):
    rc = os.path.join(workdir, "bochsrc")
    with open(rc, "w") as f:
        f.write(rc_text + BOCHS_COMMON.format(bochslog=os.path.join(workdir, "bochs.log")))
    cmds = os.path.join(workdir, "debugger-commands")
    with open(cmds, "w") as f:
        f.write(debugger_commands)
    # Bochs exits with status 1 on every guest-initiated power-off, so its status says nothing;
    # the caller checks what was captured.
    try:
        subprocess.run(["bochs", "-q", "-f", rc, "-rc", cmds], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    except subprocess.TimeoutExpired:
        pass


def make_fat_disk(efi, path):
    """A whole-disk FAT image (no partition table; UEFI reads such a "superfloppy") holding
    EFI/BOOT/BOOTX64.EFI."""
    cylinders, heads, sectors = 64, 16, 63
    with open(path, "wb") as f:
        f.truncate(cylinders * heads * sectors * 512)
    subprocess.run(["mformat", "-i", path, "-h", str(heads), "-s", str(sectors),
                    "-t", str(cylinders), "::"], check=True)
    subprocess.run(["mmd", "-i", path, "::/EFI", "::/EFI/BOOT"], check=True)
    subprocess.run(["mcopy", "-i", path, efi, "::/EFI/BOOT/BOOTX64.EFI"], check=True)


def run_bochs_ovmf(efi, workdir, log):
    disk = os.path.join(workdir, "disk.img")
    make_fat_disk(efi, disk)
    run_bochs(BOCHS_OVMF_RC.format(rom=OVMF_COMBINED, disk=disk, log=log), workdir, "c\n")


def u32(mem, off):
    return int.from_bytes(mem[off:off + 4], "little")


def u64(mem, off):
    return int.from_bytes(mem[off:off + 8], "little")


def find_rsdp(mem):
    """The RSDP search of a BIOS machine: the first KiB of the EBDA, then 0xe0000-0xfffff, on
    16-byte boundaries, with a valid 20-byte checksum."""
    ebda = (mem[0x40e] | mem[0x40f] << 8) << 4
    for start, end in ((ebda, ebda + 1024), (0xe0000, 0x100000)):
        for off in range(start, min(end, len(mem)) - 20, 16):
            if mem[off:off + 8] == b"RSD PTR " and sum(mem[off:off + 20]) & 0xff == 0:
                return off
    raise CaptureError("no RSDP in the BIOS areas of the memory image")


def walk_memory(mem):
    """[(signature, address, bytes)] of every table reachable from the RSDP, in the order and
    with the de-duplication acpidump.efi uses."""
    tables, seen = [], set()

    def table(addr):
        if addr == 0 or addr in seen or addr + 8 > len(mem):
            return None
        seen.add(addr)
        length = u32(mem, addr + 4)
        if length < 8 or addr + length > len(mem):
            raise CaptureError("table at %#x (length %d) is outside the memory image" % (addr, length))
        tables.append((mem[addr:addr + 4].decode("latin-1"), addr, mem[addr:addr + length]))
        return length

    def root(addr, entry_size):
        table(addr)
        if addr == 0:
            return
        length = u32(mem, addr + 4)
        for off in range(addr + 36, addr + length - entry_size + 1, entry_size):
            entry = u64(mem, off) if entry_size == 8 else u32(mem, off)
            table(entry)
            if entry and mem[entry:entry + 4] == b"FACP":
                flen = u32(mem, entry + 4)
                for field, size in ((36, 4), (40, 4), (132, 8), (140, 8)):
                    if flen >= field + size:
                        table(u64(mem, entry + field) if size == 8 else u32(mem, entry + field))

    rsdp = find_rsdp(mem)
    revision = mem[rsdp + 15]
    tables.append(("RSDP", rsdp, mem[rsdp:rsdp + (u32(mem, rsdp + 20) if revision >= 2 else 20)]))
    if revision >= 2:
        root(u64(mem, rsdp + 24), 8)
    root(u32(mem, rsdp + 16), 4)
    return tables


def format_log(tables):
    """The same lines acpidump.efi prints, so both capture paths share parse_log()."""
    lines = ["ACPIDUMP-BEGIN"]
    for sig, addr, data in tables:
        name = "".join(c if "!" <= c <= "~" else "_" for c in sig)
        lines.append("ACPIDUMP %s %x %d %s" % (name, addr, len(data), data.hex()))
    lines.append("ACPIDUMP-END")
    return "\r\n".join(lines) + "\r\n"


def run_bochs_bios(workdir):
    floppy = os.path.join(workdir, "floppy.img")
    sector = bytearray(1474560)
    sector[0:2] = b"\xeb\xfe"          # jmp $
    sector[510:512] = b"\x55\xaa"
    with open(floppy, "wb") as f:
        f.write(sector)
    ram = os.path.join(workdir, "ram.bin")
    commands = 'pb 0x7c00\nc\nwritemem "%s" 0 %#x\nquit\n' % (ram, BOCHS_BIOS_MEGS << 20)
    run_bochs(BOCHS_BIOS_RC.format(megs=BOCHS_BIOS_MEGS, floppy=floppy), workdir, commands)
    if not os.path.exists(ram):
        raise CaptureError("Bochs did not reach the boot sector (see its log)")
    with open(ram, "rb") as f:
        return format_log(walk_memory(f.read()))


def run(machine, outdir):
    with tempfile.TemporaryDirectory(prefix="acpi-capture-") as workdir:
        log = os.path.join(workdir, "serial.log")
        if machine == "bochs":
            text = run_bochs_bios(workdir)
        else:
            efi = build_dumper()
            if machine == "bochs-ovmf":
                run_bochs_ovmf(efi, workdir, log)
            else:
                run_qemu(machine, efi, workdir, log)
            with open(log, "rb") as f:
                text = f.read().decode("latin-1")
    # The raw log stays in the build tree for inspection; only the tables are test data.
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, machine + ".log"), "w", encoding="latin-1") as f:
        f.write(text)
    write_tables(parse_log(text), outdir)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("split", help="split an existing console log into .bin files")
    sp.add_argument("log")
    sp.add_argument("outdir")
    rp = sub.add_parser("run", help="boot acpidump.efi in an emulator and capture its tables")
    rp.add_argument("machine", choices=sorted(QEMU_MACHINES) + ["bochs", "bochs-ovmf"])
    rp.add_argument("outdir", nargs="?")
    args = ap.parse_args()
    try:
        if args.command == "split":
            with open(args.log, "rb") as f:
                write_tables(parse_log(f.read().decode("latin-1")), args.outdir)
        else:
            run(args.machine, args.outdir or os.path.join(TOP, "tests", "data", "acpi", args.machine))
    except (CaptureError, subprocess.SubprocessError, OSError) as e:
        print("acpi-capture: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
