#!/bin/bash
# Build the Debian bookworm root filesystem that every molecule host boots from (read-only lower
# layer of an overlay).  Usage: build-template.sh DIR
set -euo pipefail
DIR=$1
MIRROR=${MOL_MIRROR:-http://deb.debian.org/debian}
SEC=${MOL_SEC_MIRROR:-http://deb.debian.org/debian-security}
PKGS=systemd,systemd-sysv,dbus,python3,python3-apt,openssh-server,sudo,iproute2,ca-certificates
mmdebstrap --quiet --variant=minbase --include="$PKGS" bookworm "$DIR" \
  "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SEC bookworm-security main"
# Every host must get its own machine-id (systemd writes one at first boot when the file is empty).
: > "$DIR/etc/machine-id"
rm -f "$DIR/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$DIR/var/lib/dbus/machine-id"
rm -f "$DIR/etc/hostname" "$DIR/etc/ssh/ssh_host_"*
chroot "$DIR" ssh-keygen -A >/dev/null
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$DIR/etc/hosts"
echo "# written by mol-up.sh" > "$DIR/etc/resolv.conf"
# Background apt jobs would grab the dpkg lock in the middle of a converge.
chroot "$DIR" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
  e2scrub_reap.service >/dev/null 2>&1
# networkd without a .network for eth0 blocks network-online.target for 2 minutes.
chroot "$DIR" systemctl disable systemd-networkd.service >/dev/null 2>&1 || true
rm -rf "$DIR/var/cache/apt/archives/"*.deb "$DIR/var/log/journal/"*
