#!/usr/bin/env bash
# Records pdf/testdata/dss-samples.tsv: for every signature field of the
# DSS corpus, the verdicts of tools nobody here wrote, which TestDSSCorpus
# holds our verifier to. Never feed it our own output.
#
#   scripts/record-verdicts.sh [CORPUS [OUT]]
#
# CORPUS defaults to ../shared/corpus/dss-samples (beside the repository),
# OUT to pdf/testdata/dss-samples.tsv. Needs pdfsig (poppler-utils), qpdf,
# openssl, jq, xxd and a JDK with Debian's iText 5 and Bouncy Castle jars
# (scripts/deps.sh installs them all).
#
# Per field:
#   integrity  poppler's pdfsig (it exits 0 even on "Digest Mismatch": its
#              text is read), iText 5 (AcroFields.verifySignature, then
#              PdfPKCS7.verify: internal/testenv/java) and openssl (cms
#              -verify -noverify over the byte ranges; ts -verify for a
#              document time-stamp, trusting the token's own certificates)
#              each say valid, broken or "-" (no verdict: the tool cannot
#              judge, or threw). The agreed verdict is the one all tools
#              with a verdict give, when at least two give one; else
#              "unknown", or DISAGREE (and a warning) when they differ.
#   kind       document_timestamp when the signature dictionary's /Type is
#              /DocTimeStamp or its /SubFilter /ETSI.RFC3161, else
#              signature (qpdf reads the dictionaries, not our code).
#   level      for ETSI.CAdES.detached (EN 319 142-1): B-B; B-T with a
#              signature time-stamp (unsigned attribute
#              1.2.840.113549.1.9.16.2.14, read by openssl cms -print) or a
#              later document time-stamp; B-LT when besides the /DSS holds
#              the signer's certificate (or a /VRI entry for the signature)
#              and OCSP responses or CRLs; B-LTA when besides a later
#              document time-stamp signed a revision that already had the
#              /DSS. Other sub-filters are not PAdES: PKCS7-B, PKCS7-T…
#              by the same rules, Adobe's signed revocation attribute
#              (1.2.840.113583.1.1.8, dss "adbe") standing for the /DSS.
#              "-" for document time-stamps.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus=${1:-../shared/corpus/dss-samples}
out=${2:-pdf/testdata/dss-samples.tsv}
for tool in pdfsig qpdf openssl jq xxd java javac certutil; do
  command -v "$tool" >/dev/null || { echo "record-verdicts: $tool is missing; hint: run scripts/deps.sh" >&2; exit 1; }
