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

if [[ -n "${PARAPHE_RUN_INNER:-}" ]]; then
  # Inside the private session bus: a keychain, unlocked with a throw-away
  # password.
  head -c 18 /dev/urandom | base64 | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$bin/paraphe" "$@"
fi
if [[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" || -z "${DISPLAY:-}" ]]; then
  exec "$bin/paraphe" "$@"
fi

work=$(mktemp -d -t paraphe-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/run" && chmod 700 "$work/run"
echo "No desktop session bus: running with a private keychain and Paraphe folder in $work (removed on exit)."
env PARAPHE_RUN_INNER=1 PARAPHE_HOME="${PARAPHE_HOME:-$work/paraphe}" HOME="$work/home" \
    XDG_DATA_HOME="$work/home/data" XDG_RUNTIME_DIR="$work/run" \
    dbus-run-session -- "$0" "$@" 2> >(grep -v 'Failed to set fd limit' >&2)
