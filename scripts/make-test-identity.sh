#!/usr/bin/env bash
# Makes the TEST ONLY signing identity in fixtures/signer/generated/ (git-ignored): a test root CA,
# organisation signing certificates (EC P-256 valid 2020-2040, RSA 2048, one EXPIRED), a second identity for
# the issuing branch of style two (its own key, the branch signs first), a certificate
# from ANOTHER, untrusted test CA, and a time-stamping authority with its `openssl ts` config.
# Nothing made here may ever sign a real certificate: every name says TEST ONLY.
# Idempotent: does nothing when all the files are there. FORCE=1 makes them again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/signer/generated

files=(password.txt root-ca.pem org.p12 org.pem org-rsa.p12 org-rsa.pem org-expired.p12 org-expired.pem
  branch.p12 branch.pem other-ca.pem other-org.p12 other-org.pem tsa.pem tsa.key tsa-chain.pem tsa.cnf)
all=1
for f in "${files[@]}"; do [ -s "$out/$f" ] || all=0; done
if [ "$all" = 1 ] && [ "${FORCE:-}" != 1 ]; then
  echo "make-test-identity: fixtures/signer/generated/ already complete, skipping"
  exit 0
fi
command -v openssl >/dev/null || { echo "make-test-identity: openssl is missing (scripts/setup-system.sh installs it)" >&2; exit 1; }

# Test runs may call this from several processes at once: one makes the files, the others wait and skip.
if command -v flock >/dev/null; then
  exec 9>"${TMPDIR:-/tmp}/skillcert-make-test-identity.lock"
  flock 9
  all=1
  for f in "${files[@]}"; do [ -s "$out/$f" ] || all=0; done
  if [ "$all" = 1 ] && [ "${FORCE:-}" != 1 ]; then
    echo "make-test-identity: fixtures/signer/generated/ made by another process, skipping"
    exit 0
  fi
fi

# Build in a scratch folder (git-ignored .tmp-*) and move it into place at the end: never a half-made identity.
root=$(pwd)
work="fixtures/signer/.tmp-generated-$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$root/$work"' EXIT
cd "$work"
umask 077
# A random password per checkout, so that nobody mistakes it for a shared secret.
openssl rand -hex 12 > password.txt

mkdir -p db/root/new db/other/new
for ca in root other; do : > "db/$ca/index.txt"; echo 1000 > "db/$ca/serial"; done

cat > ca.cnf <<'EOF'
# openssl ca configuration for the TEST ONLY identity (made by scripts/make-test-identity.sh)
[ ca_root ]
dir              = db/root
database         = $dir/index.txt
serial           = $dir/serial
new_certs_dir    = $dir/new
certificate      = root-ca.pem
private_key      = root-ca.key
default_md       = sha256
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
utf8             = yes
string_mask      = utf8only

[ ca_other ]
dir              = db/other
database         = $dir/index.txt
serial           = $dir/serial
new_certs_dir    = $dir/new
certificate      = other-ca.pem
private_key      = other-ca.key
default_md       = sha256
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
utf8             = yes
string_mask      = utf8only

