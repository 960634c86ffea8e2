#!/usr/bin/env bash
# Benchmarks, never timed tests. Prints go test -bench results, then one
# table for a 1 GiB PDF: wall time and peak RSS of Paraphe's signer next to
# the floor (read + write + SHA-256 of the same bytes), with ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchtime 2s ./pkcs
go test -run '^$' -bench 'Sign1000Small|Sign/' -benchtime 3x ./pdf

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/pdf.test" ./pdf
measure() { # name → "seconds kbytes"
  PARAPHE_BENCH_GIB=1 /usr/bin/time -f '%e %M' -o "$bin/t" "$bin/pdf.test" -test.run '^$' \
    -test.bench "Sign/$1/1024MB" -test.benchtime 1x >/dev/null
  # the benchmark's own ns/op excludes writing the input: take it from the run
  cat "$bin/t"
}
read -r pw pm < <(measure paraphe)
read -r fw fm < <(measure floor)
printf '\n1 GiB PDF (each run also writes its input first)\n'
printf '%-28s %10s %14s\n' tool "wall (s)" "peak RSS (MiB)"
printf '%-28s %10s %14d\n' "paraphe sign (B-B)" "$pw" $((pm / 1024))
printf '%-28s %10s %14d\n' "floor: read+write+SHA-256" "$fw" $((fm / 1024))
awk -v a="$pw" -v b="$fw" 'BEGIN { printf "ratio paraphe/floor: %.2f (target <= 1.5); peak RSS target <= 64 MiB\n", a / b }'
