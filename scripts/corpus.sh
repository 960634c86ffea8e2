#!/usr/bin/env bash
# Gathers real PDFs made by other producers (pdfTeX, Apache FOP, gropdf,
# Ghostscript, dblatex, …) from Debian documentation packages, plus copies
# rewritten by Cairo and MuPDF, into a folder the pdf tests sign one by one.
# Nothing is committed: the files are fetched with apt-get download.
#
#   scripts/corpus.sh [DIR]     (default: pdf/testdata/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-pdf/testdata/corpus}
if [[ -f "$dir/.complete" ]]; then
  exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=(shared-mime-info libtasn1-doc fop-doc groff dblatex-doc xorg-docs)
(cd "$work" && apt-get download "${packages[@]}" >/dev/null 2>&1) || {
  [[ $(id -u) -eq 0 ]] && apt-get update -qq && (cd "$work" && apt-get download "${packages[@]}" >/dev/null)
}
n=0
for deb in "$work"/*.deb; do
  x="$work/x/$(basename "$deb")"
  mkdir -p "$x"
  dpkg-deb -x "$deb" "$x"
  while IFS= read -r f; do
    name=$(basename "$f" .gz)
    name="$(basename "$deb" .deb | cut -d_ -f1)-$name"
    case "$f" in
      *.gz) zcat "$f" > "$dir/$name" ;;
      *) cp "$f" "$dir/$name" ;;
    esac
    n=$((n + 1))
  done < <(find "$x" \( -name '*.pdf' -o -name '*.pdf.gz' \) -size -8M)
done
# Other producers, by rewriting one of them.
src=$(ls "$dir"/libtasn1-doc-*.pdf | head -n 1)
pdftocairo -pdf -l 3 "$src" "$dir/cairo-libtasn1.pdf"
mutool clean -gggz "$src" "$dir/mupdf-libtasn1.pdf" >/dev/null
touch "$dir/.complete"
echo "corpus: $((n + 2)) PDFs in $dir"
