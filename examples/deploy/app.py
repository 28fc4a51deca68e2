#!/usr/bin/env python3
"""kiln deploy demo app: a tiny HTTP server that reports its release.

GET /health  -> 200 "ok" (503 in mode 'unhealthy')
GET /metrics -> Prometheus text: http_request_duration_seconds histogram
                of the answers to every other path (time in the handler)
GET /*       -> 200 "<app> <release>\n" with header X-Version: <release>

The mode comes from the file ./mode in the working directory (the release
directory) or $DEMO_MODE: good (default), unhealthy (never healthy),
errors (20% of answers are 500), slow (3x slower). Every answer waits
$DEMO_DELAY_MS (default 5 ms) to look like work. Port: $PORT, address
$DEMO_BIND (default 127.0.0.1; 0.0.0.0 in a container). The release is
$KILN_RELEASE, or the file ./release when there is one (an image built
for a release, deployed by its digest, still says which release it is).
On SIGTERM it prints how many requests it served and exits.
"""
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RELEASE = os.environ.get("KILN_RELEASE", "dev")
if os.path.exists("release"):
    with open("release") as f:
        RELEASE = f.read().strip() or RELEASE
APP = os.environ.get("KILN_APP", "demo")
MODE = os.environ.get("DEMO_MODE", "good")
if os.path.exists("mode"):
    with open("mode") as f:
        MODE = f.read().strip() or MODE
DELAY = float(os.environ.get("DEMO_DELAY_MS", "5")) / 1000.0
if MODE == "slow":
    DELAY *= 3

lock = threading.Lock()
served = {"n": 0, "errors": 0}

METRIC = "http_request_duration_seconds"
BOUNDS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.04,
          0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
hist = {"buckets": [0] * len(BOUNDS), "count": 0, "sum": 0.0}


def observe(seconds):
    with lock:
        for i, b in enumerate(BOUNDS):
            if seconds <= b:
                hist["buckets"][i] += 1
        hist["count"] += 1
        hist["sum"] += seconds


def exposition():
    with lock:
        lines = ["# HELP %s Time spent answering requests." % METRIC,
                 "# TYPE %s histogram" % METRIC]
        for b, n in zip(BOUNDS, hist["buckets"]):
            lines.append('%s_bucket{release="%s",le="%g"} %d' % (METRIC, RELEASE, b, n))
        lines.append('%s_bucket{release="%s",le="+Inf"} %d' % (METRIC, RELEASE, hist["count"]))
        lines.append('%s_sum{release="%s"} %.6f' % (METRIC, RELEASE, hist["sum"]))
        lines.append('%s_count{release="%s"} %d' % (METRIC, RELEASE, hist["count"]))
        lines.append("demo_requests_total %d" % served["n"])
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Version", RELEASE)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.reply(503 if MODE == "unhealthy" else 200, "ok\n")
            return
        if self.path == "/metrics":
            self.reply(200, exposition())
            return
        t0 = time.monotonic()
        try:
            self.answer()
        finally:
            observe(time.monotonic() - t0)

    def answer(self):
        with lock:
            served["n"] += 1
            n = served["n"]
        if n == 1:
            print("first request served: %s" % self.path, flush=True)
        time.sleep(DELAY)
        if MODE == "errors" and n % 5 == 0:
            with lock:
                served["errors"] += 1
            self.reply(500, "%s %s failed\n" % (APP, RELEASE))
            return
        self.reply(200, "%s %s\n" % (APP, RELEASE))


def main():
    port = int(os.environ.get("PORT", "8080"))
    piddir = os.environ.get("DEMO_PIDDIR")
    if piddir:
        with open(os.path.join(piddir, "%d.pid" % os.getpid()), "w") as f:
            f.write("%d\n" % os.getpid())
    bind = os.environ.get("DEMO_BIND", "127.0.0.1")
    srv = ThreadingHTTPServer((bind, port), Handler)
    srv.daemon_threads = True

    def stop(sig, frame):
        if piddir:
            try:
                os.unlink(os.path.join(piddir, "%d.pid" % os.getpid()))
            except OSError:
                pass
        print("stopping: served %d request(s), %d error(s)" % (served["n"], served["errors"]), flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("%s %s (mode %s) listening on %s:%d" % (APP, RELEASE, MODE, bind, port), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
