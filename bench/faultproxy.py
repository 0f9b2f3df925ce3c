"""A fault-injecting HTTP proxy on loopback, in front of moto's server (or any AWS endpoint).

Point a client's endpoint (``AWS_ENDPOINT_URL``) at it and a seeded fraction of its requests
goes wrong the way AWS goes wrong, chosen by the target service:

| kind          | S3                         | DynamoDB                                       |
|---------------|----------------------------|------------------------------------------------|
| throttle      | 503 SlowDown (XML)         | 400 ProvisionedThroughputExceededException     |
| error         | 500 InternalError (XML)    | 500 InternalServerError (JSON)                 |
| drop          | connection closed, no response, request never forwarded                     |
| lost-response | forwarded (it takes effect), then the connection closes without a response  |
| latency       | forwarded after 50–300 ms                                                   |

CloudFront gets 400 Throttling / 500 InternalError (XML). The service is told apart by the
``X-Amz-Target`` header (DynamoDB, SQS-JSON), else the SigV4 credential scope, else the path.
Everything else is forwarded unchanged, over one upstream connection per proxy thread.

`outage(seconds)` answers every request with a 500 (the service's InternalError) for that
long: longer than client retries can ride out.
`on_forwarded(service, method, path)`, when set, runs after a request was forwarded and before
its response goes back: a test can change the world while the client holds an answer.

    proxy = FaultProxy("http://127.0.0.1:5000", rate=0.05, seed=7)
    url = proxy.start()   # e.g. http://127.0.0.1:41234
    ...
    proxy.stop(); print(proxy.stats())

Also runnable on its own: ``python bench/faultproxy.py UPSTREAM_URL [--rate 0.05] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import random
import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

KINDS = ("throttle", "error", "drop", "lost-response", "latency", "outage")
# How often each kind is chosen once a request is picked for a fault.
WEIGHTS = {"throttle": 30, "error": 20, "drop": 15, "lost-response": 10, "latency": 25}
LATENCY = (0.05, 0.30)  # seconds

_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "expect", "content-length",
}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")

_S3_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
    "<Message>{message}</Message><RequestId>FAULTPROXY</RequestId></Error>"
)
_CLOUDFRONT_XML = (
    '<?xml version="1.0"?>\n<ErrorResponse><Error><Type>{type}</Type><Code>{code}</Code>'
    "<Message>{message}</Message></Error><RequestId>FAULTPROXY</RequestId></ErrorResponse>"
)
_DYNAMODB_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def service_of(headers, path: str) -> str:
    """dynamodb, sqs, s3, cloudfront or another SigV4 service name (s3 when unsure)."""
    target = headers.get("X-Amz-Target", "")
    if target.startswith("DynamoDB"):
        return "dynamodb"
    if target.startswith("AmazonSQS"):
        return "sqs"
    scope = _SCOPE.search(headers.get("Authorization", ""))
    if scope:
        return scope.group(1)
    if path.startswith("/2020-05-31/distribution"):
        return "cloudfront"
    return "s3"


def canned_response(service: str, kind: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of an AWS-shaped error for `service`."""
    if service == "dynamodb":
        if kind == "throttle":
            status, code = 400, "ProvisionedThroughputExceededException"
            message = "The level of configured provisioned throughput for the table was exceeded."
        else:
            status, code, message = 500, "InternalServerError", "Internal server error"
        body = json.dumps({"__type": _DYNAMODB_PREFIX + code, "message": message})
        return status, "application/x-amz-json-1.0", body.encode()
    if service == "cloudfront":
        if kind == "throttle":
            fields = {"type": "Sender", "code": "Throttling", "message": "Rate exceeded"}
            status = 400
        else:
            fields = {"type": "Receiver", "code": "InternalError",
                      "message": "We encountered an internal error. Please try again."}
            status = 500
        return status, "text/xml", _CLOUDFRONT_XML.format(**fields).encode()
    if kind == "throttle":
        status, code, message = 503, "SlowDown", "Please reduce your request rate."
    else:
        status, code = 500, "InternalError"
        message = "We encountered an internal error. Please try again."
    return status, "application/xml", _S3_XML.format(code=code, message=message).encode()


