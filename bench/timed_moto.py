"""moto's server (`moto_server`), with each request's time inside moto recorded.

bench/run.py starts this instead of `moto_server` to learn how much of an invocation was spent
in moto. For every request it records the AWS action and time.monotonic() when the server began
to handle it (right after reading the request line and headers) and when the answer had been
written back: werkzeug's environ building, moto itself, the request log line and the response
write. CLOCK_MONOTONIC is system-wide on Linux, so the bench process can compare these times
with its own invocation start and end.

GET /__bench/timings returns the records as JSON and forgets them. Everything else is moto's:
its own arguments (-H, -p), request handler and reset endpoint.
"""

import io
import json
import threading
import time
import urllib.parse

import moto.server as server

TIMINGS_PATH = "/__bench/timings"
_records = []
_lock = threading.Lock()
_current = threading.local()  # the record of the request this server thread is handling


def _action(environ, body):
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocol (CloudTrail): ...CloudTrail_20131101.GetTrailStatus
        return target.rsplit(".", 1)[-1]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))  # query protocol (SNS, SQS)
        if "Action" in form:
            return form["Action"][0]
    return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"


class Actions:
    """WSGI middleware: notes each request's action in its record, and serves the timings."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == TIMINGS_PATH:
            with _lock:
                payload = json.dumps(_records).encode()
                _records.clear()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        record = getattr(_current, "record", None)
        if record is not None:
            record[2] = _action(environ, body)
        return self.app(environ, start_response)


def timed(handler_class):
    class TimedRequestHandler(handler_class):
        def run_wsgi(self):
            if self.path.startswith(TIMINGS_PATH):
                _current.record = None
                return super().run_wsgi()
            # Listed at once, its end filled in later: the client may have its answer (and ask
            # for the timings) before this thread gets to note the end. An end of null means
            # "not yet noted"; the reader cuts it off at the end of its own window.
            record = _current.record = [time.monotonic(), None, "?"]
            with _lock:
                _records.append(record)
            try:
                return super().run_wsgi()
            finally:
                record[1] = time.monotonic()

    return TimedRequestHandler


def run_simple(host, port, app, request_handler=None, **options):
    from werkzeug.serving import WSGIRequestHandler

    handler = timed(request_handler or WSGIRequestHandler)
    return _run_simple(host, port, Actions(app), request_handler=handler, **options)


_run_simple = server.run_simple
server.run_simple = run_simple

if __name__ == "__main__":
    server.main()
