#!/usr/bin/env bash
# Makes a throw-away code-signing certificate for tests: DIR/cs.pem and
# DIR/cs.key. Releases are signed with the organisation's certificate
# instead (SIGN_CERT/SIGN_KEY, see sign.sh).
set -euo pipefail
dir=${1:?usage: testcert.sh DIR}
mkdir -p "$dir"
openssl req -x509 -newkey rsa:3072 -nodes -days 30 -subj "/CN=Paraphe test code signing/O=Paraphe tests" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -keyout "$dir/cs.key" -out "$dir/cs.pem" 2>/dev/null
