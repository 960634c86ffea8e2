#!/usr/bin/env bash
# Runs the XDG desktop portal with its GTK backend (the file chooser of
# GNOME and of the programs built on GTK) on a private session bus, its
# windows on the X display in DISPLAY (Xvfb in the tests): the desktop's
# own file dialogs, for the app's tests (internal/testenv) and to try them
# by hand. HOME and the XDG folders are DESKTOP_PORTAL_HOME when set (the
# caller's), else a temporary folder removed at the end; the runtime
# folder (XDG_RUNTIME_DIR) is always a temporary one.
#
#   scripts/desktop-portal.sh COMMAND [ARG...]  runs COMMAND on that bus
#                                               (DBUS_SESSION_BUS_ADDRESS set)
#   scripts/desktop-portal.sh                   prints DBUS_SESSION_BUS_ADDRESS=…
#                                               once the portal's file chooser
#                                               answers, then serves until its
#                                               standard input closes
set -euo pipefail

if [[ -z "${DESKTOP_PORTAL_INNER:-}" ]]; then
  if [[ -z "${DISPLAY:-}" ]]; then
    echo "desktop-portal: DISPLAY is not set: the dialogs need an X display (Xvfb)" >&2
    exit 1
  fi
  for p in dbus-run-session gdbus /usr/libexec/xdg-desktop-portal /usr/libexec/xdg-desktop-portal-gtk; do
    if ! command -v "$p" >/dev/null; then
      echo "desktop-portal: $p is missing (scripts/deps.sh installs xdg-desktop-portal and xdg-desktop-portal-gtk)" >&2
      exit 1
    fi
  done
  # The runtime folder is the script's own, outside HOME: the document
  # portal mounts a FUSE file system in it, unmounted here at the end.
  run=$(mktemp -d -t paraphe-portal-run.XXXXXX)
  home="${DESKTOP_PORTAL_HOME:-}"
  own_home=
  if [[ -z "$home" ]]; then
    home=$(mktemp -d -t paraphe-portal.XXXXXX)
    own_home=1
  fi
  cleanup() {
    if [[ -d "$run/doc" ]]; then
      fusermount3 -u -z "$run/doc" 2>/dev/null || umount -l "$run/doc" 2>/dev/null || true
    fi
    rm -rf "$run"
    if [[ -n "$own_home" ]]; then rm -rf "$home"; fi
  }
  trap cleanup EXIT
  mkdir -p "$home/.local/share" "$home/.config"
  # The bus starts the portal and its backend with this environment: GNOME's
  # name makes the portal choose the GTK backend (gtk.portal: UseIn=gnome).
  set +e
  env DESKTOP_PORTAL_INNER=1 HOME="$home" XDG_RUNTIME_DIR="$run" \
      XDG_DATA_HOME="$home/.local/share" XDG_CONFIG_HOME="$home/.config" \
      XDG_CURRENT_DESKTOP=GNOME GDK_BACKEND=x11 GTK_USE_PORTAL=0 NO_AT_BRIDGE=1 \
      dbus-run-session -- "$0" "$@"
  code=$?
  set -e
  exit $code
fi

# Started on demand by the bus; wait for the portal to take its name, then
# ask for the file chooser's version: the backend is there too.
gdbus wait --session --activate org.freedesktop.portal.Desktop --timeout 30
gdbus call --session --dest org.freedesktop.portal.Desktop --object-path /org/freedesktop/portal/desktop \
  --method org.freedesktop.DBus.Properties.Get org.freedesktop.portal.FileChooser version >/dev/null
if (($# > 0)); then
  exec "$@"
fi
echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"
exec cat >/dev/null
