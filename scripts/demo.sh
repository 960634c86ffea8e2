#!/usr/bin/env bash
# The whole journey, headless, against a demo CA on loopback:
#   paraphe-ca init → enroll → serve → paraphe activate → paraphe certs
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

# The CA's addresses go into its certificates, so its ports are chosen
# first: the first free ones from 18443 (or DEMO_PORT) for HTTPS, and the
# next free one for the plain-HTTP validation data (OCSP, CRLs).
free() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }
port=$(free "${DEMO_PORT:-18443}")
vport=$(free $((port + 1)))
url=https://127.0.0.1:$port

step "1. The CA operator creates a CA"
show "$bin/paraphe-ca" init --dir "$work/ca" --name "Paraphe Demo CA" --url "$url" --validation-url "http://127.0.0.1:$vport"

step "2. The CA operator enrols a holder (identity + 3 secret questions)"
cat > "$work/holder.json" <<'JSON'
{"name": "Marie Dupont", "title": "Notaire", "member_number": "75-1234",
 "organization": "Chambre des notaires de Paris", "email": "marie.dupont@example.org",
 "questions": [
   {"question": "Ville de naissance ?", "answer": "Montréal"},
   {"question": "Nom de votre premier animal ?", "answer": "Rex"},
   {"question": "Votre école primaire ?", "answer": "Jules Ferry"}]}
JSON
printf '$ paraphe-ca enroll --dir %s < holder.json\n' "$work/ca"
"$bin/paraphe-ca" enroll --dir "$work/ca" < "$work/holder.json" | tee "$work/enroll.out"
ref=$(tail -n 1 "$work/enroll.out")

step "3. The CA serves on $url"
"$bin/paraphe-ca" serve --dir "$work/ca" --addr "127.0.0.1:$port" --http-addr "127.0.0.1:$vport" 2> "$work/ca.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
# Wait for the line that says it listens.
for _ in $(seq 100); do
  grep -q '"msg":"listening"' "$work/ca.log" 2>/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$work/ca.log" >&2; exit 1; }
  sleep 0.1
done
grep -q '"msg":"listening"' "$work/ca.log" || { echo "demo: the CA did not start" >&2; cat "$work/ca.log" >&2; exit 1; }
echo "listening; the client's policy is $work/ca/policy.json"
export PARAPHE_POLICY=$work/ca/policy.json PARAPHE_HOME=$work/paraphe

step "4. The holder activates: reference code, answers, new PIN"
echo "Reference code: $ref"
echo "Answers (typed as a holder might): montreal / REX / jules ferry"
printf 'montreal\nREX\njules ferry\n' > "$work/answers.txt"
export PARAPHE_PIN='Demo-Pin-2026!'
echo "PIN: $PARAPHE_PIN (from PARAPHE_PIN; on a terminal paraphe asks for it)"
show "$bin/paraphe" activate --ref "$ref" --answers-file "$work/answers.txt"

step "5. The certificate, on this computer"
show "$bin/paraphe" certs

step "6. Sign a deed (visible stamp, time-stamp and validation data) and verify it"
cp assets/demo/deed.pdf "$work/deed.pdf"
show "$bin/paraphe" sign --level B-LT --visible --reason "Acte de vente" --location Paris "$work/deed.pdf"
show "$bin/paraphe" verify "$work/deed-signed.pdf"

step "7. The same code cannot be used twice"
show "$bin/paraphe" activate --ref "$ref" --answers-file "$work/answers.txt" || echo "(exit code $?, as documented)"

step "Done"
echo "The CA logged one line per request, with codes redacted:"
tail -n 3 "$work/ca.log"
