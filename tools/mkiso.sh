#!/bin/bash
# Builds one boot image for every PC, without root: a hybrid ISO 9660 image that boots
#   - on UEFI machines: the firmware starts Bulkhead's EFI application directly;
#   - on BIOS machines: GRUB starts bulkhead.elf through multiboot2, the files as modules;
# as a CD or DVD, or after `dd` to a USB stick. All of Bulkhead's files live in one FAT file
# system (the "ESP"):
#   \EFI\BOOT\BOOTX64.EFI   the hypervisor as a UEFI application
#   \bulkhead.elf           the hypervisor as a multiboot2 kernel
#   \bulkhead.cfg           the configuration
#   \boot\grub\grub.cfg     GRUB's menu (BIOS): loads bulkhead.elf and one module per file
#   any further files given on the command line (guest images, ...)
# The ESP is a file of the ISO (/efi.img, the El Torito UEFI boot image) and, on a stick, also a
# partition (MBR and GPT), so both firmware kinds and GRUB read the same files, and the files can
# be edited on the stick. GRUB (BIOS) itself is the El Torito BIOS boot image and, on a stick,
# is started by GRUB's hybrid MBR.
#
#   tools/mkiso.sh OUT.iso BULKHEAD.EFI BULKHEAD.ELF CONFIG [FILE[:DEST] ...]
#
# DEST is a path in the ESP relative to its root (default: the file's base name); GRUB loads each
# such file as `module2 /DEST DEST`, which the multiboot2 loader matches to the configuration's
# paths (docs/boot-media.md). The ESP is 64 MiB (FAT32), or larger when the files need it;
# ESP_MIB=N forces its size in MiB (below 64: FAT16 or FAT12). GRUB_TIMEOUT=S sets the
# menu's wait (default 1 s). Packages: grub-pc-bin, grub-common, xorriso, mtools.
set -euo pipefail

PROG=$(basename "$0")
GRUB_PC=${GRUB_PC:-/usr/lib/grub/i386-pc}
# shellcheck source=tools/fat-files.sh
. "$(dirname "$0")/fat-files.sh"

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	echo "Usage: $PROG OUT.iso BULKHEAD.EFI BULKHEAD.ELF CONFIG [FILE[:DEST] ...]" >&2
	echo "       (ESP_MIB=N sets the FAT file system's size, GRUB_TIMEOUT=S the menu's wait)" >&2
	exit 2
}

[ $# -ge 4 ] || usage
out=$1
efi=$2
elf=$3
cfg=$4
shift 4
extras=("$@")

for t in grub-mkimage xorriso mformat mmd mcopy mdir truncate; do
	command -v "$t" >/dev/null ||
		die "'$t' not found (run tools/install-deps.sh: packages grub-common, grub-pc-bin, xorriso, mtools)"
done
for f in boot_hybrid.img cdboot.img moddep.lst multiboot2.mod; do
	[ -f "$GRUB_PC/$f" ] || die "$GRUB_PC/$f not found (package grub-pc-bin)"
done

[ -f "$efi" ] || die "EFI application '$efi' not found (make all)"
[ "$(head -c 2 "$efi")" = "MZ" ] || die "'$efi' is not a PE/COFF (EFI) executable"
[ -f "$elf" ] || die "multiboot2 kernel '$elf' not found (make all)"
[ "$(head -c 4 "$elf" | od -An -tx1 | tr -d ' ')" = "7f454c46" ] || die "'$elf' is not an ELF file"
[ -f "$cfg" ] || die "configuration '$cfg' not found"
case "$out" in
*/) die "output '$out' names a folder, not a file" ;;
esac
[ -d "$(dirname "$out")" ] || die "output folder '$(dirname "$out")' does not exist"
[ ! -e "$out" ] || [ -f "$out" ] || die "'$out' exists and is not a regular file; refusing to overwrite it"
timeout=${GRUB_TIMEOUT:-1}
[[ "$timeout" =~ ^[0-9]+$ ]] || die "GRUB_TIMEOUT wants a number of seconds, not '$timeout'"

# What goes where in the ESP: dests[i] receives srcs[i]; the extras become modules.
declare -a dests=("EFI/BOOT/BOOTX64.EFI" "bulkhead.elf" "bulkhead.cfg")
declare -a srcs=("$efi" "$elf" "$cfg")
declare -a modules=()
for x in ${extras[@]+"${extras[@]}"}; do
	src=${x%%:*}
	dest=$(basename "$src")
	[ "$src" = "$x" ] || dest=${x#*:}
	[ -f "$src" ] || die "file '$src' not found"
	case "$dest" in
	"" | /* | *..* | */ | *" "* | *\\*) die "destination '$dest' must be a relative file path without '..', spaces or '\\'" ;;
	esac
	for d in "${dests[@]}" boot/grub/grub.cfg; do
		[ "${d,,}" != "${dest,,}" ] || die "two files would be stored as '$dest' (FAT ignores case)"
	done
	dests+=("$dest")
	srcs+=("$src")
	modules+=("$dest")
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-iso.XXXXXX")
tmp=""
cleanup() {
	rm -rf "$work"
	[ -z "$tmp" ] || rm -f "$tmp"
}
trap cleanup EXIT

