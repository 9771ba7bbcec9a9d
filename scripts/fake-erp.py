#!/usr/bin/env python3
"""A tiny fake ERP on loopback (Python 3 standard library only), for trying routing rules out (docs/routing.md).

Answers every request with 200 and a JSON body echoing what it understood, and prints each call Kefu makes — method,
path, the Kefu-Timeout-Ms / Idempotency-Key / Kefu-Event-Id headers and the JSON body — so a newcomer sees the
seed's route (config/routing.yaml) call POST /orders/12345/sync. Usage:

    python3 scripts/fake-erp.py [--port 9100] [--fail N] [--status CODE] [--sleep SECONDS] [--retry-after SECONDS]

  --fail N          answer the first N requests with --status (default 500) instead of 200 (watch the retries)
  --sleep SECONDS   wait this long before answering (watch the route's deadline cut the call short)
  --retry-after S   send Retry-After: S with the failures
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_count = 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description="A fake ERP for Kefu routing rules.")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--fail", type=int, default=0, help="answer the first N requests with --status")
    parser.add_argument("--status", type=int, default=500, help="the failure status (default 500)")
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--retry-after", type=int, default=None, help="Retry-After seconds sent with failures")
    return parser.parse_args(argv)


def make_handler(options):
    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            global _count
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            with _lock:
                _count += 1
                number = _count
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            print(f"#{number} {self.command} {self.path}"
                  f"  Kefu-Timeout-Ms={self.headers.get('Kefu-Timeout-Ms')}"
                  f"  Idempotency-Key={self.headers.get('Idempotency-Key')}"
                  f"  Kefu-Event-Id={self.headers.get('Kefu-Event-Id')}", flush=True)
            print(f"   body: {json.dumps(body, ensure_ascii=False)}", flush=True)
            if options.sleep > 0:
                time.sleep(options.sleep)
            if number <= options.fail:
                self._send(options.status, {"error": "simulated failure", "attempt": number},
                           {"Retry-After": str(options.retry_after)} if options.retry_after is not None else {})
                print(f"   -> {options.status} (simulated failure {number}/{options.fail})", flush=True)
                return
            answer = {"ok": True, "status": "synced", "path": self.path}
            match = re.search(r"/orders/([^/]+)", self.path)
            if match:
                answer["order_id"] = match.group(1)
            if isinstance(body, dict):
                answer["received"] = body
            self._send(200, answer, {})
            print("   -> 200", flush=True)

        def _send(self, status, payload, headers):
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # Kefu gave up on this attempt (its deadline passed): nobody is listening any more.
                print("   (caller went away: its deadline passed)", flush=True)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

    return Handler


def main(argv):
    options = parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(options))
    print(f"fake ERP on http://localhost:{options.port} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
