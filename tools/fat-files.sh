# shellcheck shell=bash disable=SC2154
# Sourced by tools/mkimage.sh and tools/mkiso.sh: copies files into a FAT file system with mtools
# and reads them back. Uses the caller's die() and its arrays srcs[] (host files) and dests[]
# (paths in the file system, without the leading slash).

# fat_copy_files IMAGE: IMAGE is an mtools image spec (file, or file@@offset).
fat_copy_files() {
	local img=$1 i dest dir path p
	local -a parts
	for i in "${!dests[@]}"; do
		dest=${dests[$i]}
		# Create the parent folders one level at a time.
		dir=$(dirname "$dest")
		if [ "$dir" != "." ]; then
			path=""
			IFS=/ read -r -a parts <<<"$dir"
			for p in "${parts[@]}"; do
				path="$path/$p"
				mdir -i "$img" "::$path" >/dev/null 2>&1 || mmd -i "$img" "::$path" ||
					die "could not create folder $path in the FAT file system"
			done
		fi
		mcopy -i "$img" -o "${srcs[$i]}" "::/$dest" ||
			die "could not copy ${srcs[$i]} to /$dest"
	done
	# Read back what was written.
	for i in "${!dests[@]}"; do
		mcopy -n -i "$img" "::/${dests[$i]}" - 2>/dev/null | cmp -s - "${srcs[$i]}" ||
			die "/${dests[$i]} in the FAT file system does not read back as ${srcs[$i]}"
	done
}
