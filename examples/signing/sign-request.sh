#!/usr/bin/env bash
# Prints the x-mesa-signature header value for one request to the dispatch endpoint, with openssl alone:
#   MESA_KEY_ID=notifier MESA_SIGNING_SECRET=… ./sign-request.sh POST /dispatch "$body" [idempotency-key]
# MESA_SIGNATURE_TIME (unix seconds) replaces the current time, to check the published test vectors.
# openssl takes the HMAC key as an argument: on a shared host, other users can read it in the process list.
set -euo pipefail
method=$1 path=$2 body=$3 idempotency_key=${4:-}
key_id=${MESA_KEY_ID:-default}
timestamp=${MESA_SIGNATURE_TIME:-$(date +%s)}
body_sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hex | sed 's/^.* //')
string_to_sign=$(printf 'mesa-v2\n%s\n%s\n%s\n%s\n%s\n%s' "$key_id" "$timestamp" "$method" "$path" "$idempotency_key" "$body_sha256")
signature=$(printf '%s' "$string_to_sign" | openssl dgst -sha256 -hmac "$MESA_SIGNING_SECRET" -hex | sed 's/^.* //')
printf 'keyid=%s,t=%s,v2=%s\n' "$key_id" "$timestamp" "$signature"
