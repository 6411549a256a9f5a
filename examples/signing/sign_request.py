"""Signs one request to the dispatch endpoint with Python's standard library alone.

    MESA_KEY_ID=notifier MESA_SIGNING_SECRET=... python3 sign_request.py POST /dispatch "$body" [idempotency-key]

prints the x-mesa-signature header value; import `sign` to use it from your own code. MESA_SIGNATURE_TIME (unix
seconds) replaces the current time, to check the published test vectors.
"""
import hashlib
import hmac
import os
import sys
import time


def sign(secret: str, key_id: str, method: str, path: str, body: bytes, idempotency_key: str = "", timestamp: int | None = None) -> str:
    """The x-mesa-signature header for a request: keyid=<key>,t=<unix seconds>,v2=<hex HMAC-SHA256>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    string_to_sign = "\n".join(
        ["mesa-v2", key_id, str(timestamp), method.upper(), path, idempotency_key, hashlib.sha256(body).hexdigest()]
    )
    signature = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"keyid={key_id},t={timestamp},v2={signature}"


if __name__ == "__main__":
    method, path, body = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    idempotency_key = sys.argv[4] if len(sys.argv) > 4 else ""
    at = os.environ.get("MESA_SIGNATURE_TIME")
    print(sign(os.environ["MESA_SIGNING_SECRET"], os.environ.get("MESA_KEY_ID", "default"), method, path, body, idempotency_key, int(at) if at else None))