# ---- GRUB's menu (in the ESP, editable on the stick) ------------------------------------------
grubcfg=$work/grub.cfg
{
	echo "# GRUB menu of a Bulkhead boot image, used on BIOS machines (UEFI firmware starts"
	echo "# \\EFI\\BOOT\\BOOTX64.EFI instead). Written by tools/mkiso.sh. Every file the"
	echo "# configuration names must be a module whose string is its path: module2 /PATH PATH."
	echo "serial --unit=0 --speed=115200"
	echo "terminal_input console serial"
	echo "terminal_output console serial"
	echo "set timeout=$timeout"
	echo "set default=0"
	echo ""
	echo "menuentry \"Bulkhead\" {"
	echo "	echo \"Loading Bulkhead (multiboot2) ...\""
	echo "	multiboot2 /bulkhead.elf"
	echo "	module2 /bulkhead.cfg bulkhead.cfg"
	for m in ${modules[@]+"${modules[@]}"}; do
		echo "	module2 /$m $m"
	done
	echo "	boot"
	echo "}"
} >"$grubcfg"
dests+=("boot/grub/grub.cfg")
srcs+=("$grubcfg")

# ---- the ESP: one FAT file system -------------------------------------------------------------
MIB=$((1024 * 1024))
total_bytes=0
for s in "${srcs[@]}"; do
	total_bytes=$((total_bytes + $(stat -c %s "$s")))
done
# Files plus a quarter for FAT, folders and slack, rounded up: at least 64 MiB, as in
# tools/mkimage.sh, which leaves room to add guests on the stick and makes it FAT32 (65525
# clusters or more), the FAT that every UEFI firmware reads. A smaller ESP_MIB gives FAT16/12.
# (El Torito counts the UEFI boot image in 512-byte sectors with 16 bits; past 32 MiB xorriso
# writes 0 and firmware takes the whole image, which OVMF does; a stick uses the partition.)
need_mib=$(((total_bytes + total_bytes / 4 + MIB - 1) / MIB + 4))
esp_mib=64
[ "$need_mib" -le "$esp_mib" ] || esp_mib=$need_mib
if [ -n "${ESP_MIB:-}" ]; then
	[[ "$ESP_MIB" =~ ^[1-9][0-9]*$ ]] || die "ESP_MIB wants a number of MiB, not '$ESP_MIB'"
	[ "$ESP_MIB" -ge "$need_mib" ] || die "ESP_MIB=$ESP_MIB is too small for the files ($need_mib MiB needed)"
	esp_mib=$ESP_MIB
fi
fat32=()
[ "$esp_mib" -lt 64 ] || fat32=(-F)
esp=$work/iso/efi.img
mkdir -p "$work/iso/boot/grub"
truncate -s $((esp_mib * MIB)) "$esp"
export MTOOLS_SKIP_CHECK=1
# 64 heads x 32 sectors: 1 MiB cylinders, so any whole number of MiB has a valid geometry.
mformat -i "$esp" ${fat32[@]+"${fat32[@]}"} -T $((esp_mib * MIB / 512)) -h 64 -s 32 -v BULKHEAD :: ||
	die "mformat could not create the FAT file system"
fat_copy_files "$esp"

# ---- GRUB for BIOS: one core image, every module it needs built in ---------------------------
# Its first commands find the ESP (the file /efi.img of the ISO it was started from, on a CD or
# a stick alike) and make it GRUB's root; then GRUB reads (esp)/boot/grub/grub.cfg.
cat >"$work/early.cfg" <<'EOF'
loopback esp /efi.img
set root=(esp)
set prefix=(esp)/boot/grub
EOF
grub-mkimage -O i386-pc-eltorito -d "$GRUB_PC" -p /boot/grub -c "$work/early.cfg" \
	-o "$work/iso/boot/grub/bios.img" \
	biosdisk iso9660 part_msdos part_gpt loopback fat normal configfile echo test \
	serial terminal multiboot2 ||
	die "grub-mkimage could not build GRUB's BIOS image"

# ---- the hybrid ISO ---------------------------------------------------------------------------
tmp=$(mktemp "$out.tmp.XXXXXX")
chmod "$(printf %o $((0666 & ~$(umask))))" "$tmp"
xorriso -as mkisofs -quiet -o "$tmp" -V BULKHEAD -r \
	-b boot/grub/bios.img -no-emul-boot -boot-load-size 4 -boot-info-table \
	--grub2-boot-info --grub2-mbr "$GRUB_PC/boot_hybrid.img" \
	-eltorito-alt-boot -e efi.img -no-emul-boot \
	-efi-boot-part --efi-boot-image \
	"$work/iso" >"$work/xorriso.log" 2>&1 ||
	die "xorriso could not write the image:
$(cat "$work/xorriso.log")"
mv -f "$tmp" "$out"
tmp=""
echo "$PROG: wrote $out ($(($(stat -c %s "$out") / MIB)) MiB: BIOS (GRUB, multiboot2) and UEFI, CD or USB stick; ESP of $esp_mib MiB)"
for d in "${dests[@]}"; do
	echo "  /$d"
done
