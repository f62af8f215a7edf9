#!/usr/bin/env bash
# Runs .ci/run as CI would on a new machine: in a clean Debian 12 root made by mmdebstrap
# that has only git, ca-certificates and this machine's Node.js (none of the packages
# the .ci/apt-*.txt lists name), on a fresh clone of the committed HEAD.
#   tools/fresh-machine-ci.sh [ROOT_DIR]     (as root; the root is removed afterwards)
# Exit status is .ci/run's. The log is ROOT_DIR.log.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/xs-fresh-machine}
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine-ci: needs root (mmdebstrap, chroot, mounts)" >&2; exit 2; }
command -v mmdebstrap >/dev/null || { echo "fresh-machine-ci: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 2; }
node=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")

cleanup() {
	for m in dev proc sys run; do mountpoint -q "$root/$m" && umount -R -l "$root/$m"; done
	mountpoint -q "$root" && umount -l "$root"
	# --one-file-system: never reach through a mount that did not come off (the host's /dev)
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT
rm -rf --one-file-system "$root"
echo "fresh-machine-ci: building a clean Debian 12 root in $root" >&2
mmdebstrap --variant=apt --include=git,ca-certificates \
	--customize-hook="cp /etc/apt/apt.conf.d/99artifact-registry \"\$1/etc/apt/apt.conf.d/\" 2>/dev/null || true" \
	bookworm "$root" "deb http://deb.debian.org/debian bookworm main" "deb http://deb.debian.org/debian-security bookworm-security main"
install -D -m 0755 "$node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What this kind of machine comes with besides Debian: its certificate authorities (the
# registries are reached through them) and npm's global config. Not project packages.
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
chroot "$root" update-ca-certificates >/dev/null
[ -f /etc/npmrc ] && cp /etc/npmrc "$root/etc/npmrc"
[ -f /etc/npmrc ] && mkdir -p "$root/usr/local/etc" && cp /etc/npmrc "$root/usr/local/etc/npmrc"
git clone -q "$here" "$root/work/xsbuild"

# The root is a mount of its own, as / is on a machine (unshare --propagation needs it).
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
echo "fresh-machine-ci: bash .ci/run in the clean root (log: $root.log)" >&2
set +e
chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS} \
	bash -c 'cd /work/xsbuild && time bash .ci/run' >"$root.log" 2>&1
rc=$?
set -e
tail -n 25 "$root.log"
exit $rc
