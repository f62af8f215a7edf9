#!/bin/busybox sh
# xs-installer: the demo base's stand-in for Anaconda's first steps. It proves the boot
# chain and the kickstart handoff: find inst.ks= (on a labelled volume or over HTTP),
# report what it read on the console, power off. It installs nothing.
/bin/busybox mkdir -p /bin /proc /sys /dev /run /tmp /mnt/media
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Keep kernel chatter from interleaving with our report lines.
echo 1 > /proc/sys/kernel/printk

fail() {
	echo "xs-installer: error: $*"
	sync
	poweroff -f
}

while read -r m; do
	insmod "/lib/modules/$m" 2>/tmp/insmod.err || grep -q 'File exists' /tmp/insmod.err || echo "xs-installer: warning: $m: $(cat /tmp/insmod.err)"
done < /etc/xs-installer/modules.order

[ -f /etc/xsbuild/overlay.txt ] && echo "xs-overlay: $(cat /etc/xsbuild/overlay.txt)"

ks=""
bootif=""
for a in $(cat /proc/cmdline); do
	case "$a" in
	inst.ks=*) ks="${a#inst.ks=}" ;;
	BOOTIF=*) bootif="${a#BOOTIF=}" ;;
	esac
done
[ -n "$ks" ] || fail "no inst.ks= on the kernel command line"

# The ISO9660 volume id: 32 bytes at offset 40 of the primary volume descriptor
# (sector 16), padded with spaces.
volume_id() {
	dd if="$1" bs=1 skip=32808 count=32 2>/dev/null | sed 's/ *$//'
}

# hd:LABEL=<label>:/path, label udev-escaped (\x20 for a space).
fetch_label() {
	spec="${1#hd:LABEL=}"
	label="${spec%%:*}"
	file="${spec#*:}"
	label="$(printf "$(echo "$label" | sed 's/%/%%/g')")"
	i=0
	while [ $i -lt 60 ]; do
		for dev in /dev/sr* /dev/sd* /dev/vd*; do
			[ -b "$dev" ] || continue
			[ "$(volume_id "$dev")" = "$label" ] || continue
			if mount -t iso9660 -o ro "$dev" /mnt/media 2>/dev/null; then
				if [ -f "/mnt/media$file" ]; then
					cp "/mnt/media$file" /tmp/ks.cfg
					umount /mnt/media
					return 0
				fi
				umount /mnt/media
			fi
		done
		i=$((i + 1))
		sleep 0.5
	done
	for dev in /dev/sr* /dev/sd* /dev/vd*; do [ -b "$dev" ] && echo "xs-installer: seen $dev '$(volume_id "$dev")'"; done
	fail "no volume labelled '$label' with $file"
}

fetch_http() {
	for nic in /sys/class/net/*; do
		n="${nic##*/}"
		[ "$n" = lo ] && continue
		ip link set "$n" up
		udhcpc -i "$n" -n -q -t 10 -T 1 -s /etc/xs-installer/udhcpc.sh >/dev/null 2>&1 || continue
		if wget -q -O /tmp/ks.cfg "$1"; then return 0; fi
	done
	fail "could not fetch $1"
}

case "$ks" in
hd:LABEL=*) fetch_label "$ks" ;;
http://*) fetch_http "$ks" ;;
*) fail "unsupported inst.ks=$ks (use hd:LABEL=... or http://...)" ;;
esac

sum="$(sha256sum /tmp/ks.cfg | cut -d' ' -f1)"
host="$(sed -n 's/^network .*--hostname[= ]\([^ ]*\).*/\1/p' /tmp/ks.cfg | head -n1)"
[ -n "$bootif" ] && echo "xs-installer: bootif=$bootif"
echo "xs-installer: ks=$ks sha256=$sum host=${host:--}"
# A netbooted kickstart ends with a report to the install server (the %post block
# marked xsbuild-report). The stand-in installs nothing, so that block is the only one
# it runs.
sed -n '/^# xsbuild-report:/,/^%end/p' /tmp/ks.cfg | grep -v '^%end' > /tmp/report.sh
[ -s /tmp/report.sh ] && sh /tmp/report.sh
echo "xs-installer: done"
sync
poweroff -f
