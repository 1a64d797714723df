"""pricing-api: quotes carts over HTTP (stdlib only), with Prometheus metrics on /metrics."""
import json
import os
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pricing import quote

SERVICE = "pricing-api"
lock = threading.Lock()
requests_by_code = {}
# The first log line of each kind of crash, exported as an info metric so the alert that fires on the 5xx
# rate can carry the evidence (a log pipeline such as Loki's ruler does the same in production).
crashes = {}


def log(record):
    record = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "service": SERVICE, **record}
    line = json.dumps(record)
    print(line, file=sys.stderr, flush=True)
    return line


def label(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def metrics():
    with lock:
        out = ["# TYPE pricing_http_requests_total counter"]
        out += [f'pricing_http_requests_total{{code="{c}"}} {n}' for c, n in sorted(requests_by_code.items())]
        out.append("# TYPE pricing_crash_info gauge")
        out += [f'pricing_crash_info{{crash="{k}",log="{label(v)}"}} 1' for k, v in crashes.items()]
    return "\n".join(out) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # no access log on stderr
        pass

    def reply(self, status, payload, content_type="application/json"):
        body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"status": "ok"})
        if self.path == "/metrics":
            return self.reply(200, metrics(), "text/plain; version=0.0.4")
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        status = self.handle_quote(raw)
        with lock:
            requests_by_code[status] = requests_by_code.get(status, 0) + 1

    def handle_quote(self, raw):
        try:
            if self.path != "/quote":
                self.reply(404, {"error": "not found"})
                return 404
            try:
                cart = json.loads(raw or "{}")
            except json.JSONDecodeError:
                self.reply(400, {"error": "body must be JSON"})
                return 400
            self.reply(200, quote(cart))
            return 200
        except Exception as err:
            line = log({
                "level": "error",
                "msg": "unhandled exception",
                "request": {"method": "POST", "path": self.path,
                            "headers": {"content-type": self.headers.get("Content-Type", "")}, "body": raw},
                "status": 500,
                "traceback": traceback.format_exc(),
            })
            frame = traceback.extract_tb(err.__traceback__)[-1]
            kind = f"{type(err).__name__}@{os.path.basename(frame.filename)}:{frame.lineno}"
            with lock:
                crashes.setdefault(kind, line)
            self.reply(500, {"error": "internal error"})
            return 500


def main():
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    log({"level": "info", "msg": f"listening on {port}"})
    server.serve_forever()


if __name__ == "__main__":
    main()
