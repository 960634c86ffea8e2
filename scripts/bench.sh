#!/usr/bin/env bash
# Benchmarks, never timed tests. Prints go test -bench results, then one
# table per size: wall time and peak RSS of Paraphe's signer, of poppler's
# pdfsig -add-signature, and of the floor (cp, then sha256sum, of the same
# bytes), with ratios to the floor; then paraphe-ca's throughput
# (internal/benchtool/cabench.go): activations, OCSP next to openssl ocsp,
# time-stamps, on SQLite and PostgreSQL, one replica and two.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchtime 2s ./pkcs
go test -run '^$' -bench 'Sign1000Small|Sign/' -benchtime 3x ./pdf
go test -run '^$' -bench . -benchtime 3x ./netcheck
# The desktop app: process start to window up and event loop running (target 1 s).
go test -run '^$' -bench GUIStart -benchtime 10x ./cmd/paraphe
# The page renderer (PDFium in WebAssembly): first start ever (compiling),
# cold start with the compiled module cached, warm, next page of 200
# (targets: 1 s cold, 150 ms warm, 100 ms per page).
go test -run '^$' -bench . -benchtime 3x ./render
# The exchange: 1 MiB and 1 GiB up through the API into a paraphe-exchange
# process (sealed as they stream in) and back; server-peak-MiB is its peak
# RSS, which must not grow with the document.
go test -run '^$' -bench Transfer -benchtime 1x ./exchange
# The document view on a HiDPI screen (scale 2): a ten-page document open to
# its first page drawn, warm (150 ms); Page Down through 200 pages (100 ms);
# then alone, so that the memory reported is its own, 500 pages read to the
# end (300 MiB).
go test -run '^$' -bench 'DocViewFirstPage|DocViewNextPage' -benchtime 20x ./app
go test -run '^$' -bench 'DocView500Pages' -benchtime 1x ./app

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/benchtool" ./internal/benchtool

# pdfsig signs with a key in an NSS database (RSA: its ECDSA signing fails).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/c.pem" -days 2 -subj "/CN=Bench" 2>/dev/null
openssl pkcs12 -export -inkey "$work/k.pem" -in "$work/c.pem" -out "$work/id.p12" -passout pass:bench -name bench
mkdir "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
pk12util -i "$work/id.p12" -d "sql:$work/nss" -W bench >/dev/null

measure() { # label, command… → prints "label seconds MiB"
  local label=$1; shift
  rm -f "$work/out.pdf"
  if /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>"$work/err"; then
    read -r s k < "$work/t"
    printf '%s %s %d\n' "$label" "$s" $((k / 1024))
  else
    printf '%s failed -\n' "$label"
  fi
}

table() { # title: the rows of $work/rows, the first one the floor
  printf '\n%s\n' "$1"
  awk 'NR == 1 { floor = $2 } { printf "  %-8s wall %7s s  peak RSS %6s MiB  x floor %s\n", $1, $2, $3, ($2 == "failed" || floor == 0) ? "-" : sprintf("%.2f", $2 / floor) }' "$work/rows"
}

for size in $((1 << 20)) $((100 << 20)) $((1 << 30)); do
  in=$work/in.pdf
  "$work/benchtool" write "$in" "$size"
  sync
  {
    measure floor sh -c "cp '$in' '$work/out.pdf' && sha256sum '$in'"
    measure paraphe "$work/benchtool" sign "$in" "$work/out.pdf"
    measure pdfsig pdfsig -add-signature -nssdir "sql:$work/nss" -nick bench "$in" "$work/out.pdf"
  } > "$work/rows"
  table "$((size >> 20)) MiB PDF, signing"
  # Verifying what paraphe signed: the floor is hashing the file once.
  "$work/benchtool" sign "$in" "$work/signed.pdf"
  rm -f "$in"
  {
    measure floor sha256sum "$work/signed.pdf"
    measure paraphe "$work/benchtool" verify "$work/signed.pdf"
    measure pdfsig pdfsig "$work/signed.pdf"
  } > "$work/rows"
  table "$((size >> 20)) MiB PDF, verifying"
  rm -f "$work/signed.pdf" "$work/out.pdf"
done

# The DSS corpus (../shared/corpus): every file, one process each, as a
# user would verify them one by one; the floor is hashing them.
corpus=../shared/corpus/dss-samples
if [[ -d $corpus ]]; then
  files=("$corpus"/*.pdf)
  {
    measure floor sh -c 'for f; do sha256sum "$f"; done' sh "${files[@]}"
    measure paraphe sh -c 'for f; do "$0" verify "$f" >/dev/null; done' "$work/benchtool" "${files[@]}"
    measure pdfsig sh -c 'for f; do pdfsig "$f" || true; done' sh "${files[@]}"
  } > "$work/rows"
  table "The DSS corpus: ${#files[@]} PDFs, each verified by its own process"
fi
# paraphe-ca: about a minute and a half; alone: go build -o /tmp/paraphe-ca
# ./cmd/paraphe-ca && go run ./internal/benchtool ca /tmp/paraphe-ca.
go build -o "$work/paraphe-ca" ./cmd/paraphe-ca
"$work/benchtool" ca "$work/paraphe-ca"

echo
echo "Targets: signing 1 GiB within 1.5x the floor and <= 64 MiB peak RSS; 1,000 small files <= 5 s;"
echo "verifying 1 GiB within 1.5x the floor and <= 16 MiB more peak RSS than 1 MiB; the corpus no slower than pdfsig;"
echo "the exchange's server: <= 16 MiB more peak RSS for a 1 GiB document than for 1 MiB."
