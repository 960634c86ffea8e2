#!/usr/bin/env bash
# make run: the desktop application. On a desktop it is simply bin/paraphe,
# with the user's own keychain and Paraphe folder. Without a session bus
# (a bare machine under Xvfb, an SSH session with X forwarding) there is no
# keychain to keep keys in: the app then runs with a private, throw-away
# keychain and Paraphe folder, removed when it closes, so that the demo
# (activate, sign, verify) works all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin

if [[ -n "${PARAPHE_WORK:-}" ]]; then
  # Inside the private keychain's session.
  export PARAPHE_HOME=${PARAPHE_HOME:-$PARAPHE_WORK/paraphe}
  echo "No desktop session bus: running with a private keychain and Paraphe folder in $PARAPHE_WORK (removed on exit)."
  exec "$bin/paraphe" "$@"
fi
if [[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" || -z "${DISPLAY:-}" ]]; then
  exec "$bin/paraphe" "$@"
fi
exec scripts/private-keychain.sh "$0" "$@"
