"""One image for every PC (tools/mkiso.sh, `make image`): a hybrid ISO that boots GRUB and the
multiboot2 kernel on BIOS machines and the EFI application on UEFI machines, as a USB stick.
Under QEMU: SeaBIOS for the GRUB path, OVMF for the UEFI path; and the partition scenarios of
test_partitions.py (AMD-V) through GRUB."""

import re
import shutil
import subprocess

import pytest

import harness
from scenarios import SCENARIOS

MEM = "2G"
MEM_KIB = 2 * 1024 * 1024
BIOS, UEFI = 0x00, 0xEF          # El Torito platform IDs


def test_image_layout(bulkhead_iso, bulkhead_efi, bulkhead_elf):
    """`make image`: El Torito boot entries for BIOS (GRUB) and UEFI, a protective MBR with
    GRUB's hybrid boot code, a GPT whose ESP holds Bulkhead's files and GRUB's menu."""
    iso = harness.IsoImage(bulkhead_iso)
    assert iso.volume_id == "BULKHEAD"
    platforms = [(platform, bootable) for platform, bootable, _ in iso.boot_entries]
    assert platforms == [(BIOS, True), (UEFI, True)], iso.boot_entries
    assert iso.esp["first_lba"] * harness.SECTOR < iso.size
    fat = harness.fat_boot_sector(iso.path, iso.esp_offset)
    assert fat["fat_type"] == "FAT32" and fat["signature"] == b"\x55\xaa", fat
    assert fat["total_sectors"] == iso.esp["last_lba"] - iso.esp["first_lba"] + 1, fat
    assert iso.read("/EFI/BOOT/BOOTX64.EFI") == bulkhead_efi.read_bytes()
    assert iso.read("/bulkhead.elf") == bulkhead_elf.read_bytes()
    assert iso.read("/bulkhead.cfg") == (harness.REPO / "guests" / "bulkhead.cfg").read_bytes()
    menu = iso.read("/boot/grub/grub.cfg").decode()
    assert "multiboot2 /bulkhead.elf" in menu
    assert "module2 /bulkhead.cfg bulkhead.cfg" in menu
    # The El Torito UEFI image is the ESP itself: one copy of the files for both firmwares.
    uefi_lba = [lba for platform, _, lba in iso.boot_entries if platform == UEFI][0]
    assert uefi_lba * harness.ISO_BLOCK == iso.esp_offset


def test_mkiso_modules_follow_the_files(tmp_path, bulkhead_efi, bulkhead_elf):
    """Every further file becomes a GRUB module named by its path in the ESP."""
    kernel = tmp_path / "k.elf"
    kernel.write_bytes(b"\x7fELF" + bytes(100))
    iso = harness.IsoImage(harness.make_iso(tmp_path / "x.iso", "console = com1\n",
                                            {"guests/k.elf": kernel, "initrd.img": kernel}))
    menu = iso.read("/boot/grub/grub.cfg").decode()
    assert "module2 /guests/k.elf guests/k.elf" in menu
    assert "module2 /initrd.img initrd.img" in menu
    assert iso.read("/guests/k.elf") == kernel.read_bytes()


@pytest.mark.parametrize("case", ["no-args", "not-elf", "missing-cfg", "bad-dest",
                                  "duplicate-dest", "grub-cfg-dest"])
def test_mkiso_rejects(tmp_path, bulkhead_efi, bulkhead_elf, case):
    cfg = tmp_path / "a.cfg"
    cfg.write_text("console = com1\n")
    out = tmp_path / "out.iso"
    args = {
        "no-args": [],
        "not-elf": [out, bulkhead_efi, bulkhead_efi, cfg],
        "missing-cfg": [out, bulkhead_efi, bulkhead_elf, tmp_path / "nothing.cfg"],
        "bad-dest": [out, bulkhead_efi, bulkhead_elf, cfg, f"{cfg}:../escape"],
        "duplicate-dest": [out, bulkhead_efi, bulkhead_elf, cfg, f"{cfg}:BULKHEAD.CFG"],
        "grub-cfg-dest": [out, bulkhead_efi, bulkhead_elf, cfg, f"{cfg}:boot/grub/grub.cfg"],
    }[case]
    r = subprocess.run([str(harness.MKISO), *map(str, args)], capture_output=True, text=True,
                       cwd=harness.REPO)
    assert r.returncode != 0
    assert r.stderr.strip(), "failed without saying why"
    assert not out.exists(), "left an output file behind"
    assert not list(tmp_path.glob("out.iso.tmp*")), "left a temporary file behind"


def stick(bulkhead_iso, tmp_path):
    """A copy of `make image` whose configuration was edited the way docs/boot-media.md shows
    (mtools on the ESP, no mounting): the test configuration, powering off when ready."""
    copy = tmp_path / "stick.iso"
    shutil.copyfile(bulkhead_iso, copy)
    harness.IsoImage(copy).write("/bulkhead.cfg", harness.boot_config())
    return copy


@pytest.mark.qemu
def test_usb_stick_bios_multiboot2(qemu, bulkhead_iso, tmp_path):
    """SeaBIOS boots the stick: GRUB, bulkhead.elf through multiboot2, all CPUs, power-off."""
    q = qemu(image=stick(bulkhead_iso, tmp_path), firmware="bios", smp=4, mem=MEM,
             serial="file")
    q.expect(r"bulkhead: multiboot2 loader")
    q.expect(r"\] I: Bulkhead \S+ starting \(loader: multiboot2\)")
    log = harness.check_poweroff(q)
    harness.check_ready(log, 4, MEM_KIB, loader="multiboot2")
    # The configuration came as a module, and ACPI from the firmware's own RSDP.
    assert re.search(r"\] I: boot: file 'bulkhead\.cfg' at 0x[0-9a-f]+000, \d+ bytes", log.text)
    assert re.search(r"\] I: acpi: RSDP rev \d at 0xf[0-9a-f]{4}, ", log.text)


@pytest.mark.qemu
def test_usb_stick_uefi(qemu, bulkhead_iso, tmp_path):
    """OVMF boots the same stick: the EFI application, straight from the ESP."""
    q = qemu(image=stick(bulkhead_iso, tmp_path), firmware="uefi", smp=2, mem=MEM,
             serial="file")
    q.expect(r"BdsDxe: starting Boot\w+ \".*USB.*\"")
    q.expect(r"\] I: Bulkhead \S+ starting \(loader: uefi\)")
    log = harness.check_poweroff(q)
    harness.check_ready(log, 2, MEM_KIB, loader="uefi")


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["three", "bad", "crasher"])
def test_partitions_through_grub(qemu, tmp_path, bulkhead_efi, bulkhead_elf, name):
    """The partition scenarios of test_partitions.py, booted by SeaBIOS and GRUB from a stick
    holding the configuration and the guests as modules."""
    s = SCENARIOS[name]
    iso = harness.make_iso(tmp_path / f"{name}.iso", s.config(), s.files())
    q = qemu(image=iso, firmware="bios", smp=s.smp, mem=MEM, serial="socket")
    q.expect(r"\] I: Bulkhead \S+ starting \(loader: multiboot2\)")
    s.check(q)
    if name == "bad":
        # The multiboot2 loader names the file no module provides.
        assert re.search(r"bulkhead: no module is named 'guests/missing\.elf'", q.output)
