#!/bin/sh
# Regenerate the name lists `xsbuild validate` checks keyboard and lang against
# (builder/validate/data/). They come from Debian packages, so a new list is a
# reviewed commit, not something that changes with the build host:
#   keyboards.txt  X layouts (xkb-data: rules/base.lst) + console keymaps (console-data)
#   languages.txt  locales glibc can build (locales: /usr/share/i18n/SUPPORTED)
set -eu
out=$(cd "$(dirname "$0")/../builder/validate/data" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in /usr/share/X11/xkb/rules/base.lst /usr/share/i18n/SUPPORTED; do
  [ -r "$f" ] || { echo "missing $f: apt-get install xkb-data locales" >&2; exit 1; }
done
(cd "$work" && apt-get download console-data >/dev/null)
dpkg-deb -x "$work"/console-data_*.deb "$work/cd"
xkb=$(dpkg-query -W -f '${Version}' xkb-data)
cdv=$(dpkg-deb -f "$work"/console-data_*.deb Version)
loc=$(dpkg-query -W -f '${Version}' locales)
{
  echo "# Keyboard names the installer accepts for \`keyboard\`: X layouts (xkeyboard-config,"
  echo "# Debian xkb-data $xkb, the \"! layout\" section of rules/base.lst) and console keymaps"
  echo "# (Debian console-data $cdv, keymaps/i386/*/*.kmap.gz). Anaconda takes a console"
  echo "# keymap or an X layout here. Regenerate with tools/validation-lists.sh."
  {
    sed -n '/^! layout/,/^! /p' /usr/share/X11/xkb/rules/base.lst | awk 'NF && $1 != "!" {print $1}'
    find "$work/cd/usr/share/keymaps/i386" -name '*.kmap.gz' | sed 's#.*/##; s#\.kmap\.gz$##'
  } | LC_ALL=C sort -u
} >"$out/keyboards.txt"
{
  echo "# Language names the installer accepts for \`lang\`: the locales glibc can build"
  echo "# (Debian locales $loc, /usr/share/i18n/SUPPORTED), as language_TERRITORY without"
  echo "# the charset (the site may add .UTF-8). Regenerate with tools/validation-lists.sh."
  awk '{print $1}' /usr/share/i18n/SUPPORTED | sed 's/[.@].*//' | grep -E '^[a-z]{2,3}_[A-Z]{2}$' | LC_ALL=C sort -u
} >"$out/languages.txt"
echo "$out/keyboards.txt $out/languages.txt"
