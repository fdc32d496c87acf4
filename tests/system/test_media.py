"""Boot media and the QEMU runner, without booting: tools/mkimage.sh and tools/run-qemu.sh."""

import shlex
import subprocess

import pytest

import harness

MIB = 1024 * 1024


def run(cmd, **kwargs):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          cwd=harness.REPO, **kwargs)


def check_esp_image(path, files):
    """GPT with one EFI system partition at 1 MiB, FAT32, holding `files` ({path: bytes})."""
    gpt = harness.Gpt(path)
    assert len(gpt.partitions) == 1, gpt.partitions
    esp = gpt.partitions[0]
    assert esp["type"] == harness.ESP_TYPE_GUID, f"partition type {esp['type']}, not ESP"
    assert esp["first_lba"] == 2048, "the ESP does not start at 1 MiB"
    assert esp["last_lba"] <= gpt.header["last_usable"]
    size = (esp["last_lba"] - esp["first_lba"] + 1) * harness.SECTOR
    assert size >= 64 * MIB

    offset = esp["first_lba"] * harness.SECTOR
    bs = harness.fat_boot_sector(path, offset)
    assert bs["signature"] == b"\x55\xaa"
    assert bs["bytes_per_sector"] == 512
    assert bs["fat_type"] == "FAT32", bs
    assert bs["total_sectors"] == size // harness.SECTOR, bs
    assert bs["hidden_sectors"] == esp["first_lba"], bs
    for name, data in files.items():
        assert harness.mtools_read(path, offset, name) == data, f"{name} differs"
    return gpt


def test_image_layout(bulkhead_img, bulkhead_efi):
    """`make image`: \\EFI\\BOOT\\BOOTX64.EFI is build/bulkhead.efi, \\bulkhead.cfg the example."""
    check_esp_image(bulkhead_img, {
        "/EFI/BOOT/BOOTX64.EFI": bulkhead_efi.read_bytes(),
        "/bulkhead.cfg": (harness.REPO / "guests" / "bulkhead.cfg").read_bytes(),
    })


@pytest.fixture
def fake_efi(tmp_path):
    """A file that passes mkimage.sh's PE check; enough for tests that boot nothing."""
    p = tmp_path / "fake.efi"
    p.write_bytes(b"MZ" + bytes(4094))
    return p


def test_mkimage_extra_files(tmp_path, fake_efi):
    """Further files (guest images) land where asked; the partition grows to hold them."""
    cfg = tmp_path / "a.cfg"
    cfg.write_text("console = com1\n")
    big = tmp_path / "kernel.bin"
    big.write_bytes(bytes(range(256)) * (300 * 1024))      # 75 MiB: more than 64 MiB
    small = tmp_path / "initrd.img"
    small.write_bytes(b"initrd")
    out = tmp_path / "out.img"
    r = run([harness.MKIMAGE, out, fake_efi, cfg, f"{big}:guests/linux/bzImage", small])
    assert r.returncode == 0, r.stderr
    gpt = check_esp_image(out, {
        "/EFI/BOOT/BOOTX64.EFI": fake_efi.read_bytes(),
        "/bulkhead.cfg": cfg.read_bytes(),
        "/guests/linux/bzImage": big.read_bytes(),
        "/initrd.img": b"initrd",
    })
    esp = gpt.partitions[0]
    assert (esp["last_lba"] - esp["first_lba"] + 1) * harness.SECTOR > 75 * MIB


@pytest.mark.parametrize("case", ["no-args", "missing-efi", "not-pe", "missing-cfg",
                                  "missing-extra", "bad-dest", "duplicate-dest", "out-is-dir"])
