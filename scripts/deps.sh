#!/usr/bin/env bash
# Installs the Debian packages Paraphe needs to build, run and test, and
# only those that are missing. Safe to run again and again.
#
#   scripts/deps.sh          everything (build, demo and tests)
set -euo pipefail

packages=(
  # build (the desktop app: OpenGL and X11 headers for fyne's go-gl and glfw)
  ca-certificates gcc libc6-dev pkg-config
  libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  # the desktop app under a virtual display, driven and photographed (make screenshots)
  xvfb xauth xdotool imagemagick
  # the desktop's own file dialogs and file manager, as the app meets them:
  # the XDG desktop portal with its GTK backend (scripts/desktop-portal.sh),
  # and xdg-open, the way to a file manager without a portal
  xdg-desktop-portal xdg-desktop-portal-gtk xdg-utils
  # the keychain on Linux: Secret Service from gnome-keyring on a session bus
  # (dbus-x11 in the same command, or apt brings systemd in as the bus)
  dbus dbus-x11 gnome-keyring libsecret-tools
  # tokens: SoftHSM2 in tests, OpenSC's pkcs11-tool to inspect them
  softhsm2 opensc
  # independent clients and validators the tests compare against (GnuTLS's
  # certtool judges the Ed25519 CMS that NSS and OpenSSL 3.0 cannot;
  # xmllint checks validation reports against their schema)
  openssl curl poppler-utils qpdf libnss3-tools mupdf-tools gnutls-bin libxml2-utils
  # the exchange's web pages, the signing bridge and the reference portal
  # in a real browser (chromedp drives a headless chromium: exchange's
  # tests, app/portal_test.go), and an independent TOTP implementation
  # (OATH Toolkit), and an independent QR code reader (ZBar: the app's
  # one-time-password key, shown as a QR code, read back)
  chromium oathtool zbar-tools
  # the CLI transcripts (cmd/*/testdata): sqlite3 ages a reference code in
  # the CA's database, zip makes a Word document to sign
  sqlite3 zip
  # independent PDF signers and a validator (internal/testenv/java): iText 5,
  # Apache PDFBox 2 and Bouncy Castle on a JDK; jq for record-verdicts.sh
  openjdk-17-jdk-headless libitext5-java libpdfbox2-java libfontbox2-java
  libcommons-logging-java libbcprov-java libbcpkix-java libbcutil-java jq
  # real proxies for the doctor's tests
  squid dante-server
  # paraphe-ca's PostgreSQL store: a throw-away server for its tests
  # (scripts/postgres.sh; it runs as the package's postgres user)
  postgresql
  # the package scripts that cannot run here (macOS's postinstall), checked
  # at least by a shell linter; systemd-socket-activate (in systemd) stands
  # for the bridge's socket unit in single-instance.txtar
  shellcheck systemd
  # make bench: peak memory
  time
  # make package: the Windows cross-compiler, the MSI tools and Authenticode
  # signing; the icon's sizes; the checks of make package-test (lintian,
  # rpm, the desktop entry, the manual pages, file)
  gcc-mingw-w64-x86-64 wixl msitools osslsigncode imagemagick
  lintian rpm desktop-file-utils man-db file
)

# node-signpdf, another producer the tests sign with, runs on Node.js and is
# installed by npm ci at test time. A machine with its own Node.js (from
# NodeSource, say, whose nodejs package brings npm) keeps it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "Installing missing packages: ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "deps: these packages are missing and you are not root: ${missing[*]}" >&2
    echo "hint: run 'apt-get install ${missing[*]}' as root, then re-run make" >&2
    exit 1
  fi
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
