#!/bin/bash
# mmdebstrap --customize-hook of os/build.sh: turns the freshly installed Debian tree ($1) into the
# image's root file system. Runs on the build machine as root; NODE_BIN, OS_DIR come from build.sh.
set -euo pipefail
R="$1"
: "${NODE_BIN:?}" "${OS_DIR:?}"

# The image's own files (units, scripts, configuration), then the node and its repository unit.
cp -rT --preserve=mode "$OS_DIR/rootfs" "$R"
install -m 0644 "$OS_DIR/systemd/cognitive-node.service" "$R/usr/lib/systemd/system/cognitive-node.service"
# Stripped (99 → 73 MB): a smaller image. The manifest records the unstripped binary's sha256,
# whose symbols resolve the addresses of a backtrace.
objcopy --strip-all "$NODE_BIN" "$R/usr/local/bin/cognitive-node"
chmod 0755 "$R/usr/local/bin/cognitive-node"

# The service user, with a fixed id: its files on the data partition must keep their owner
# across image versions.
chroot "$R" groupadd --system --gid 900 cognitive
chroot "$R" useradd --system --uid 900 --gid 900 --home-dir /data/cognitive-node --no-create-home \
	--shell /usr/sbin/nologin --comment "Cognitive Internet node" cognitive
# No password logins at all (SSH keys only; the console of a locked root asks in vain).
chroot "$R" usermod -p '*' root

# Mount points of the read-only root, and identity that must not be shared between machines:
# an empty machine-id makes systemd use a fresh one per boot; SSH host keys are made on /data.
install -d -m 0755 "$R/data"
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id" "$R"/etc/ssh/ssh_host_*
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"

# systemd-resolved and systemd-timesyncd order themselves before sysinit.target, so every service
# waited for both (2 s each under qemu TCG). Nothing here needs them that early: the node retries
# its bootnodes, and the barrier never meant a synchronised clock anyway (it only starts the daemon;
# time-sync.target is that). So the image has its own copies of the units without the barrier;
# they still start early.
for u in systemd-resolved.service systemd-timesyncd.service; do
	sed -e '/^Before=/s/sysinit\.target //' -e 's/^WantedBy=sysinit\.target/WantedBy=multi-user.target/' \
		"$R/lib/systemd/system/$u" >"$R/etc/systemd/system/$u"
	if grep -q '^Before=.*sysinit' "$R/etc/systemd/system/$u"; then
		echo "customize: $u is still ordered before sysinit.target" >&2
		exit 1
	fi
done

# Generators for what the image does not have (encrypted, integrity or verity volumes, hibernation,
# SysV init scripts, rc.local, offline updates, GPT auto-mounts of the ESP): each is a process
# systemd runs on every boot and after every daemon-reload (a tenth of a second or more under
# emulation). A symlink to /dev/null in /etc masks one.
install -d "$R/etc/systemd/system-generators"
for g in systemd-cryptsetup-generator systemd-integritysetup-generator systemd-veritysetup-generator \
	systemd-hibernate-resume-generator systemd-sysv-generator systemd-rc-local-generator \
	systemd-system-update-generator systemd-gpt-auto-generator; do
	[ -e "$R/lib/systemd/system-generators/$g" ] || { echo "customize: generator $g not found" >&2; exit 1; }
	ln -sfn /dev/null "$R/etc/systemd/system-generators/$g"
done

# Services: the node and its helpers, networking, firewall, SSH, time. Off: periodic jobs that
# write to a read-only root or are not needed on an appliance.
systemctl --root="$R" enable data.mount cognitive-firstboot.service cognitive-node.service \
	cognitive-ssh-keys.service cognitive-healthcheck.timer cognitive-console-status.timer \
	nftables.service systemd-networkd.service systemd-resolved.service systemd-timesyncd.service ssh.service
# No console logins: root has no password (SSH keys only), so a getty offers nothing; without one,
# systemd keeps printing unit status on the serial console for the whole boot.
systemctl --root="$R" mask getty@tty1.service serial-getty@ttyS0.service console-getty.service
# Boot and run-level records in /var/log/wtmp: /var is a tmpfs here, so they would be lost at the
# next boot anyway, and writing them sat on every boot's path to the node (0.3-0.4 s).
systemctl --root="$R" mask systemd-update-utmp.service systemd-update-utmp-runlevel.service
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
	dpkg-db-backup.timer; do
	systemctl --root="$R" disable "$u" 2>/dev/null || true
	systemctl --root="$R" mask "$u" 2>/dev/null || true