def test_mkimage_rejects(tmp_path, fake_efi, case):
    cfg = tmp_path / "a.cfg"
    cfg.write_text("console = com1\n")
    out = tmp_path / "out.img"
    not_pe = tmp_path / "not-pe.efi"
    not_pe.write_bytes(b"\x7fELF" + bytes(100))
    args = {
        "no-args": [],
        "missing-efi": [out, tmp_path / "nothing.efi", cfg],
        "not-pe": [out, not_pe, cfg],
        "missing-cfg": [out, fake_efi, tmp_path / "nothing.cfg"],
        "missing-extra": [out, fake_efi, cfg, tmp_path / "nothing.bin"],
        "bad-dest": [out, fake_efi, cfg, f"{cfg}:../escape"],
        "duplicate-dest": [out, fake_efi, cfg, f"{cfg}:BULKHEAD.CFG"],
        "out-is-dir": [tmp_path, fake_efi, cfg],
    }[case]
    r = run([harness.MKIMAGE, *args])
    assert r.returncode != 0
    assert r.stderr.strip(), "failed without saying why"
    assert not out.exists(), "left an output file behind"
    assert not list(tmp_path.glob("out.img.tmp*")), "left a temporary file behind"


def dry_run(*args):
    r = run([harness.RUN_QEMU, "--dry-run", *args])
    assert r.returncode == 0, r.stderr
    return shlex.split(r.stdout)


def test_run_qemu_command_line(fake_efi, tmp_path):
    cmd = dry_run("--efi", fake_efi, "--smp", "3", "--mem", "1G", "--headless",
                  "--workdir", tmp_path / "w", "--", "-s")
    line = " ".join(cmd)
    for want in ["-M q35", "-cpu max", "-smp 3", "-m 1G", "-no-reboot", "-display none",
                 "-device isa-debug-exit,iobase=0xf4,iosize=4", "-serial stdio",
                 "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                 f"file=fat:rw:{tmp_path}/w/esp"]:
        assert want in line, f"{want!r} missing from {line}"
    assert cmd[-1] == "-s", "extra arguments are not passed at the end"
    assert (tmp_path / "w" / "esp" / "EFI" / "BOOT" / "BOOTX64.EFI").read_bytes() == \
        fake_efi.read_bytes()
    # Interactive: serial and monitor share the terminal.
    assert "mon:stdio" in dry_run("--efi", fake_efi)


def test_run_qemu_usb_image(tmp_path):
    img = tmp_path / "x.img"
    img.write_bytes(bytes(MIB))
    line = " ".join(dry_run("--image", img, "--serial-file", tmp_path / "s.log"))
    for want in ["-device qemu-xhci", "-device usb-storage", f"snapshot=on,file={img}",
                 f"-serial file:{tmp_path}/s.log", "-monitor none"]:
        assert want in line, f"{want!r} missing from {line}"
    assert "fat:" not in line


def test_run_qemu_bios(tmp_path):
    """--firmware bios: no OVMF flash, so QEMU starts SeaBIOS, which boots the stick's GRUB."""
    img = tmp_path / "x.iso"
    img.write_bytes(bytes(MIB))
    line = " ".join(dry_run("--firmware", "bios", "--image", img, "--headless"))
    assert "pflash" not in line and "OVMF" not in line, line
    for want in ["-M q35", "-device usb-storage", f"snapshot=on,file={img}"]:
        assert want in line, f"{want!r} missing from {line}"
    assert "if=pflash" in " ".join(dry_run("--firmware", "uefi", "--image", img))


@pytest.mark.parametrize("args", [["--smp", "0"], ["--smp", "x"], ["--mem", "lots"],
                                  ["--bogus"], ["--efi"], ["--efi", "/nonexistent.efi"],
                                  ["--image", "/nonexistent.img"],
                                  ["--config", "/nonexistent.cfg"],
                                  ["--firmware", "coreboot"], ["--firmware", "bios"]],
                         ids=lambda a: " ".join(a))
def test_run_qemu_rejects(args, fake_efi):
    if "--efi" not in args and "--image" not in args:
        args = [*args, "--efi", str(fake_efi)]
    r = run([harness.RUN_QEMU, "--dry-run", *args])
    assert r.returncode != 0 and "error" in r.stderr, (r.returncode, r.stderr)
