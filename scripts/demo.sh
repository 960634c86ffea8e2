#!/usr/bin/env bash
# The whole journey, headless, against the demo CA on loopback:
#   paraphe demo → paraphe activate → certs → sign → verify
# Everything lives in a temporary folder (CA, keys, and a private keychain:
# a session bus with gnome-keyring) and is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin

# Re-run with a private keychain, so that the demo's is not the user's own.
if [[ -z "${PARAPHE_WORK:-}" ]]; then
  exec scripts/private-keychain.sh "$0" "$@"
fi

work=$PARAPHE_WORK
exec 2>&1 # one ordered stream for the reader (the outer filter only hides dbus noise)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; }

# The demo certification authority, the one the desktop app offers:
# paraphe demo creates it in the Paraphe folder (a CA with a demo notary
# enrolled) and serves it on loopback until stopped. A real CA is run with
# paraphe-ca init, enroll and serve (README, "Running the CA").
export PARAPHE_HOME=$work/paraphe
step "1. The demo certification authority, on loopback"
printf '$ paraphe demo &\n'
"$bin/paraphe" demo > "$work/demo.out" 2> "$work/ca.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
# It prints the reference code last, once it serves.
code='^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$'
for _ in $(seq 100); do
  tail -n 1 "$work/demo.out" 2>/dev/null | grep -Eq "$code" && break
  kill -0 $server 2>/dev/null || { cat "$work/demo.out" "$work/ca.log" >&2; exit 1; }
  sleep 0.1
done
tail -n 1 "$work/demo.out" | grep -Eq "$code" || { echo "demo: the demo CA did not start" >&2; cat "$work/ca.log" >&2; exit 1; }
cat "$work/demo.out"
ref=$(tail -n 1 "$work/demo.out")
# The policy that points the commands at it, as it says.
PARAPHE_POLICY=$(sed -n 's/.*PARAPHE_POLICY=//p' "$work/demo.out")
export PARAPHE_POLICY

step "2. The holder activates: reference code, answers, new PIN"
echo "Reference code: $ref"
echo "Answers (typed as a holder might): montreal / REX / jules ferry"
printf 'montreal\nREX\njules ferry\n' > "$work/answers.txt"
export PARAPHE_PIN='Demo-Pin-2026!'
echo "PIN: $PARAPHE_PIN (from PARAPHE_PIN; on a terminal paraphe asks for it)"
show "$bin/paraphe" activate --ref "$ref" --answers-file "$work/answers.txt"

step "3. The certificate, on this computer"
show "$bin/paraphe" certs

step "4. Sign a deed (visible stamp, time-stamp and validation data) and verify it"
cp assets/demo/deed.pdf "$work/deed.pdf"
show "$bin/paraphe" sign --level B-LT --visible --reason "Acte de vente" --location Paris "$work/deed.pdf"
show "$bin/paraphe" verify "$work/deed-signed.pdf"

step "5. The same code cannot be used twice"
show "$bin/paraphe" activate --ref "$ref" --answers-file "$work/answers.txt" || echo "(exit code $?, as documented)"

step "Done"
echo "The demo CA logged one line per request, with codes redacted:"
tail -n 3 "$work/ca.log"
