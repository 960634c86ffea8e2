#!/usr/bin/env bash
# Prints the package version for a format from the git version:
#
#   installer/version.sh deb|msi
#
# A tag vX.Y.Z gives X.Y.Z. Commits after it give X.Y.Z+git.N.HASH for the
# .deb/.rpm (sorting after the tag) and still X.Y.Z for the MSI, whose
# ProductVersion must be numeric (major.minor.build, each bounded). Without
# any tag: 0.0.0+git.N.HASH and 0.0.N, N being the number of commits, so
# that a later build always upgrades an earlier one.
set -euo pipefail
kind=${1:?usage: version.sh deb|msi}
desc=$(git describe --tags --long --match 'v[0-9]*' --dirty 2>/dev/null || true)
if [[ $desc =~ ^v([0-9]+\.[0-9]+\.[0-9]+)-([0-9]+)-g([0-9a-f]+)(-dirty)?$ ]]; then
  base=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} hash=${BASH_REMATCH[3]} dirty=${BASH_REMATCH[4]:+.dirty}
  deb=$base
  if [[ $n != 0 || -n $dirty ]]; then deb="$base+git.$n.$hash$dirty"; fi
  msi=$base
else
  n=$(git rev-list --count HEAD 2>/dev/null || echo 0)
  hash=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git diff --quiet HEAD 2>/dev/null || echo .dirty)
  deb="0.0.0+git.$n.$hash$dirty"
  msi="0.0.$((n > 65535 ? 65535 : n))"
fi
case $kind in
  deb) echo "$deb" ;;
  msi) echo "$msi" ;;
  *) echo "version.sh: deb or msi, not $kind" >&2; exit 2 ;;
esac
