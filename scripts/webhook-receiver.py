#!/usr/bin/env python3
"""A minimal Kefu webhook receiver (Python 3 standard library only), for trying webhooks out.

Verifies each delivery's Standard Webhooks signature (docs/integration.md section 11), refuses timestamps more than
5 minutes off, drops redeliveries by webhook-id, and prints every event. Usage:

    KEFU_WEBHOOK_SECRET='whsec_...' python3 scripts/webhook-receiver.py [port]   # default port 9000

Verify a body without a server (the worked example of section 11 prints OK):

    python3 scripts/webhook-receiver.py --check SECRET ID TIMESTAMP SIGNATURE < body
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

TOLERANCE_SECONDS = 5 * 60


def verify(secret, webhook_id, timestamp, signature_header, body, now=None, tolerance=TOLERANCE_SECONDS):
    """True when one v1 signature in the header is this secret's for id, timestamp and the raw body bytes."""
    if not timestamp.isdigit():
        return False
    if now is not None and abs(now - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    expected = base64.b64encode(hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    for candidate in signature_header.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen = set()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))  # raw bytes: verify before parsing
        webhook_id = self.headers.get("webhook-id", "")
        if not verify(self.secret, webhook_id, self.headers.get("webhook-timestamp", ""),
                      self.headers.get("webhook-signature", ""), body, now=int(time.time())):
            print(f"REFUSED {webhook_id}: bad signature or timestamp", flush=True)
            self.send_response(401)
            self.end_headers()
            return
        if webhook_id in self.seen:
            print(f"duplicate {webhook_id} (already handled)", flush=True)
        else:
            self.seen.add(webhook_id)
            event = json.loads(body)
            print(f"verified {event['type']} {webhook_id}: {json.dumps(event['data'], ensure_ascii=False)}", flush=True)
        self.send_response(204)  # any 2xx acknowledges
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--check":
        _, _, secret, webhook_id, timestamp, signature = sys.argv
        ok = verify(secret, webhook_id, timestamp, signature, sys.stdin.buffer.read())
        print("OK" if ok else "BAD SIGNATURE")
        sys.exit(0 if ok else 1)
    secret = os.environ.get("KEFU_WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        sys.exit("Set KEFU_WEBHOOK_SECRET to the endpoint's secret (whsec_...), shown once by POST /api/v1/webhooks.")
    Receiver.secret = secret
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()


if __name__ == "__main__":
    main()
