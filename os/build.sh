#!/usr/bin/env bash
# Builds the Cognitive Internet OS image from Debian packages and the node binary:
#   disk.img       a GPT disk: EFI system partition (systemd-boot, the PREEMPT_RT kernel, a dracut
#                  initrd) and a read-only erofs root file system. Boots with UEFI (systemd-boot;
#                  tested with OVMF under qemu) and with a legacy BIOS (SYSLINUX on the same
#                  partition, GPT boot code in the MBR; tested with SeaBIOS). The data partition
#                  is made on first boot (see os/README.md).
#   disk.img.zst   the same, compressed (what to download / flash)
#   rootfs.tar.gz  the same root file system without kernel and boot files, for
#                  `podman import` / `docker import`
#   oci/ + cognitive-os.oci.tar  the same layer as an OCI image layout (and its tar archive, for
#                  `podman load -i` / `skopeo copy oci-archive:`)
#   manifest.txt   inputs, package versions, sizes
#
# Usage: os/build.sh [--node PATH] [--out DIR] [--force]
#   --node PATH  the node binary (default $NODE_BIN, else $CARGO_TARGET_DIR/release/cognitive-node)
#   --out DIR    output directory (default $HOME/.cache/cognitive-internet/os/<hash of the inputs>)
#   --force      rebuild even when the output directory already holds a finished build
# Environment: SNAPSHOT (Debian snapshot date, default below), MIRROR (override the Debian
# mirror), DISK_EXTRA_MIB (free space left at the end of disk.img for a data partition, default 0).
# Needs root and the packages of os/deps.sh.
set -euo pipefail

OS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OS_DIR
REPO_ROOT="$(dirname "$OS_DIR")"

# The Debian archive state the image is built from. snapshot.debian.org serves it for ever, which
# makes builds repeatable; where it cannot be reached, deb.debian.org (today's state) is used.
SNAPSHOT="${SNAPSHOT:-20261201T000000Z}"
SUITE=bookworm
DISK_EXTRA_MIB="${DISK_EXTRA_MIB:-0}"

NODE_BIN="${NODE_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/cognitive-node}"
OUT=""
FORCE=0
while [ $# -gt 0 ]; do
	case "$1" in
	--node) NODE_BIN="$2"; shift 2 ;;
	--out) OUT="$2"; OUT_GIVEN=1; shift 2 ;;
	--force) FORCE=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -x "$NODE_BIN" ] || { echo "build.sh: node binary $NODE_BIN missing (build it, or pass --node)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "build.sh: needs root (mmdebstrap --mode=root, file ownership)" >&2; exit 1; }
GPTMBR=/usr/lib/syslinux/mbr/gptmbr.bin
for t in mmdebstrap mkfs.erofs mkfs.vfat mcopy sfdisk zstd objcopy python3 syslinux "$GPTMBR"; do
	command -v "$t" >/dev/null || [ -f "$t" ] || { echo "build.sh: $t missing: run os/deps.sh" >&2; exit 1; }
done
NODE_BIN="$(readlink -f "$NODE_BIN")"
export NODE_BIN

# --- Mirror --------------------------------------------------------------------------------------
if [ -n "${MIRROR:-}" ]; then
	DEBIAN="$MIRROR"; SECURITY="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
elif curl -fsS -m 15 -o /dev/null "http://snapshot.debian.org/archive/debian/$SNAPSHOT/dists/$SUITE/Release"; then
	DEBIAN="http://snapshot.debian.org/archive/debian/$SNAPSHOT"
	SECURITY="http://snapshot.debian.org/archive/debian-security/$SNAPSHOT"
else
	echo "build.sh: snapshot.debian.org is not reachable: using deb.debian.org (today's packages," \
		"so the build is not repeatable; SNAPSHOT=$SNAPSHOT is kept in the cache key and manifest)" >&2
	DEBIAN=http://deb.debian.org/debian
	SECURITY=http://deb.debian.org/debian-security
fi

# --- Cache key: everything that determines the image -----------------------------------------------
PACKAGES="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$OS_DIR/packages.txt" | tr -s ' \n' ',' | sed 's/,$//')"
node_sha="$(sha256sum "$NODE_BIN" | cut -d' ' -f1)"
key="$(
	{
		echo "snapshot=$SNAPSHOT debian=$DEBIAN security=$SECURITY suite=$SUITE extra=$DISK_EXTRA_MIB"
		echo "node=$node_sha"
		echo "packages=$PACKAGES"
		# Every script and file of the image, by path and content.
		cd "$OS_DIR" && find build.sh packages.txt lib rootfs systemd -type f -print0 | sort -z | xargs -0 sha256sum
	} | sha256sum | cut -c1-16
)"
OUT="${OUT:-$HOME/.cache/cognitive-internet/os/$key}"
export OUT
if [ "$FORCE" = 0 ] && [ -s "$OUT/manifest.txt" ] && grep -qx "key=$key" "$OUT/manifest.txt"; then
	echo "build.sh: cached image for these inputs (key $key) reused: $OUT"
	echo "$OUT/disk.img"
	exit 0
