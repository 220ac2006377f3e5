#!/usr/bin/env python3
"""intake.py - a small story intake on 127.0.0.1 for the sync tests, speaking
the protocol of storykiosk(1) ("HTTP intake"), with faults switched per test.

Usage: intake.py --port-file F --store DIR [--tls CERT KEY] [--token-file T]
                 [--lifetime SECONDS]

Binds 127.0.0.1 on a free port and writes the port to F once it listens.
Accepts POST (any path) with Content-Type application/json, a Content-Length,
an Idempotency-Key and a JSON object body:
  a story {"id": ID, ...} with key ID: stored as DIR/ID.json (the exact bytes
      received); 201, or 409 when DIR/ID.json is already there;
  a withdrawal {"withdrawal": {"id": ID, ...}} with key withdraw-ID: stored as
      DIR/ID.withdrawn; 201, or 409 when already withdrawn.
  A key that does not match the body, a bad id or bad JSON: 400.
With --token-file, every request must carry "Authorization: Bearer TOKEN"
(the file's first line), else 401.

DIR/mode, read on every request, picks the behaviour. Each line is
"BEHAVIOUR [xCOUNT]": a line serves COUNT requests (default 1), then the next
line takes over; the last line serves for ever. Missing or empty: ok. (The
counts start again whenever the file's text changes.) Behaviours:
  ok                 as above
  200-html           200 with a Wi-Fi login page; nothing stored
  400 401 403 404 408 410 413 422 429 500 502 503 504
                     that status with a short body; nothing stored
                     (429 and 503 add Retry-After: 7; 401 adds WWW-Authenticate)
  302                a redirect to /login on this intake; nothing stored
  slow [SECONDS]     wait (default 3 s), then as ok
  drop               read the request, close the connection without answering
  reset              read the request, reset the connection (RST)
  drop-after-store   store the story as ok would, then close without answering
e.g. "ok x2\\n503" answers the first two stories, then 503 for ever.

DIR/stats.json is rewritten after every request: connections, requests, posts,
gets, stored, duplicates, withdrawn, statuses (answers by status), dropped,
authorization_seen, max_requests_per_connection, user_agents, terminals.

Stops after --lifetime seconds (default 300) and on SIGTERM or SIGINT.
Only ever listens on 127.0.0.1.
"""
import argparse
import http.server
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LOGIN_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi</title></head>\n"
              b"<body><h1>Welcome to Hospital Guest Wi-Fi</h1>\n"
              b"<p>Please accept the terms to continue.</p></body></html>\n")
REASONS = {400: "bad request", 401: "unauthorised", 403: "forbidden",
           404: "no such intake", 408: "request timeout", 410: "gone", 413: "too large",
           422: "unprocessable", 429: "too many requests",
           500: "internal error", 502: "bad gateway", 503: "unavailable",
           504: "gateway timeout"}


