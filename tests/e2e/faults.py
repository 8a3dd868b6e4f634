"""A fault-injecting HTTP proxy between the function and moto, for the end-to-end fault tests.

    with FaultProxy(moto.endpoint) as proxy:
        proxy.inject("cloudtrail", cloudtrail_error("ThrottlingException", first=1))
        env = {"AWS_ENDPOINT_URL_CLOUDTRAIL": proxy.endpoint, "AWS_ENDPOINT_URL_SNS": proxy.endpoint}
        ...
        proxy.count("cloudtrail", "GetTrailStatus")

The function is pointed at the proxy per service (AWS_ENDPOINT_URL_<SERVICE>; AWS_ENDPOINT_URL
stays moto for everything else). The proxy tells services apart by the SigV4 credential scope
(`.../us-east-1/cloudtrail/aws4_request`), and operations by `X-Amz-Target`
(`CloudTrail_20131101.GetTrailStatus`, awsJson1_1) or the form field `Action` (`Action=Publish`,
SNS's awsQuery). Per service it can:

- pass requests through to moto (the default), counting every request per operation;
- hang: read the request and never answer, until the proxy stops (then the connection is closed);
- answer an HTTP status with the service's own error body (awsJson1_1 `{"__type", "message"}`
  for CloudTrail, query XML `<ErrorResponse>` for SNS);
- either of those for one operation only, and/or for the first N requests of each operation
  (then pass through, so a retry succeeds).

It also works as a forward proxy (HTTP_PROXY pointing at it; the request line's full URL is
forwarded as its path). Given an `ssl.SSLContext` it serves HTTPS instead (test_trusted_roots.py: which certificate
authorities the function trusts).

"Refused" needs no proxy: `RefusingPort` is a loopback port with nothing listening (bound, never
listening, so no other process can take it while it is held) and connections to it are refused.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import re
import socket
import socketserver
import ssl
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# Headers that belong to one hop, not to the request.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te", "upgrade"}


@dataclass
class Fault:
    """What to do instead of forwarding. kind "hang" or "status" (answer status/body)."""

    kind: str
    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    operation: str | None = None  # None: every operation of the service
    first: int | None = None  # fail only the first N requests of each operation, then pass through
    matching: bytes | None = None  # fail only requests whose body holds these bytes (one account's)


def hang(*, operation: str | None = None, first: int | None = None) -> Fault:
    return Fault("hang", operation=operation, first=first)


def cloudtrail_error(code: str, status: int = 400, message: str | None = None, *, operation: str | None = None, first: int | None = None) -> Fault:
    """CloudTrail's awsJson1_1 error: `{"__type": code, "message": ...}` with the status."""
    body = json.dumps({"__type": code, "message": message or f"injected {code} (trailwatch fault test)"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amzn-ErrorType": code, "x-amzn-RequestId": "fault-injected"}
    return Fault("status", status, body, headers, operation, first)


def sns_error(code: str, status: int, message: str | None = None, *, error_type: str = "Sender", operation: str | None = None, first: int | None = None) -> Fault:
    """SNS's awsQuery error document with the status."""
    text = message or f"injected {code} (trailwatch fault test)"
    body = (
        f'<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>{error_type}</Type>'
        f"<Code>{code}</Code><Message>{text}</Message></Error><RequestId>x</RequestId></ErrorResponse>"
    ).encode()
    return Fault("status", status, body, {"Content-Type": "text/xml", "x-amzn-RequestId": "x"}, operation, first)


def dynamodb_error(code: str, status: int = 500, *, operation: str | None = None) -> Fault:
    """DynamoDB's awsJson1_0 error."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": f"injected {code} (trailwatch fault test)"}).encode()
    return Fault("status", status, body, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault-injected"}, operation)


def sts_error(code: str, status: int = 403, message: str | None = None, *, operation: str | None = None, matching: bytes | None = None) -> Fault:
    """STS's awsQuery error document with the status (for requests holding `matching`, if given)."""
    text = message or f"injected {code} (trailwatch fault test)"
    body = (
        f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{text}</Message></Error><RequestId>x</RequestId></ErrorResponse>"
    ).encode()
    return Fault("status", status, body, {"Content-Type": "text/xml", "x-amzn-RequestId": "x"}, operation, matching=matching)


class RefusingPort:
    """A loopback port where connections are refused: bound, never listening."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# REST APIs name the operation by method and path, not in a header or the body.
_REST_OPERATIONS = {
    ("securityhub", "POST", "/findings/import"): "BatchImportFindings",
    ("securityhub", "POST", "/findings"): "GetFindings",
    ("securityhub", "GET", "/accounts"): "DescribeHub",
    ("guardduty", "GET", "/detector"): "ListDetectors",
}


def identify(headers, body: bytes, method: str = "POST", path: str = "/") -> tuple[str, str]:
    """(service, operation) of an AWS request, as the proxy routes and counts it."""
    scope = _CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
    target = headers.get("X-Amz-Target", "")
    service = scope.group(1) if scope else (target.split("_", 1)[0].split(".")[0].lower() or "unknown")
    if target:
        return service, target.rsplit(".", 1)[-1]
    rest = _REST_OPERATIONS.get((service, method, urllib.parse.urlsplit(path).path))
    if rest:
        return service, rest
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
    return service, (form.get("Action") or ["unknown"])[0]


class _Rule:
    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.seen: Counter[str] = Counter()

    def applies(self, operation: str, body: bytes = b"") -> bool:
        """Counts the request when the rule is about it; True when it fails it."""
        if self.fault.operation not in (None, operation):
            return False
        if self.fault.matching is not None and self.fault.matching not in body:
            return False
        self.seen[operation] += 1
        return self.fault.first is None or self.seen[operation] <= self.fault.first


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    # Handler threads are joined by server_close() once stop() has released them.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True


class FaultProxy:
    """The proxy on a free loopback port; `stop()` (or leaving the `with`) ends every connection."""

    def __init__(self, upstream: str, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: serve HTTPS with this server context (the endpoint is then https://)."""
        parsed = urllib.parse.urlsplit(upstream)
        self._upstream = (parsed.hostname, parsed.port)
        self._lock = threading.Lock()
        self._counted = threading.Condition(self._lock)
        self._rules: dict[str, _Rule] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        # Every request body, by (service, operation): what the function asked, to inspect.
        self.bodies: dict[tuple[str, str], list[bytes]] = {}
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self.log: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._connections.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
                with proxy._lock:
                    proxy.log.append(format % args)

            def do_POST(self) -> None:
                proxy._serve(self)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST

        self._server = _Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            # Handshakes happen in accept(); one a client refuses is an OSError there, which the
            # server drops, as a refused certificate drops the connection on a real endpoint.
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.endpoint = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # -------------------------------------------------------------- control

    def inject(self, service: str, fault: Fault | None) -> None:
        """Sets (or with None clears) the fault for a service: "cloudtrail", "sns", ..."""
        with self._lock:
            if fault is None:
                self._rules.pop(service, None)
            else:
                self._rules[service] = _Rule(fault)

    def count(self, service: str, operation: str) -> int:
        """Requests seen for the operation (forwarded or not), since the proxy started."""
        with self._lock:
            return self._counts[(service, operation)]

    def wait_for(self, service: str, operation: str, at_least: int = 1, timeout: float = 5) -> bool:
        """Waits until the proxy has seen `at_least` requests for the operation."""
        with self._counted:
            return self._counted.wait_for(lambda: self._counts[(service, operation)] >= at_least, timeout)

    def counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()  # releases hung requests
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # and connections waiting for their next request
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()  # joins the handler threads
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -------------------------------------------------------------- serving

    def _serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        body = self._read_body(handler)
        service, operation = identify(handler.headers, body, handler.command, handler.path)
        with self._lock:
            self._counts[(service, operation)] += 1
            self.bodies.setdefault((service, operation), []).append(body)
            self._counted.notify_all()
            rule = self._rules.get(service)
            fault = rule.fault if rule is not None and rule.applies(operation, body) else None
        if fault is None:
            self._forward(handler, body)
        elif fault.kind == "hang":
            # Never answer; at stop the connection is closed without a response.
            self._stopping.wait()
            handler.close_connection = True
        else:
            self._answer(handler, fault.status, fault.body, fault.headers)

    @staticmethod
    def _read_body(handler) -> bytes:
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    def _forward(self, handler, body: bytes) -> None:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            # Asked as a forward proxy (HTTP_PROXY), the request line holds the whole URL: moto
            # gets the path alone.
            path = handler.path
            if path.startswith(("http://", "https://")):
                parts = urllib.parse.urlsplit(path)
                path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
            connection.putrequest(handler.command, path, skip_host=True, skip_accept_encoding=True)
            for name, value in handler.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            headers = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            self._answer(handler, response.status, data, headers)
        finally:
            connection.close()

    @staticmethod
    def _answer(handler, status: int, body: bytes, headers: dict[str, str]) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)
