#!/usr/bin/env bash
# Installs, idempotently, every Debian package that os/build.sh and os/test-boot.sh need on a
# Debian 12 (bookworm) machine. Run as root (or through sudo). Safe to run again: apt-get only
# installs what is missing, and the backports source is written only when absent.
#
# Why backports: os/test-boot.sh needs qemu-system-x86. Bookworm's own 7.2 conflicts with the
# backports qemu-utils that some of the project's machines already have (installing it would
# remove qemu-utils), so both come from bookworm-backports (10.0.x), pinned to that suite only for
# these two packages (apt never prefers backports on its own).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	exec sudo -- "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive

# Only Debian 12 needs backports for qemu 10; Debian 13 ships it.
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
BPO_LIST=/etc/apt/sources.list.d/bookworm-backports.sources
if [ "$codename" = bookworm ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat >"$BPO_LIST" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -q
fi

# Build side:
#   mmdebstrap      the root file system from Debian packages (no chroot tooling needed, unshare/root)
#   erofs-utils     mkfs.erofs: the read-only, compressed root file system
#   dosfstools      mkfs.vfat: the EFI system partition (written without a loop device)
#   mtools          mcopy/mmd: copy the boot loader, kernel and initrd into the ESP image file
#   syslinux, syslinux-common   the BIOS boot path: SYSLINUX installed into the ESP image file,
#                   the GPT boot code (gptmbr.bin) for the MBR
#   fdisk           sfdisk: the GPT partition table of the disk image
#   e2fsprogs       mkfs.ext4 -d: the test's config drive, without mounting anything
#   zstd xz-utils   compress the disk image / OCI layer
#   python3         JSON of the OCI layout, the test's JSON-RPC client
# Test side:
#   qemu-system-x86 (backports) + qemu-utils, ovmf (UEFI firmware for qemu)
#   curl            quick RPC probes
#   (package) shellcheck: lint of the scripts (optional, but cheap)
PKGS=(mmdebstrap erofs-utils dosfstools mtools syslinux syslinux-common fdisk e2fsprogs zstd xz-utils python3 ovmf curl shellcheck)
BPO_PKGS=(qemu-system-x86 qemu-utils)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
bpo_missing=()
for p in "${BPO_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || bpo_missing+=("$p")
done
# An installed qemu older than 10 (bookworm's 7.2) is replaced by the backports one.
if command -v qemu-system-x86_64 >/dev/null &&
	! qemu-system-x86_64 --version | grep -qE 'version (1[0-9]|[2-9][0-9])\.'; then
	bpo_missing+=(qemu-system-x86 qemu-utils)
fi

if [ ${#missing[@]} -eq 0 ] && [ ${#bpo_missing[@]} -eq 0 ]; then
	echo "os/deps.sh: every package is already installed"
	exit 0
fi
apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ${#bpo_missing[@]} -gt 0 ]; then
	if [ "$codename" = bookworm ]; then
		apt-get install -y -q --no-install-recommends -t bookworm-backports "${bpo_missing[@]}"
	else
		apt-get install -y -q --no-install-recommends "${bpo_missing[@]}"
	fi
fi
echo "os/deps.sh: installed ${missing[*]} ${bpo_missing[*]}"
