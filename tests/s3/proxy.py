#!/usr/bin/env python3
"""A small HTTP proxy in front of moto_server for tests/s3.rs: forwards every request and, by
mode, injects the failures the object-storage path must survive.

usage: proxy.py UPSTREAM_PORT MODE LOGFILE   (prints the port it listens on, then serves)

modes:
  pass         forward everything
  throttle:N   answer the first N requests with 503 SlowDown (the client must retry)
  fail-part:K  answer every upload or copy of part K with 500 (the upload must be aborted)
  overwrite    when a multipart upload is started, first replace the object with other bytes
               (a concurrent writer between our read and our write)
  wan:MBIT:MS  a wide-area link for benchmarks: bodies paced to MBIT megabits per second in
               each direction (shared by all connections, as one link is), and MS milliseconds
               of round trip added to every request
"""
import http.client
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

UPSTREAM = int(sys.argv[1])
MODE = sys.argv[2]
LOG = sys.argv[3]
lock = threading.Lock()
state = {"seen": 0, "overwritten": False}


links = {"up": 0.0, "down": 0.0}  # when each direction of the link is next free


def pace(direction, nbytes):
    """Waits until `nbytes` could have crossed the link in `direction` (mode wan only)."""
    if not MODE.startswith("wan:") or nbytes == 0:
        return
    rate = float(MODE.split(":")[1]) * 1e6 / 8
    with lock:
        now = time.monotonic()
        links[direction] = max(now, links[direction]) + nbytes / rate
        until = links[direction]
    time.sleep(max(0.0, until - time.monotonic()))


def round_trip():
    if MODE.startswith("wan:"):
        time.sleep(float(MODE.split(":")[2]) / 1000)


def log(line):
    with lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def read_body(h):
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return out, True
            out += h.rfile.read(size)
            h.rfile.readline()
    n = int(h.headers.get("Content-Length") or 0)
    return (h.rfile.read(n) if n else b""), False


def forward(method, path, headers, body):
    c = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheaders(), data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "content-length", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def fail(self, status, code):
        body = f"<Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>".encode()
        self.reply(status, [("Content-Type", "application/xml")], body)

    def handle_any(self):
        body, chunked = read_body(self)
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        copy = "x-amz-copy-source" in self.headers
        log(f"{self.command} {self.path}{' copy' if copy else ''}")
        with lock:
            state["seen"] += 1
            seen = state["seen"]
        if MODE.startswith("throttle:") and seen <= int(MODE.split(":")[1]):
            return self.fail(503, "SlowDown")
        if MODE.startswith("fail-part:") and query.get("partNumber") == [MODE.split(":")[1]]:
            return self.fail(500, "InternalError")
        if MODE == "overwrite" and self.command == "POST" and "uploads" in query:
            with lock:
                first = not state["overwritten"]
                state["overwritten"] = True
            if first:
                import boto3  # only this mode needs it: moto refuses unsigned writes

                path = urlsplit(self.path).path
                bucket, key = unquote(path).lstrip("/").split("/", 1)
                boto3.client("s3", endpoint_url=f"http://127.0.0.1:{UPSTREAM}", region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing"
                             ).put_object(Bucket=bucket, Key=key, Body=b"a concurrent writer\r\n")
                log(f"OVERWROTE {path}")
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        if chunked:
            headers["Content-Length"] = str(len(body))
        round_trip()
        pace("up", len(body))
        status, headers, data = forward(self.command, self.path, headers, body)
        pace("down", len(data))
        self.reply(status, headers, data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def do_HEAD(self):  # noqa: F811 - HEAD replies carry no body
        body, _ = read_body(self)
        log(f"HEAD {self.path}")
        with lock:
            state["seen"] += 1
            seen = state["seen"]
        if MODE.startswith("throttle:") and seen <= int(MODE.split(":")[1]):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        round_trip()
        status, headers, _ = forward("HEAD", self.path, dict(self.headers.items()), body)
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
