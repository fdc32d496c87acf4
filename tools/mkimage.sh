#!/bin/bash
# Builds a bootable USB-stick image for UEFI machines, without root and without loop devices:
# a GPT disk holding one EFI system partition (FAT32, type EF00, starting at 1 MiB) with
#   \EFI\BOOT\BOOTX64.EFI   the hypervisor
#   \bulkhead.cfg           the configuration
#   any further files given on the command line (guest images, ...)
#
#   tools/mkimage.sh OUT.img BULKHEAD.EFI CONFIG [FILE[:DEST] ...]
#
# DEST is a path on the partition relative to its root (default: the file's base name).
# The partition is 64 MiB, or larger when the files need it; ESP_MIB=N forces N MiB.
# Write the result to a stick with dd: see docs/boot-media.md.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=tools/fat-files.sh
. "$(dirname "$0")/fat-files.sh"

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	echo "Usage: $PROG OUT.img BULKHEAD.EFI CONFIG [FILE[:DEST] ...]" >&2
	echo "       (ESP_MIB=N in the environment sets the partition size in MiB)" >&2
	exit 2
}

[ $# -ge 3 ] || usage
out=$1
efi=$2
cfg=$3
shift 3
extras=("$@")

for t in sgdisk mformat mmd mcopy mdir truncate; do
	command -v "$t" >/dev/null || die "'$t' not found (run tools/install-deps.sh: packages gdisk, mtools)"
done

[ -f "$efi" ] || die "EFI application '$efi' not found (make all)"
[ -s "$efi" ] || die "EFI application '$efi' is empty"
[ "$(head -c 2 "$efi")" = "MZ" ] || die "'$efi' is not a PE/COFF (EFI) executable"
[ -f "$cfg" ] || die "configuration '$cfg' not found"
case "$out" in
*/) die "output '$out' names a folder, not a file" ;;
esac
[ -d "$(dirname "$out")" ] || die "output folder '$(dirname "$out")' does not exist"
[ ! -e "$out" ] || [ -f "$out" ] || die "'$out' exists and is not a regular file; refusing to overwrite it"

# What goes where: dests[i] (path on the partition) receives srcs[i].
declare -a dests=("EFI/BOOT/BOOTX64.EFI" "bulkhead.cfg")
declare -a srcs=("$efi" "$cfg")
for x in ${extras[@]+"${extras[@]}"}; do
	src=${x%%:*}
	dest=$(basename "$src")
	[ "$src" = "$x" ] || dest=${x#*:}
	[ -f "$src" ] || die "file '$src' not found"
	case "$dest" in
	"" | /* | *..* | */) die "destination '$dest' must be a relative file path without '..'" ;;
	esac
	for d in "${dests[@]}"; do
		[ "${d,,}" != "${dest,,}" ] || die "two files would be stored as '$dest' (FAT ignores case)"
	done
	dests+=("$dest")
	srcs+=("$src")
done

# ---- sizes -----------------------------------------------------------------------------------
MIB=$((1024 * 1024))
SECTOR=512
total_bytes=0
for s in "${srcs[@]}"; do
	total_bytes=$((total_bytes + $(stat -c %s "$s")))
done
# Files plus a quarter for FAT, directories and cluster slack, rounded up, at least 64 MiB:
# FAT32 wants at least 65525 clusters, which 64 MiB gives with 512-byte clusters.
need_mib=$(((total_bytes + total_bytes / 4 + MIB - 1) / MIB + 4))
esp_mib=64
[ "$need_mib" -le "$esp_mib" ] || esp_mib=$need_mib
if [ -n "${ESP_MIB:-}" ]; then
	[[ "$ESP_MIB" =~ ^[1-9][0-9]*$ ]] || die "ESP_MIB wants a number of MiB, not '$ESP_MIB'"
	[ "$ESP_MIB" -ge 40 ] || die "ESP_MIB=$ESP_MIB is too small for FAT32 (at least 40)"
	[ "$ESP_MIB" -ge "$need_mib" ] || die "ESP_MIB=$ESP_MIB is too small for the files ($need_mib MiB needed)"
	esp_mib=$ESP_MIB
fi
esp_start=2048                            # sectors: the partition starts at 1 MiB
esp_sectors=$((esp_mib * MIB / SECTOR))
esp_offset=$((esp_start * SECTOR))
# 1 MiB in front (protective MBR, GPT header and table, alignment), 1 MiB behind (backup GPT).
img_bytes=$(((esp_mib + 2) * MIB))

# ---- build into a temporary file next to the output, then rename -----------------------------
tmp=$(mktemp "$out.tmp.XXXXXX")
trap 'rm -f "$tmp"' EXIT
chmod "$(printf %o $((0666 & ~$(umask))))" "$tmp"    # mktemp makes it 0600
truncate -s "$img_bytes" "$tmp"

sgdisk --clear \
	--new=1:${esp_start}:+$((esp_sectors))s \
	--typecode=1:EF00 \
	--change-name=1:"EFI system partition" \
	"$tmp" >/dev/null || die "sgdisk could not write the partition table"
sgdisk --verify "$tmp" >/dev/null || die "sgdisk finds the new partition table invalid"

# Check where sgdisk put the partition before formatting at that offset.
first=$(sgdisk --info=1 "$tmp" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
last=$(sgdisk --info=1 "$tmp" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
if [ "$first" != "$esp_start" ] || [ "$last" != "$((esp_start + esp_sectors - 1))" ]; then
	die "partition 1 is at sectors $first..$last, expected $esp_start..$((esp_start + esp_sectors - 1))"
fi

export MTOOLS_SKIP_CHECK=1
part="$tmp@@$esp_offset"
# -F FAT32, -T total sectors, -H hidden sectors (= the partition's first LBA, as firmware expects).
mformat -i "$part" -F -T "$esp_sectors" -H "$esp_start" -v BULKHEAD :: ||
	die "mformat could not create the FAT file system"

fat_copy_files "$part"

mv -f "$tmp" "$out"
trap - EXIT
echo "$PROG: wrote $out ($((img_bytes / MIB)) MiB: GPT, EFI system partition of $esp_mib MiB at 1 MiB)"
for d in "${dests[@]}"; do
	echo "  /$d"
done
