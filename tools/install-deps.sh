#!/usr/bin/env bash
# Install the Debian packages listed in the given files (one per line, # comments),
# only those missing, and make sure apt's package lists exist (the demo base
# downloads its kernel and busybox with apt-get download).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: $*" >&2; exit 1; }
	SUDO="sudo"
fi
want=$(cat "$@" | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2>/dev/null | head -n1)
if [ ${#missing[@]} -gt 0 ] || [ -z "$lists" ]; then
	echo "install-deps: apt-get update" >&2
	$SUDO apt-get update -q >/dev/null
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