class Intake:
    """What the intake holds and counts, shared by every connection."""

    def __init__(self, store, token):
        self.store = store
        self.token = token
        self.lock = threading.Lock()
        self.mode_text = None
        self.mode_served = 0
        self.stats = {"connections": 0, "requests": 0, "posts": 0, "gets": 0,
                      "stored": 0, "duplicates": 0, "withdrawn": 0,
                      "statuses": {}, "dropped": 0, "authorization_seen": 0,
                      "max_requests_per_connection": 0, "user_agents": [],
                      "terminals": []}

    def behaviour(self):
        """The behaviour for this request, from DIR/mode."""
        try:
            with open(os.path.join(self.store, "mode"), encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        with self.lock:
            if text != self.mode_text:
                self.mode_text, self.mode_served = text, 0
            lines = [line.split() for line in text.splitlines() if line.strip()]
            if not lines:
                return ["ok"]
            served = self.mode_served
            self.mode_served += 1
            for words in lines[:-1]:
                count = 1
                if len(words) > 1 and re.fullmatch(r"x[0-9]+", words[-1]):
                    count, words = int(words[-1][1:]), words[:-1]
                if served < count:
                    return words
                served -= count
            last = lines[-1]
            return last[:-1] if len(last) > 1 and re.fullmatch(r"x[0-9]+", last[-1]) else last

    def count(self, key, amount=1):
        with self.lock:
            self.stats[key] += amount

    def note(self, key, value):
        with self.lock:
            if value is not None and value not in self.stats[key]:
                self.stats[key].append(value)

    def answered(self, status):
        with self.lock:
            self.stats["statuses"][str(status)] = self.stats["statuses"].get(str(status), 0) + 1

    def write_stats(self):
        with self.lock:
            text = json.dumps(self.stats, indent=1, sort_keys=True)
            path = os.path.join(self.store, "stats.json")
            with open(path + ".new", "w", encoding="utf-8") as f:
                f.write(text + "\n")
            os.replace(path + ".new", path)

    def keep(self, name, body):
        """Store body as DIR/name unless it is there: True when new."""
        path = os.path.join(self.store, name)
        with self.lock:
            if os.path.exists(path):
                return False
            with open(path + ".new", "wb") as f:
                f.write(body)
            os.replace(path + ".new", path)
            return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "intake.py"
    # A client that stops talking must not hold a thread for ever.
    timeout = 60
    # Headers and body go out in two writes: without TCP_NODELAY the second
    # waits for the client's delayed ACK, 40 ms a request on a kept-alive
    # connection.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.intake = self.server.intake
        self.requests_here = 0
        self.intake.count("connections")
        self.intake.write_stats()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("intake: %s %s\n" % (self.address_string(), format % args))

    def begin(self):
        self.requests_here += 1
        self.intake.count("requests")
        with self.intake.lock:
            stats = self.intake.stats
            stats["max_requests_per_connection"] = max(
                stats["max_requests_per_connection"], self.requests_here)

    def answer(self, status, body=b"", content_type="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.intake.answered(status)

    def hang_up(self, reset=False):
        """Close the connection without answering."""
        self.intake.count("dropped")
        self.close_connection = True
        try:
            if reset:
                # Closing with a zero linger time sends RST, not FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):  # pylint: disable=invalid-name
        self.begin()
        self.intake.count("gets")
        self.answer(200, LOGIN_PAGE, "text/html; charset=utf-8")
        self.intake.write_stats()

    def do_POST(self):  # pylint: disable=invalid-name
        self.begin()
        self.intake.count("posts")
        try:
            self.post()
        finally:
            self.intake.write_stats()

    def read_body(self):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return None
        return self.rfile.read(int(length))

    def post(self):
        body = self.read_body()
        if body is None:
            self.answer(411, b"a Content-Length is required\n")
            return
        intake = self.intake
        intake.note("user_agents", self.headers.get("User-Agent"))
        intake.note("terminals", self.headers.get("StoryKiosk-Terminal"))
        authorization = self.headers.get("Authorization")
        if authorization is not None:
            intake.count("authorization_seen")
        if intake.token is not None and authorization != "Bearer " + intake.token:
            self.answer(401, b"a valid bearer token is required\n",
                        headers=[("WWW-Authenticate", 'Bearer realm="intake"')])
            return

        words = intake.behaviour()
        mode = words[0]
        if mode == "slow":
            time.sleep(float(words[1]) if len(words) > 1 else 3.0)
            mode = "ok"
        if mode == "drop":
            self.hang_up()
            return
        if mode == "reset":
            self.hang_up(reset=True)
            return
        if mode == "200-html":
            self.answer(200, LOGIN_PAGE, "text/html; charset=utf-8")
            return
        if mode == "302":
            port = self.server.server_address[1]
            scheme = "https" if self.server.tls is not None else "http"
            self.answer(302, b"<html><body>Moved</body></html>\n", "text/html",
                        [("Location", "%s://127.0.0.1:%d/login" % (scheme, port))])
            return
        if mode.isdigit():
            status = int(mode)
            headers = []
            if status in (429, 503):
                headers.append(("Retry-After", "7"))
            if status == 401:
                headers.append(("WWW-Authenticate", 'Bearer realm="intake"'))
            self.answer(status, ("%d %s\n" % (status, REASONS.get(status, "fault"))).encode(),
                        headers=headers)
            return
        if mode not in ("ok", "drop-after-store"):
            self.answer(500, ("intake.py: unknown mode %r\n" % mode).encode())
            return

        status, message = self.take(body)
        if mode == "drop-after-store":
            self.hang_up()
            return
        self.answer(status, json.dumps({"status": status, "message": message}).encode() + b"\n",
                    "application/json")

    def take(self, body):
        """Check and store one story or withdrawal: (status, message)."""
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return 400, "Content-Type must be application/json"
        key = self.headers.get("Idempotency-Key")
        if key is None:
            return 400, "an Idempotency-Key is required"
        try:
            record = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return 400, "the body is not JSON"
        if not isinstance(record, dict):
            return 400, "the body is not a JSON object"
        intake = self.intake
        if "withdrawal" in record:
            withdrawal = record["withdrawal"]
            story_id = withdrawal.get("id") if isinstance(withdrawal, dict) else None
            if not isinstance(story_id, str) or not SAFE_ID.match(story_id):
                return 400, "the withdrawal has no usable id"
            if key != "withdraw-" + story_id:
                return 400, "the Idempotency-Key does not match the withdrawal's id"
            if not intake.keep(story_id + ".withdrawn", body):
                intake.count("duplicates")
                return 409, "already withdrawn"
            intake.count("withdrawn")
            return 201, "withdrawn"
        story_id = record.get("id")
        if not isinstance(story_id, str) or not SAFE_ID.match(story_id):
            return 400, "the story has no usable id"
        if key != story_id:
            return 400, "the Idempotency-Key does not match the story's id"
        if not intake.keep(story_id + ".json", body):
            intake.count("duplicates")
            return 409, "already held"
        intake.count("stored")
        return 201, "stored"


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tls = None
    intake = None

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, so a client
        # that rejects our certificate cannot stall the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                sys.stderr.write("intake: TLS handshake failed: %s\n" % e)
                self.intake.count("connections")
                with self.intake.lock:
                    self.intake.stats.setdefault("tls_failures", 0)
                    self.intake.stats["tls_failures"] += 1
                self.intake.write_stats()
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            if self.tls is not None:
                request.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--token-file")
    parser.add_argument("--lifetime", type=float, default=300)
    args = parser.parse_args()

    os.makedirs(args.store, exist_ok=True)
    token = None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            token = f.readline().rstrip("\n")

    server = Server(("127.0.0.1", 0), Handler)
    server.intake = Intake(args.store, token)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.tls = context
    server.intake.write_stats()

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.lifetime, stop)
    timer.daemon = True
    timer.start()

    with open(args.port_file + ".new", "w", encoding="utf-8") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(args.port_file + ".new", args.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