fi
echo "build.sh: building image $key into $OUT"

# Times in the image are the snapshot's (reproducible file systems and archives).
SOURCE_DATE_EPOCH="$(date -u -d "$(sed -E 's/^(....)(..)(..)T(..)(..)(..)Z$/\1-\2-\3 \4:\5:\6/' <<<"$SNAPSHOT")" +%s)"
export SOURCE_DATE_EPOCH
# Identifiers of the disk derived from the key: the same inputs give the same disk.
uuid_of() { sha256sum <<<"$key-$1" | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/'; }
DISK_UUID="$(uuid_of disk)"; ESP_UUID="$(uuid_of esp)"; ROOT_UUID="$(uuid_of root)"; FS_UUID="$(uuid_of rootfs)"

WORK="$OUT.work"
rm -rf "$WORK" "$OUT"
mkdir -p "$WORK" "$OUT"
# The work directory is removed on success only, so that a failed build can be looked at.
ROOT="$WORK/rootfs"

# --- 1. Root file system from Debian packages ------------------------------------------------------
# minbase + the package list. Documentation, manuals and locales are left out (dpkg path-exclude),
# except the copyright files. The dracut configuration goes in before the kernel, whose postinst
# builds the initrd with it.
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell, with $1 = the root
nice -n 10 mmdebstrap --mode=root --variant=minbase --format=directory \
	--include="$PACKAGES" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--aptopt='APT::Install-Recommends "false"' \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
	--setup-hook='mkdir -p "$1/etc/dracut.conf.d" && cp "$OS_DIR/rootfs/etc/dracut.conf.d/10-cognitive.conf" "$1/etc/dracut.conf.d/"' \
	--customize-hook='chroot "$1" dpkg-query -W -f "\${Package} \${Version}\n" > "$OUT/packages.lock"' \
	--customize-hook='"$OS_DIR/lib/customize.sh" "$1"' \
	"$SUITE" "$ROOT" \
	"deb $DEBIAN $SUITE main" "deb $DEBIAN $SUITE-updates main" "deb $SECURITY $SUITE-security main"

# --- 2. Boot files out of the root; the root as erofs -----------------------------------------------
KVER="$(basename "$(ls -d "$ROOT"/lib/modules/*)")"
mkdir -p "$WORK/boot"
cp "$ROOT/boot/vmlinuz-$KVER" "$WORK/boot/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$WORK/boot/initrd.img"
cp "$ROOT/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$WORK/boot/BOOTX64.EFI"
rm -f "$ROOT"/boot/vmlinuz* "$ROOT"/boot/initrd.img* "$ROOT"/boot/System.map* "$ROOT"/boot/config-*
# Uncompressed erofs: the distributed disk.img.zst compresses it far better (zstd over the whole
# disk) than erofs-utils 1.5's only compressor, lz4hc, would (181 MB vs about 140 MB), and
# reading it costs no decompression at boot.
nice -n 10 mkfs.erofs --quiet -T"$SOURCE_DATE_EPOCH" -U "$FS_UUID" "$WORK/root.erofs" "$ROOT"

# --- 3. EFI system partition (FAT, written with mtools: no loop device, no mount) -----------------
# rd.modules-load: the initrd's systemd-modules-load loads the drivers a root disk sits behind
# (the list of rootfs/etc/dracut.conf.d/10-cognitive.conf less USB) as soon as it starts, so the
# root partition is there when udev starts; otherwise udev loads them only when its coldplug pass
# reaches the disk controllers (about 2 s later under TCG). Absent hardware costs a module load.
CMDLINE="root=PARTUUID=$ROOT_UUID rootfstype=erofs ro rd.modules-load=virtio_pci,virtio_blk,virtio_scsi,nvme,ahci,sd_mod console=tty0 console=ttyS0,115200 loglevel=4 systemd.show_status=true"
cat >"$WORK/loader.conf" <<CONF
default cognitive.conf
timeout 0
editor no
CONF
cat >"$WORK/cognitive.conf" <<CONF
title Cognitive Internet OS ($KVER)
linux /cognitive/vmlinuz
initrd /cognitive/initrd.img
options $CMDLINE
CONF
boot_kib=$(($(du -sk "$WORK/boot" | cut -f1) + 8192))
esp_mib=$(((boot_kib / 1024 + 16) > 64 ? boot_kib / 1024 + 16 : 64))
touch -d "@$SOURCE_DATE_EPOCH" "$WORK"/boot/* "$WORK/loader.conf" "$WORK/cognitive.conf"
mkfs.vfat -C -F 32 -n ESP -i "${ESP_UUID:0:8}" --invariant "$WORK/esp.img" $((esp_mib * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$WORK/esp.img" ::EFI ::EFI/BOOT ::loader ::loader/entries ::cognitive
mcopy -m -i "$WORK/esp.img" "$WORK/boot/BOOTX64.EFI" ::EFI/BOOT/BOOTX64.EFI
mcopy -m -i "$WORK/esp.img" "$WORK/loader.conf" ::loader/loader.conf
mcopy -m -i "$WORK/esp.img" "$WORK/cognitive.conf" ::loader/entries/cognitive.conf
mcopy -m -i "$WORK/esp.img" "$WORK/boot/vmlinuz" "$WORK/boot/initrd.img" ::cognitive/
# The same kernel, initrd and command line for a legacy BIOS: SYSLINUX in the ESP's FAT (its
# installer works on the image file through mtools), started by the GPT boot code written into
# the MBR below. Many boards a validator runs on, and qemu's default firmware (SeaBIOS, which
# starts about 7 s sooner than OVMF under TCG), boot this way.
cat >"$WORK/syslinux.cfg" <<CONF
DEFAULT cognitive
PROMPT 0
TIMEOUT 0
LABEL cognitive
  LINUX /cognitive/vmlinuz
  INITRD /cognitive/initrd.img
  APPEND $CMDLINE
CONF
touch -d "@$SOURCE_DATE_EPOCH" "$WORK/syslinux.cfg"
mmd -i "$WORK/esp.img" ::syslinux
mcopy -m -i "$WORK/esp.img" "$WORK/syslinux.cfg" ::syslinux/syslinux.cfg
syslinux --install --directory /syslinux "$WORK/esp.img"

# --- 4. The GPT disk ---------------------------------------------------------------------------------
mib() { echo $((($(stat -c %s "$1") + 1048575) / 1048576)); }
root_mib="$(mib "$WORK/root.erofs")"
disk_mib=$((1 + esp_mib + root_mib + DISK_EXTRA_MIB + 1))
truncate -s "${disk_mib}M" "$WORK/disk.img"
# Type GUIDs: EFI system, with the legacy-BIOS-bootable attribute (bit 2: the MBR's GPT boot code
# starts this partition's boot sector, SYSLINUX); Linux root (x86-64) of the Discoverable
# Partitions Specification, with the read-only attribute (bit 60).
sfdisk -q "$WORK/disk.img" <<PT
label: gpt
label-id: $DISK_UUID
first-lba: 2048
start=1MiB, size=${esp_mib}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_UUID, name="esp", attrs="LegacyBIOSBootable"
size=${root_mib}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_UUID, name="root", attrs="GUID:60"
PT
dd if="$WORK/esp.img" of="$WORK/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.erofs" of="$WORK/disk.img" bs=1M seek=$((1 + esp_mib)) conv=notrunc,sparse status=none
# BIOS boot code (440 bytes) in the protective MBR; the partition entries after it stay.
dd if="$GPTMBR" of="$WORK/disk.img" bs=440 count=1 conv=notrunc status=none
mv "$WORK/disk.img" "$OUT/disk.img"
nice -n 10 zstd -q -T2 -15 -f "$OUT/disk.img" -o "$OUT/disk.img.zst"

# --- 5. OCI outputs from the same root (no kernel, modules or boot loader in a container) ---------
tar -C "$ROOT" --sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime \
	--exclude=./lib/modules --exclude=./usr/lib/modules --exclude=./usr/lib/systemd/boot \
	--exclude=./usr/lib/firmware -cf "$WORK/layer.tar" .
nice -n 10 gzip -n -6 <"$WORK/layer.tar" >"$OUT/rootfs.tar.gz"
python3 "$OS_DIR/lib/oci-layout.py" "$WORK/layer.tar" "$OUT/rootfs.tar.gz" "$OUT/oci" "$SOURCE_DATE_EPOCH" "$key"
tar -C "$OUT/oci" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --numeric-owner -cf "$OUT/cognitive-os.oci.tar" .
# The OCI layout's blob is a copy of rootfs.tar.gz: link it instead of keeping two copies.
ln -f "$OUT/rootfs.tar.gz" "$OUT/oci/blobs/sha256/$(sha256sum "$OUT/rootfs.tar.gz" | cut -d' ' -f1)"

# --- 6. Manifest ---------------------------------------------------------------------------------
{
	echo "key=$key"
	echo "snapshot=$SNAPSHOT"
	echo "debian_mirror=$DEBIAN"
	echo "security_mirror=$SECURITY"
	echo "kernel=$KVER"
	echo "node_sha256=$node_sha"
	echo "cmdline=$CMDLINE"
	echo "disk_uuid=$DISK_UUID root_partuuid=$ROOT_UUID esp_partuuid=$ESP_UUID"
	for f in disk.img disk.img.zst rootfs.tar.gz cognitive-os.oci.tar; do
		echo "size_$f=$(stat -c %s "$OUT/$f")"
	done
	echo "size_root_erofs=$(stat -c %s "$WORK/root.erofs")"
	echo "size_esp_content=$(du -sb "$WORK/boot" | cut -f1)"
	echo "size_rootfs_dir=$(du -sb "$ROOT" | cut -f1)"
	(cd "$OUT" && sha256sum disk.img disk.img.zst rootfs.tar.gz cognitive-os.oci.tar | sed 's/^/sha256 /')
} >"$OUT/manifest.tmp"
mv "$OUT/manifest.tmp" "$OUT/manifest.txt"
rm -rf "$WORK"
# Keep the three newest images of the default cache (each about 1 GB); CI builds one per node
# build.
if [ -z "${OUT_GIVEN:-}" ]; then
	# shellcheck disable=SC2012  # names are 16 hex digits
	ls -1dt "$HOME/.cache/cognitive-internet/os"/*/ 2>/dev/null | tail -n +4 | while read -r old; do
		case "$old" in *.work/) continue ;; esac
		rm -rf "$old"
	done
fi
cat "$OUT/manifest.txt"
echo "$OUT/disk.img"
