#!/usr/bin/env bash
# Makes the test TLS material: a CA and a server certificate it signs, valid for 100 years,
# for IP:127.0.0.1 and DNS:localhost. Run from this folder; commit the output.
set -euo pipefail
cd "$(dirname "$0")"
days=36500

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
    -subj "/CN=jobscheduler test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.pem

openssl req -newkey rsa:2048 -nodes -sha256 \
    -subj "/CN=localhost" \
    -keyout server.key -out server.csr

cat > server.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT

openssl x509 -req -sha256 -days "$days" -in server.csr -CA ca.pem -CAkey ca.key \
    -CAcreateserial -extfile server.ext -out server.pem

rm -f server.csr server.ext ca.srl
