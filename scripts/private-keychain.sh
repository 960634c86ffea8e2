#!/usr/bin/env bash
# Runs a command with a private, throw-away keychain: a session bus of its
# own with gnome-keyring unlocked by a random password, and HOME and the XDG
# folders in a temporary folder, which the command finds in PARAPHE_WORK.
# All of it is removed when the command ends. The demo, the screenshots and
# make run (without a desktop session) use it, so that the user's own
# keychain is never touched.
#
#   scripts/private-keychain.sh COMMAND [ARG...]
set -euo pipefail

if [[ -z "${PARAPHE_KEYCHAIN_INNER:-}" ]]; then
  work=$(mktemp -d -t paraphe.XXXXXX)
  # A desktop portal the bus starts (fyne asks it for the desktop's
  # settings) brings the document portal, which mounts a FUSE file system
  # in the runtime folder: unmounted before the folder goes.
  trap 'if [[ -d "$work/run/doc" ]]; then fusermount3 -u -z "$work/run/doc" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
  mkdir -p "$work/run" && chmod 700 "$work/run"
  set +e
  env PARAPHE_KEYCHAIN_INNER=1 PARAPHE_WORK="$work" HOME="$work/home" XDG_DATA_HOME="$work/home/data" \
      XDG_RUNTIME_DIR="$work/run" dbus-run-session -- "$0" "$@" 2> >(grep -v 'Failed to set fd limit' >&2)
  code=$?
  set -e
  exit $code
fi

head -c 18 /dev/urandom | base64 | gnome-keyring-daemon --unlock --components=secrets >/dev/null
exec "$@"
