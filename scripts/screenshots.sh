#!/usr/bin/env bash
# Screenshots of every screen of the desktop app, from the real binary on a
# virtual display (Xvfb), while xdotool types and clicks through the demo
# journey as a newcomer would: start the demo CA, activate the demo
# certificate, sign the demo deed visibly, verify it, run the diagnostics,
# open the settings. Everything lives in a temporary folder with a private
# keychain; the pictures go to docs/screenshots/ (SHOTS_LANG=fr|it for
# another language).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
out=$PWD/docs/screenshots

if [[ -z "${PARAPHE_WORK:-}" ]]; then
  exec scripts/private-keychain.sh "$0" "$@"
fi

work=$PARAPHE_WORK
lang=${SHOTS_LANG:-en}
mkdir -p "$out"

# Xvfb tells on -displayfd which display it took, once it accepts clients.
Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp 5>"$work/display" 2>"$work/xvfb.log" &
xvfb=$!
trap 'kill $xvfb $app 2>/dev/null || true' EXIT
app=
for _ in $(seq 100); do [[ -s "$work/display" ]] && break; sleep 0.1; done
export DISPLAY=:$(cat "$work/display")

cp assets/demo/deed.pdf "$work/deed.pdf"
# The light theme reads better in a README.
env PARAPHE_HOME="$work/paraphe" PARAPHE_POLICY="$work/no-policy.json" PARAPHE_LANG="$lang" LANG=en_US.UTF-8 \
  FYNE_THEME=light "$bin/paraphe" "$work/deed.pdf" >"$work/app.log" 2>&1 &
app=$!
wid=$(timeout 30 xdotool search --sync --onlyvisible --name '^Paraphe$' | head -n 1)
xdotool windowmove "$wid" 0 0 windowsize "$wid" 960 680
sleep 1

# The window is 960×680 at the top left; places are in window coordinates,
# measured on the English screens (other languages move a few buttons).
click() { xdotool mousemove --window "$wid" "$1" "$2" click 1; sleep "${3:-0.6}"; }
typ() { xdotool type --delay 20 "$1"; }
key() { xdotool key "$1"; sleep "${2:-0.4}"; } # one key, then a pause
shot() { sleep 0.3; import -window "$wid" "$out/$1.png"; echo "docs/screenshots/$1.png"; }
tab() { key "ctrl+$(($1 + 1))" 0.6; } # the side menu's entries: Ctrl+1…5

tab 0
shot 01-home-demo
click 175 175 4          # Start the demo
shot 02-demo-running
click 225 219 1          # Activate the demo certificate
shot 03-activate-code
key Return 2             # Next
shot 04-activate-questions
typ "Montreal"; key Return; typ "Rex"; key Return; typ "Jules Ferry"; key Return
shot 05-activate-store
click 123 184 1          # Next
typ "Sup3r-Secret!"; key Return; typ "Sup3r-Secr"
shot 06-activate-pin
typ "et!"; key Return 4
shot 07-activate-done
click 85 192 1           # Sign a document
click 605 105            # Visible signature
click 660 470                    # a tap on the page preview places the stamp
click 700 545; typ "Sale deed"   # Reason
click 700 584; typ "Paris"       # Location
shot 08-sign
click 131 657 1          # Sign
shot 09-sign-pin
typ "Sup3r-Secret!"; key Return 4
shot 10-signed
click 283 229 2          # Verify
shot 11-verify
tab 3; click 170 125 4   # Run the checks
shot 12-diagnostics
tab 4
shot 13-settings
tab 0
shot 14-home
