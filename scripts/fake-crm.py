#!/usr/bin/env python3
"""A tiny fake CRM on loopback (Python 3 standard library only), for watching CRM sync work (docs/crm.md).

Keeps records in memory by path: PUT/PATCH/POST /<collection>/<id> stores the JSON body's members (with "updatedAt"),
GET /<collection>/<id> returns the record (404 when there is none). Prints every call. Usage:

    python3 scripts/fake-crm.py [--port 9200] [--fail N] [--status CODE] [--retry-after SECONDS]

  --fail N          answer the first N writes with --status (default 503) instead of storing them (watch the retries)
  --retry-after S   send Retry-After: S with the failures
"""
import argparse
import json
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_records = {}
_writes = 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description="A fake CRM for Kefu CRM sync.")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--fail", type=int, default=0, help="answer the first N writes with --status")
    parser.add_argument("--status", type=int, default=503, help="the failure status (default 503)")
    parser.add_argument("--retry-after", type=int, default=None, help="Retry-After seconds sent with failures")
    return parser.parse_args(argv)


def make_handler(options):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status, body=None, headers=None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _write(self):
            global _writes
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            with _lock:
                _writes += 1
                failing = _writes <= options.fail
            if failing:
                print(f"{self.command} {self.path} -> {options.status} (scripted failure {_writes} of {options.fail})", flush=True)
                headers = {"retry-after": str(options.retry_after)} if options.retry_after is not None else None
                return self._answer(options.status, {"error": "scripted failure"}, headers)
            try:
                body = json.loads(raw)
            except ValueError:
                return self._answer(400, {"error": "the body is not JSON"})
            if not isinstance(body, dict):
                return self._answer(400, {"error": "the body is not a JSON object"})
            with _lock:
                record = dict(_records.get(self.path, {}))
                record.update(body)
                record["updatedAt"] = datetime.now(timezone.utc).isoformat()
                _records[self.path] = record
            print(f"{self.command} {self.path} idempotency-key={self.headers.get('idempotency-key')} {json.dumps(body, ensure_ascii=False)}", flush=True)
            self._answer(200, record)

        def do_GET(self):
            with _lock:
                record = _records.get(self.path)
            print(f"GET {self.path} -> {200 if record is not None else 404}", flush=True)
            if record is None:
                return self._answer(404, {"error": "not found"})
            self._answer(200, record)

        do_PUT = _write
        do_PATCH = _write
        do_POST = _write

        def log_message(self, format, *args):
            pass

    return Handler


def main(argv):
    options = parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(options))
    print(f"fake CRM on http://127.0.0.1:{options.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
