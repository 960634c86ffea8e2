#!/usr/bin/env bash
# Authenticode-signs a Windows file (an .exe or the .msi) with osslsigncode:
#
#   installer/windows/sign.sh IN OUT
#
# The certificate comes from the environment (make passes its variables):
#   SIGN_CERT       code-signing certificate chain, PEM (or DER/SPC)
#   SIGN_KEY        its private key, PEM (or DER/PVK)
#   SIGN_PASS_FILE  optional: file holding the key's password
#   SIGN_TIMESTAMP  optional: RFC 3161 time-stamping URL, so that the
#                   signature outlives the certificate (use it for releases)
# Without SIGN_CERT the file is copied unsigned, and the build says so.
set -euo pipefail
in=${1:?usage: sign.sh IN OUT} out=${2:?usage: sign.sh IN OUT}
if [[ -z ${SIGN_CERT:-} ]]; then
  echo "sign.sh: SIGN_CERT is not set: $(basename "$out") is NOT signed" >&2
  cp "$in" "$out"
  exit 0
fi
args=(sign -certs "$SIGN_CERT" -key "${SIGN_KEY:?SIGN_KEY must name the key of SIGN_CERT}"
      -n Paraphe -i https://paraphe.example -h sha256)
if [[ -n ${SIGN_PASS_FILE:-} ]]; then args+=(-readpass "$SIGN_PASS_FILE"); fi
if [[ -n ${SIGN_TIMESTAMP:-} ]]; then args+=(-ts "$SIGN_TIMESTAMP"); fi
rm -f "$out"
osslsigncode "${args[@]}" -in "$in" -out "$out" >/dev/null