[ policy_any ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[ req ]
distinguished_name = dn
utf8               = yes
string_mask        = utf8only
[ dn ]

[ v3_ca ]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ v3_signer ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ v3_tsa ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature, nonRepudiation
extendedKeyUsage       = critical, timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# $1 ca section, $2 key, $3 subject, $4 extensions, $5 start, $6 end, $7 out; -selfsign when $8 = self
issue() {
  openssl req -new -config ca.cnf -key "$2" -subj "$3" -utf8 -out tmp.csr
  local self=()
  [ "${8:-}" = self ] && self=(-selfsign -keyfile "$2")
  openssl ca -config ca.cnf -name "$1" -batch -notext -in tmp.csr -out "$7" -extfile ca.cnf -extensions "$4" \
    -startdate "$5" -enddate "$6" "${self[@]}" 2>/dev/null
  rm -f tmp.csr
}

p12() { # $1 name, $2 key, $3 cert, $4 chain
  openssl pkcs12 -export -name "$1" -inkey "$2" -in "$3" -certfile "$4" -passout file:password.txt \
    -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -out "$5"
}

# The trusted test root.
ec_key root-ca.key
issue ca_root root-ca.key "/O=skillcert TEST ONLY/CN=skillcert TEST ONLY Root CA — not for production" v3_ca \
  20150101000000Z 20450101000000Z root-ca.pem self

# The organisation: EC P-256, digitalSignature + nonRepudiation, valid 2020-2040.
ec_key org.key
issue ca_root org.key "/O=演示评价机构 (TEST ONLY)/CN=skillcert TEST ONLY organisation signer" v3_signer \
  20200101000000Z 20400101000000Z org.pem
p12 "skillcert TEST ONLY organisation signer" org.key org.pem root-ca.pem org.p12

# The same organisation with an RSA 2048 key (covers the RSA paths of signing and QR codes).
rsa_key org-rsa.key
issue ca_root org-rsa.key "/O=演示评价机构 (TEST ONLY)/CN=skillcert TEST ONLY organisation signer RSA" v3_signer \
  20200101000000Z 20400101000000Z org-rsa.pem
p12 "skillcert TEST ONLY organisation signer RSA" org-rsa.key org-rsa.pem root-ca.pem org-rsa.p12

# The issuing BRANCH of a style-two organisation: a second identity, its own key (SPEC §5, seed 002).
ec_key branch.key
issue ca_root branch.key "/O=演示分支机构 (TEST ONLY)/CN=skillcert TEST ONLY branch signer" v3_signer \
  20200101000000Z 20400101000000Z branch.pem
p12 "skillcert TEST ONLY branch signer" branch.key branch.pem root-ca.pem branch.p12

# An EXPIRED organisation certificate (valid 2018-2019 only), from the trusted root.
ec_key org-expired.key
issue ca_root org-expired.key "/O=演示评价机构 (TEST ONLY)/CN=skillcert TEST ONLY EXPIRED organisation signer" v3_signer \
  20180101000000Z 20191231235959Z org-expired.pem
p12 "skillcert TEST ONLY EXPIRED organisation signer" org-expired.key org-expired.pem root-ca.pem org-expired.p12

# ANOTHER test CA, outside the trust anchors, and a signer certificate from it.
ec_key other-ca.key
issue ca_other other-ca.key "/O=skillcert TEST ONLY/CN=skillcert TEST ONLY Other Root CA — untrusted" v3_ca \
  20150101000000Z 20450101000000Z other-ca.pem self
ec_key other-org.key
issue ca_other other-org.key "/O=Some Other Organisation (TEST ONLY)/CN=skillcert TEST ONLY untrusted signer" v3_signer \
  20200101000000Z 20400101000000Z other-org.pem
p12 "skillcert TEST ONLY untrusted signer" other-org.key other-org.pem other-ca.pem other-org.p12

# The time-stamping authority (extendedKeyUsage critical timeStamping), from the trusted root.
ec_key tsa.key
issue ca_root tsa.key "/O=skillcert TEST ONLY/CN=skillcert TEST ONLY Time-Stamping Authority" v3_tsa \
  20200101000000Z 20400101000000Z tsa.pem
cat tsa.pem root-ca.pem > tsa-chain.pem
echo 01 > tsaserial
cat > tsa.cnf <<'EOF'
# openssl ts configuration of the TEST ONLY time-stamping authority.
# Paths are relative: run `openssl ts -reply -config tsa.cnf ...` with this folder as the working directory.
[ tsa ]
default_tsa = tsa_test

[ tsa_test ]
dir                   = .
serial                = $dir/tsaserial
crypto_device         = builtin
signer_cert           = $dir/tsa.pem
certs                 = $dir/root-ca.pem
signer_key            = $dir/tsa.key
signer_digest         = sha256
default_policy        = 1.3.6.1.4.1.99999.1.1
other_policies        = 1.3.6.1.4.1.99999.1.2
digests               = sha256, sha384, sha512
accuracy              = secs:1
clock_precision_digits = 0
ordering              = no
tsa_name              = yes
ess_cert_id_chain     = no
ess_cert_id_alg       = sha256
EOF

chmod 600 ./*.key password.txt
cd "$root"
rm -rf "$out"
mv "$work" "$out"
chmod 755 "$out"
echo "make-test-identity: wrote TEST ONLY identity to fixtures/signer/generated/ ($(ls "$out" | wc -l) entries)"