done
[[ -d $corpus ]] || { echo "record-verdicts: no corpus at $corpus" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out.part"' EXIT

# iText 5's verdicts, one JVM for the whole corpus.
cp=$(printf '%s:' /usr/share/java/{itext5,pdfbox2,fontbox2,commons-logging,bcprov,bcpkix,bcutil}.jar)
javac -nowarn -encoding UTF-8 -d "$tmp/classes" -cp "$cp" internal/testenv/java/*.java
files=()
while IFS= read -r f; do files+=("$f"); done < <(find "$corpus" -maxdepth 1 -name '*.pdf' | LC_ALL=C sort)
java -XX:+UseSerialGC -cp "$tmp/classes:$cp" paraphe.testenv.Main verify "${files[@]}" >"$tmp/itext.jsonl"

# pdfsig judges integrity whatever the trust: an empty NSS database.
mkdir "$tmp/nss"
certutil -N -d "sql:$tmp/nss" --empty-password

# The signature fields of a file as qpdf reads its objects: full name,
# then the signature dictionary's /Type, /SubFilter, /ByteRange and
# /Contents (hex), "-" where absent; /FT inherited, /Kids followed.
read -r -d '' fields_jq <<'EOF' || true
.qpdf[1] as $o
| def deref: if type == "string" and test("^[0-9]+ [0-9]+ R$")
    then ($o["obj:" + .] | .value // .stream.dict) else . end;
  def text: if type == "string" then sub("^[ub]:"; "") else "-" end;
  def fields($prefix; $ft; $depth):
    deref as $d
    | if ($d | type) != "object" or $depth > 16 then empty else
        (if $d["/T"] == null then $prefix
         elif $prefix == "" then ($d["/T"] | text)
         else $prefix + "." + ($d["/T"] | text) end) as $name
        | ($d["/FT"] // $ft) as $ft2
        | if ([($d["/Kids"] // [])[] | deref | select(type == "object" and has("/T"))] | length) > 0
          then ($d["/Kids"][] | fields($name; $ft2; $depth + 1))
          elif $ft2 == "/Sig" then
            (($d["/V"] // null) | deref) as $v
            | if ($v | type) != "object" then [$name, "-", "-", "-", "-"]
              else [$name, ($v["/Type"] // "-"), ($v["/SubFilter"] // "-"),
                    (($v["/ByteRange"] // []) | map(tostring) | join(" ") | if . == "" then "-" else . end),
                    ($v["/Contents"] | text)] end
          else empty end
      end;
  ($o.trailer.value["/Root"] | deref) as $cat
  | (($cat["/AcroForm"] // {}) | deref) as $form
  | ($form["/Fields"] // [] | if type == "string" then deref else . end)[]
  | fields(""; null; 0)
  | @tsv
EOF

# What the /DSS of a file holds: the certificates (base64 of the DER),
# "vri KEY" for each /VRI entry, "rev" when it has OCSP responses or CRLs.
read -r -d '' dss_jq <<'EOF' || true
.qpdf[1] as $o
| def deref: if type == "string" and test("^[0-9]+ [0-9]+ R$")
    then ($o["obj:" + .] | .value // .stream.dict) else . end;
  def data: if type == "string" then ($o["obj:" + .].stream.data // empty) else empty end;
  ($o.trailer.value["/Root"] | deref) as $cat
  | (($cat["/DSS"] // null) | deref) as $dss
  | if ($dss | type) != "object" then empty else
      ("dss"),
      (($dss["/Certs"] // [] | deref)[] | data | "cert " + .),
      ((($dss["/VRI"] // {}) | deref | keys[]) | "vri " + ltrimstr("/")),
      (if ((($dss["/OCSPs"] // []) | deref | length) + (($dss["/CRLs"] // []) | deref | length)) > 0 then "rev" else empty end)
    end
EOF

# pdfsig's verdict per field from its report: "name<TAB>valid|broken|unsigned|-".
pdfsig_verdicts() {
  awk '
    /^  - Signature Field Name: / { if (name != "") print name "\t" v; name = substr($0, index($0, ": ") + 2); v = "-" }
    /Signature Validation: Signature is Valid\./ { v = "valid" }
    /Signature Validation: Digest Mismatch\./ { v = "broken" }
    /Signature Validation: Signature is Invalid\./ { v = "broken" }
    /The signature form field is not signed\./ { v = "unsigned" }
    END { if (name != "") print name "\t" v }' "$1"
}

# The signed bytes of a byte range "a b c d" of file $1 into $2.
ranges() {
  local a b c d
  read -r a b c d <<<"$2"
  { dd if="$1" iflag=skip_bytes,count_bytes skip="$a" count="$b" bs=1M status=none
    dd if="$1" iflag=skip_bytes,count_bytes skip="$c" count="$d" bs=1M status=none; } >"$3"
}

# openssl's verdict on one signature: valid, broken or "-".
openssl_verdict() { # kind sig.der content.bin
  local log=$tmp/openssl.log
  if [[ $1 == document_timestamp ]]; then
    openssl pkcs7 -inform DER -in "$2" -print_certs -out "$tmp/tsa.pem" 2>/dev/null || { echo -; return; }
    if openssl ts -verify -data "$3" -in "$2" -token_in -CAfile "$tmp/tsa.pem" -partial_chain >"$log" 2>&1; then
      echo valid
    elif grep -q "message imprint mismatch\|signature failure\|digest failure" "$log"; then
      echo broken
    else
      echo -
    fi
    return
  fi
  if openssl cms -verify -inform DER -in "$2" -content "$3" -binary -noverify -out /dev/null \
    -signer "$tmp/signer.pem" >"$log" 2>&1; then
    echo valid
  elif grep -q "digest failure\|content verify error\|signature failure\|verification failure" "$log"; then
    echo broken
  else
    echo -
  fi
}

agree() { # verdicts… → agreed verdict
  local got=() v
  for v in "$@"; do [[ $v == valid || $v == broken ]] && got+=("$v"); done
  if ((${#got[@]} < 2)); then echo unknown; return; fi
  for v in "${got[@]}"; do [[ $v == "${got[0]}" ]] || { echo DISAGREE; return; }; done
  echo "${got[0]}"
}

{
  echo "# Independent verdicts on the signature fields of the DSS corpus (../shared/corpus/dss-samples)."
  echo "# Recorded by scripts/record-verdicts.sh on $(date -u +%Y-%m-%d) with $(pdfsig -v 2>&1 | head -1),"
  echo "# iText $(dpkg-query -W -f='${Version}' libitext5-java) with Bouncy Castle $(dpkg-query -W -f='${Version}' libbcprov-java) (Debian), $(qpdf --version | head -1), $(openssl version | cut -d' ' -f1-2)."
  echo "# integrity: what pdfsig, iText 5 and openssl agree on (valid, broken; unsigned for an empty field;"
  echo "# none for a file without signature fields; unreadable when no tool could open it); see the script for the rules."
  echo "# pdfsig, itext, openssl: each tool's verdict; - is none (it cannot judge it, e.g. pdfsig on document time-stamps, or it threw)."
  echo "# level: B-B to B-LTA for ETSI.CAdES.detached, PKCS7-B to PKCS7-LTA for other sub-filters, - for document time-stamps;"
  echo "# signature_timestamp: the unsigned attribute 1.2.840.113549.1.9.16.2.14; dss: the /DSS holds the signer's"
  echo "# certificate (or a /VRI entry for it) and revocation data."
  echo "# Not made by Paraphe: re-record with the script, never from our verifier's output."
  printf 'file\tfield\tkind\tsubfilter\tpdfsig\titext\topenssl\tintegrity\tlevel\tsignature_timestamp\tdss\n'
} >"$out.part"

disagreements=0
for f in "${files[@]}"; do
  name=$(basename "$f")
  json=$tmp/qpdf.json
  qpdf_ok=1
  qpdf --json --json-key=qpdf --json-stream-data=inline "$f" >"$json" 2>/dev/null || [[ $? == 3 ]] || qpdf_ok=0
  pdfsig -nssdir "sql:$tmp/nss" "$f" >"$tmp/pdfsig.txt" 2>&1 || true
  pdfsig_verdicts "$tmp/pdfsig.txt" >"$tmp/pdfsig.tsv"
  jq -r --arg f "$f" 'select(.file == $f) | [(.field // "-"), .integrity] | @tsv' "$tmp/itext.jsonl" >"$tmp/itext.tsv"
  : >"$tmp/fields.tsv"
  if ((qpdf_ok)); then
    jq -r "$fields_jq" "$json" >"$tmp/fields.tsv"
    jq -r "$dss_jq" "$json" >"$tmp/dss.txt"
  else
    : >"$tmp/dss.txt"
  fi
  # Fields a tool sees but qpdf does not read (it cannot open the file).
  cut -f1 "$tmp/pdfsig.tsv" "$tmp/itext.tsv" | { grep -v '^-$' || true; } | sort -u | while IFS= read -r fld; do
    cut -f1 "$tmp/fields.tsv" | grep -qxF -- "$fld" || printf '%s\t?\t?\t-\t-\n' "$fld" >>"$tmp/fields.tsv"
  done
  if [[ ! -s $tmp/fields.tsv ]]; then
    if ((qpdf_ok)) || grep -q "does not contain any signatures" "$tmp/pdfsig.txt"; then
      printf '%s\t-\t-\t-\t-\t-\t-\tnone\t-\t-\t-\n' "$name" >>"$out.part"
    else
      printf '%s\t-\t-\t-\t-\t-\t-\tunreadable\t-\t-\t-\n' "$name" >>"$out.part"
    fi
    continue
  fi

  # Every signature's byte range end, kind and revision facts, for levels.
  declare -A end=() kindof=()
  while IFS=$'\t' read -r fld typ sub br hex; do
    [[ $br == "-" ]] && continue
    read -r a b c d <<<"$br"
    end[$fld]=$((c + d))
    if [[ $typ == /DocTimeStamp || $sub == /ETSI.RFC3161 ]]; then kindof[$fld]=document_timestamp; else kindof[$fld]=signature; fi
  done <"$tmp/fields.tsv"
  # Document time-stamps whose signed revision already has a /DSS.
  declare -A ts_over_dss=()
  for fld in "${!kindof[@]}"; do
    [[ ${kindof[$fld]} == document_timestamp ]] || continue
    head -c "${end[$fld]}" "$f" >"$tmp/revision.pdf"
    if qpdf --json --json-key=qpdf --json-stream-data=inline "$tmp/revision.pdf" >"$tmp/rev.json" 2>/dev/null || [[ $? == 3 ]]; then
      jq -r "$dss_jq" "$tmp/rev.json" | grep -qx dss && ts_over_dss[$fld]=1
    fi
  done

  while IFS=$'\t' read -r fld typ sub br hex; do
    p=$(awk -F'\t' -v n="$fld" '$1 == n {print $2; exit}' "$tmp/pdfsig.tsv")
    i=$(awk -F'\t' -v n="$fld" '$1 == n {print $2; exit}' "$tmp/itext.tsv")
    case $i in true) i=valid ;; false) i=broken ;; unsigned) ;; *) i=- ;; esac
    p=${p:--}
    if [[ $typ == "?" ]]; then # only pdfsig or iText could read it
      v=$(agree "$p" "$i")
      [[ $p == unsigned || $i == unsigned ]] && v=unsigned
      printf '%s\t%s\t-\t-\t%s\t%s\t-\t%s\t-\t-\t-\n' "$name" "$fld" "$p" "$i" "$v" >>"$out.part"
      continue
    fi
    if [[ $hex == "-" || $br == "-" ]]; then
      printf '%s\t%s\t-\t-\t%s\t%s\t-\tunsigned\t-\t-\t-\n' "$name" "$fld" "$p" "$i" >>"$out.part"
      continue
    fi
    kind=${kindof[$fld]}
    sf=${sub#/}
    echo -n "$hex" | xxd -r -p >"$tmp/sig.der"
    ranges "$f" "$br" "$tmp/content.bin"
    rm -f "$tmp/signer.pem"
    o=$(openssl_verdict "$kind" "$tmp/sig.der" "$tmp/content.bin")
    [[ $kind == document_timestamp ]] && p=- # pdfsig does not judge them
    v=$(agree "$p" "$i" "$o")
    if [[ $v == DISAGREE ]]; then
      echo "record-verdicts: DISAGREEMENT on $name / $fld: pdfsig $p, iText $i, openssl $o" >&2
      disagreements=$((disagreements + 1))
    fi

    tst=no
    openssl cms -cmsout -print -inform DER -in "$tmp/sig.der" 2>/dev/null | grep -q '1\.2\.840\.113549\.1\.9\.16\.2\.14' && tst=yes
    dss=no
    if grep -qx dss "$tmp/dss.txt"; then
      covered=0
      if [[ -s $tmp/signer.pem ]]; then
        signer=$(openssl x509 -in "$tmp/signer.pem" -outform DER | base64 -w0)
        grep -qxF "cert $signer" "$tmp/dss.txt" && covered=1
      fi
      key=$(sha1sum "$tmp/sig.der" | cut -d' ' -f1 | tr a-f A-F)
      grep -qx "vri $key" "$tmp/dss.txt" && covered=1
      # The same over the DER without its padding (definite lengths only).
      len=$(openssl asn1parse -inform DER -in "$tmp/sig.der" 2>/dev/null |
        sed -n '1s/.*hl= *\([0-9]*\) *l= *\([0-9][0-9]*\) .*/\1 \2/p' | awk '{print $1 + $2}')
      if [[ -n $len ]]; then
        key=$(head -c "$len" "$tmp/sig.der" | sha1sum | cut -d' ' -f1 | tr a-f A-F)
        grep -qx "vri $key" "$tmp/dss.txt" && covered=1
      fi
      ((covered)) && grep -qx rev "$tmp/dss.txt" && dss=yes
    fi
    # Before PAdES, Adobe signers embedded the revocation data in a signed
    # attribute (adbe-revocationInfoArchival): for the sub-filters that are
    # not PAdES it stands for the /DSS.
    if [[ $dss == no && $sf != ETSI.CAdES.detached ]] &&
      openssl cms -cmsout -print -inform DER -in "$tmp/sig.der" 2>/dev/null | grep -q '(1\.2\.840\.113583\.1\.1\.8)'; then
      dss=adbe
    fi

    level=-
    if [[ $kind == signature ]]; then
      t=0 lta=0
      [[ $tst == yes ]] && t=1
      for other in "${!kindof[@]}"; do
        [[ ${kindof[$other]} == document_timestamp && ${end[$other]} -gt ${end[$fld]} ]] || continue
        t=1
        [[ -n ${ts_over_dss[$other]:-} ]] && lta=1
      done
      level=B
      ((t)) && level=T
      ((t)) && [[ $dss != no ]] && level=LT
      [[ $level == LT ]] && ((lta)) && level=LTA
      if [[ $sf == ETSI.CAdES.detached ]]; then level=B-$level; else level=PKCS7-$level; fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$fld" "$kind" "$sf" "$p" "$i" "$o" "$v" "$level" "$tst" "$dss" >>"$out.part"
  done <"$tmp/fields.tsv"
  unset end kindof ts_over_dss
done
summary=$(grep -v '^#' "$out.part" | tail -n +2 | cut -f8 | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep = ", "}')
sed -i "2i # Rows: $summary." "$out.part"
mv "$out.part" "$out"
echo "record-verdicts: $summary in $out; $disagreements disagreements"
((disagreements == 0))