class FaultProxy:
    """A loopback proxy that injects AWS-style faults into `rate` of the requests it forwards."""

    def __init__(self, upstream: str, *, rate: float = 0.05, seed: int = 7,
                 host: str = "127.0.0.1", port: int = 0,
                 weights: dict[str, int] | None = None):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rate = rate
        self.weights = dict(weights or WEIGHTS)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.faults: Counter[tuple[str, str]] = Counter()  # (service, kind) -> count
        self.requests: Counter[str] = Counter()  # service -> count
        self.upstream_errors = 0
        self.on_forwarded: Callable[[str, str, str], None] | None = None
        self._outage_until = 0.0
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy",
                                        daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def outage(self, seconds: float) -> None:
        """From now on, for `seconds`, every request fails with a 500."""
        with self._lock:
            self._outage_until = time.monotonic() + seconds

    def choose(self, service: str) -> tuple[str | None, float]:
        """The fault for one request (None: forward as is) and, for latency, the delay."""
        with self._lock:
            self.requests[service] += 1
            if time.monotonic() < self._outage_until:
                self.faults[(service, "outage")] += 1
                return "outage", 0.0
            if self.rate <= 0 or self._random.random() >= self.rate:
                return None, 0.0
            kinds = list(self.weights)
            kind = self._random.choices(kinds, [self.weights[k] for k in kinds])[0]
            delay = self._random.uniform(*LATENCY) if kind == "latency" else 0.0
            self.faults[(service, kind)] += 1
            return kind, delay

    def stats(self) -> dict:
        """Requests by service, faults by kind and by service/kind (JSON-ready)."""
        with self._lock:
            by_kind = Counter()
            for (_service, kind), count in self.faults.items():
                by_kind[kind] += count
            return {
                "requests": dict(self.requests),
                "faults": {kind: by_kind.get(kind, 0) for kind in KINDS},
                "faultsByService": {f"{s}/{k}": n for (s, k), n in sorted(self.faults.items())},
                "totalFaults": sum(self.faults.values()),
                "upstreamErrors": self.upstream_errors,
            }

    def _upstream_error(self) -> None:
        with self._lock:
            self.upstream_errors += 1


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    local = threading.local()  # one upstream connection per proxy thread (per client socket)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects

        def setup(self):
            super().setup()  # answers go out in small writes: no Nagle delay on them
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self):
            self._proxy()

        do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

        def log_message(self, format, *args):  # quiet: thousands of requests
            pass

        def _proxy(self) -> None:
            body = self._read_body()
            service = service_of(self.headers, self.path)
            kind, delay = proxy.choose(service)
            if kind == "drop":
                self._drop()
                return
            if kind in ("throttle", "error", "outage"):
                self._send(*canned_response(service, kind))
                return
            if delay:
                time.sleep(delay)
            try:
                status, reason, headers, data = self._forward(body)
            except (OSError, http.client.HTTPException):
                proxy._upstream_error()
                local.connection = None
                self._send(502, "text/plain", b"fault proxy: upstream unreachable")
                return
            if kind == "lost-response":  # the request took effect; its answer never arrives
                self._drop()
                return
            if proxy.on_forwarded is not None:
                try:
                    proxy.on_forwarded(service, self.command, self.path)
                except Exception as exc:  # a hook's failure must not look like AWS's
                    print(f"fault proxy: on_forwarded failed: {exc!r}", file=sys.stderr)
            self.send_response(status, reason)
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            if self.command == "HEAD":  # HEAD tells the object's length without a body
                length = dict((n.lower(), v) for n, v in headers).get("content-length", "0")
                self.send_header("Content-Length", length)
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _forward(self, body: bytes):
            """Send the request upstream; a stale kept-alive socket is retried once, fresh."""
            while True:
                connection = getattr(local, "connection", None)
                reused = connection is not None
                try:
                    if connection is None:
                        connection = local.connection = http.client.HTTPConnection(
                            *proxy.upstream, timeout=60)
                        connection.connect()
                        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    connection.putrequest(self.command, self.path, skip_host=True,
                                          skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        if name.lower() not in _HOP_BY_HOP:
                            connection.putheader(name, value)
                    if body or self.command in ("PUT", "POST"):
                        connection.putheader("Content-Length", str(len(body)))
                    connection.endheaders(body or None)
                    response = connection.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException):
                    if connection is not None:
                        connection.close()
                    local.connection = None
                    if reused:
                        continue
                    raise
                if response.will_close:
                    connection.close()
                    local.connection = None
                return response.status, response.reason, response.getheaders(), data

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("x-amzn-RequestId", "FAULTPROXY")
            if self.command == "HEAD":
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)  # no response, ever

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream", help="where requests go, e.g. http://127.0.0.1:5000")
    parser.add_argument("--rate", type=float, default=0.05, help="fraction of faulty requests")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    proxy = FaultProxy(args.upstream, rate=args.rate, seed=args.seed, port=args.port)
    print(f"fault proxy on {proxy.start()} -> {args.upstream} (rate {args.rate})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        proxy.stop()
        print(json.dumps(proxy.stats(), indent=2))


if __name__ == "__main__":
    main()
