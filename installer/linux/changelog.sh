#!/usr/bin/env bash
# Prints the Debian changelog the .deb carries (/usr/share/doc/paraphe/
# changelog.Debian.gz): one entry for the version being built, dated by the
# last commit so that the package is reproducible. The project's history
# is its git log.
set -euo pipefail
version=${1:?usage: changelog.sh VERSION [PACKAGE]}
package=${2:-paraphe}
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cat <<END
$package ($version-1) unstable; urgency=medium

  * Built from revision $rev; the changes are in the project's history.

 -- Paraphe developers <dev@paraphe.example>  $date
END
