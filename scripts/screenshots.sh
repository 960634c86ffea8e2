#!/usr/bin/env bash
# Screenshots of the desktop app at 800×600, in English, French and Italian,
# in docs/screenshots/LANG/ (make screenshots):
#
# 1. Every screen of a newcomer's journey with the demo CA (start it,
#    activate, sign the demo deed and a copy with a 120-character name
#    visibly, verify, diagnose, settings, home), drawn from the real
#    screens by fyne's software painter: app's TestScreenshots, which runs
#    only when PARAPHE_SCREENSHOTS names the folder; and the document view
#    (TestDocViewScreenshots: a stamp on a page, outlines on a turned page,
#    a password asked, Verify with the document as signed). No clicks at measured
#    places: the pictures are the same on any machine and in any language.
# 2. The real binary on a virtual display (Xvfb) of 800×600, the Sign
#    screen with the long-named copy and a visible signature, the window
#    brought to the screen's size as a window manager would: it must stay
#    800×600 (fyne's driver grows a window whose content needs more), and
#    the least size it asks of the window manager must fit the screen
#    (00-xvfb-sign.png).
#
# Everything runs in a temporary folder with a private keychain.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
out=$PWD/docs/screenshots

if [[ -z "${PARAPHE_WORK:-}" ]]; then
  # The go command keeps the user's caches and the Makefile's flags (HOME
  # is a temporary folder below: a cache there would build all again).
  export GOCACHE="${GOCACHE:-$(go env GOCACHE)}" GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE)}" GOENV="$PWD/go.env"
  # PDFium's compiled code, kept between runs as the app keeps it in the
  # user's cache (compiling it takes some seconds, once).
  export PARAPHE_SHOTS_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}"
  exec scripts/private-keychain.sh "$0" "$@"
fi
work=$PARAPHE_WORK
langs=(en fr it)

# 1. Every screen.
for lang in "${langs[@]}"; do
  mkdir -p "$out/$lang"
  rm -f "$out/$lang"/[0-9][0-9]-*.png
done
# and the document view at 960×680 in English and French (docview*.png)
PARAPHE_SCREENSHOTS="$out" go test ./app -run '^(TestScreenshots|TestDocViewScreenshots)$' -count=1
for lang in "${langs[@]}"; do ls "$out/$lang"/*.png | sed "s|^$PWD/||"; done

# 2. The real window. Xvfb tells on -displayfd which display it took, once
# it accepts clients.
Xvfb -displayfd 5 -screen 0 800x600x24 -nolisten tcp 5>"$work/display" 2>"$work/xvfb.log" &
xvfb=$!
app=
trap 'kill $xvfb ${app:-} 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s "$work/display" ]] && break; sleep 0.1; done
export DISPLAY=:$(cat "$work/display")
name="2026-12-01 Acte de vente Dupont-Martin, lot 12, annexe 3 (plan cadastral, servitudes et réserves du vendeur), final2.pdf"
failed=0
for lang in "${langs[@]}"; do
  home=$work/paraphe-$lang
  mkdir -p "$home"
  cp assets/demo/deed.pdf "$work/$name"
  printf '{"language":"%s","signature":{"visible":true,"reason":"Acte de vente","location":"Paris"}}\n' "$lang" >"$home/settings.json"
  # The first start ever compiles PDFium before the page shows.
  settle=3
  [[ -d "$PARAPHE_SHOTS_CACHE/paraphe/pdfium" ]] || settle=30
  env PARAPHE_HOME="$home" PARAPHE_POLICY="$work/no-policy.json" LANG=en_US.UTF-8 FYNE_THEME=light FYNE_SCALE=1 \
    XDG_CACHE_HOME="$PARAPHE_SHOTS_CACHE" \
    "$bin/paraphe" "$work/$name" >"$work/app-$lang.log" 2>&1 &
  app=$!
  wid=$(timeout 30 xdotool search --sync --onlyvisible --name '\.pdf .*Paraphe$' | head -n 1) # titled after the file (its WM_NAME may lose the dash)
  xdotool windowmove "$wid" 0 0 windowsize "$wid" 800 600
  sleep "$settle" # the page drawn, the window settled (a script may wait; tests do not)
  import -window "$wid" "$out/$lang/00-xvfb-sign.png"
  size=$(xwininfo -id "$wid" | awk '/Width:/ {w=$2} /Height:/ {h=$2} END {print w "x" h}')
  least=$(xprop -id "$wid" WM_NORMAL_HINTS | sed -n 's/.*program specified minimum size: \([0-9]*\) by \([0-9]*\).*/\1x\2/p')
  echo "docs/screenshots/$lang/00-xvfb-sign.png: window $size, least size ${least:-none asked}"
  if [[ $size != 800x600 ]]; then
    echo "$lang: the window grew to $size on an 800×600 screen" >&2
    failed=1
  fi
  if [[ -n $least ]] && (( ${least%x*} > 800 || ${least#*x} > 600 )); then
    echo "$lang: the window asks to be at least $least" >&2
    failed=1
  fi
  kill "$app"
  wait "$app" 2>/dev/null || true
  app=
done
exit $failed