done
# network-online.target (which the node does not wait for, but other units may) is reached when any
# one link is up, within 30 s.
install -d "$R/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$R/etc/systemd/system/systemd-networkd-wait-online.service.d/10-any.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=30
UNIT

# The initrd: the kernel's postinst ran dracut with os/rootfs/etc/dracut.conf.d (installed by the
# setup hook before the kernel); make sure it exists.
kver="$(basename "$(ls -d "$R"/lib/modules/*)")"
if [ ! -s "$R/boot/initrd.img-$kver" ]; then
	chroot "$R" dracut --force --kver "$kver" "/boot/initrd.img-$kver"
fi
# Kernel modules for hardware a headless validator does not have (sound, cameras, radios,
# graphics, InfiniBand, staging drivers): a smaller image. The initrd was built before this.
# Also network and cluster file systems, legacy and radio network stacks, and bus families a
# server board has no use for. Kept: storage (NVMe, SATA, SAS/SCSI HBAs, USB storage), Ethernet,
# netfilter (nftables), ext4/xfs/btrfs, virtio, hwmon.
for d in sound drivers/media drivers/net/wireless net/wireless net/mac80211 drivers/bluetooth \
	net/bluetooth drivers/gpu drivers/infiniband drivers/staging drivers/isdn drivers/iio \
	drivers/input/joystick drivers/input/touchscreen drivers/net/can net/can drivers/video/fbdev \
	fs/ocfs2 fs/gfs2 fs/nfs fs/nfsd fs/nfs_common fs/lockd fs/smb fs/cifs fs/ceph fs/f2fs fs/jfs \
	fs/nilfs2 fs/reiserfs fs/ubifs fs/udf fs/hfs fs/hfsplus fs/ntfs3 fs/orangefs fs/coda fs/afs \
	fs/9p fs/dlm fs/cachefiles fs/fscache fs/jffs2 fs/romfs fs/ufs fs/minix fs/omfs fs/qnx4 \
	fs/qnx6 fs/sysv fs/befs fs/bfs fs/efs fs/hpfs fs/freevxfs fs/adfs fs/affs \
	net/sunrpc net/ceph net/rds net/tipc net/rxrpc net/nfc net/ieee802154 net/mac802154 \
	net/6lowpan net/atm net/appletalk net/x25 net/lapb net/phonet net/caif net/batman-adv \
	net/netrom net/rose net/ax25 net/9p net/smc net/l2tp net/sctp net/dccp \
	drivers/nfc drivers/firewire drivers/mtd drivers/memstick drivers/mmc drivers/pcmcia \
	drivers/atm drivers/fpga drivers/gnss drivers/w1 drivers/thunderbolt drivers/target \
	drivers/net/wan drivers/net/hamradio drivers/net/ieee802154 drivers/net/fddi drivers/net/arcnet \
	drivers/net/usb drivers/net/wwan drivers/net/plip drivers/net/slip drivers/net/ppp \
	drivers/scsi/lpfc drivers/scsi/qla2xxx drivers/scsi/qla4xxx drivers/scsi/bfa \
	drivers/scsi/be2iscsi drivers/scsi/qedf drivers/scsi/qedi drivers/scsi/fcoe \
	drivers/scsi/csiostor drivers/scsi/bnx2fc drivers/scsi/bnx2i drivers/scsi/cxgbi \
	drivers/misc/cardreader drivers/platform/chrome drivers/platform/surface \
	drivers/hid/intel-ish-hid drivers/char/tpm/st33zp24 drivers/leds/trigger drivers/accessibility; do
	rm -rf "$R/lib/modules/$kver/kernel/$d"
done
chroot "$R" depmod "$kver"

# Package manager caches and logs: not needed at run time (and /var is a tmpfs anyway).
rm -rf "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/* "$R"/var/log/* "$R"/var/cache/debconf/*-old \
	"$R"/tmp/* "$R"/var/tmp/*
