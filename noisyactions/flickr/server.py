"""An embedded Flickr-compatible REST server over the synthetic world, on loopback.

A stock `flickrapi.FlickrAPI` whose REST_URL points here works unchanged: it POSTs form bodies and
signs with OAuth1 (the key arrives as `oauth_consumer_key` in the Authorization header); plain GETs
with `api_key` work too. Play URLs redirect, as Flickr's do, to the file that backs them.

Run it alone:  python -m noisyactions.flickr.server --config config/config.yaml
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import threading
import time
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

import av

from noisyactions.flickr.catalog import Catalog
from noisyactions.flickr.faults import MESSAGES, REST_FAULTS, TRANSPORT_FAULTS, FaultInjector
from noisyactions.flickr.methods import PER_PHOTO_METHODS, STILLS, VIDEO_SIZES, FlickrFailure, FlickrMethods, to_json
from noisyactions.world.layout import WorldLayout

REST_PATH = "/services/rest/"
EMBEDDED_KEY = "embedded-key"
"""The key the server accepts when flickr.server.api_key is null and the crawler names none."""
_OAUTH_KEY = re.compile(r'oauth_consumer_key="([^"]*)"')
_PLAY = re.compile(r"^/photos/([^/]+)/(\d+)/play/(site|mobile|hd|orig)/([0-9a-f]+)/?$")
_VIDEO = re.compile(r"^/videos/(\d+)_([0-9a-f]+)_(site|mobile|hd|orig)\.mp4$")
_STILL = re.compile(r"^/stills/\d+/(\d+)_([0-9a-f]+)_([a-z]+)\.jpg$")
ERROR_PAGE = "<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"


def to_xml(tag: str, value) -> str:
    """Flickr's REST (XML) format: scalars are attributes, `_content` is text, lists repeat the tag."""
    if isinstance(value, list):
        return "".join(to_xml(tag, item) for item in value)
    if not isinstance(value, dict):
        return f"<{tag}>{escape(str(value))}</{tag}>"
    attributes = "".join(f" {k}={quoteattr(str(v))}" for k, v in value.items() if not isinstance(v, (dict, list)) and k != "_content")
    children = "".join(to_xml(k, v) for k, v in value.items() if isinstance(v, (dict, list)))
    text = escape(str(value.get("_content", "")))
    return f"<{tag}{attributes}>{text}{children}</{tag}>"


class CallLog:
    """One line per REST call: arrival time, serving process, method. Every crawl job's server appends to the
    same file; on one host, O_APPEND and one write per line keep each line whole."""

    def __init__(self, path: str):
        self._file = open(path, "a", buffering=1)
        self._lock = threading.Lock()

    def record(self, arrived: float, method: str) -> None:
        with self._lock:
            if self._file is not None:  # a request still being answered after close() goes unlogged
                self._file.write(f"{arrived!r} {os.getpid()} {method}\n")

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class EmbeddedFlickr:
    """The application: routes a request to a Flickr method or a file, with counting and faults."""

    def __init__(self, layout: WorldLayout, server: dict):
        self.catalog = Catalog(layout.web_metadata, layout.web_videos)
        self.api_key = server.get("api_key") or EMBEDDED_KEY
        self.result_cap, self.max_page = server["result_cap"], server["max_page"]
        self.faults = FaultInjector(server.get("faults", {}))
        self.methods: FlickrMethods | None = None  # needs the bound address: set by EmbeddedFlickrServer
        self.call_counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.call_log: CallLog | None = None  # opened by EmbeddedFlickrServer once its port is bound

    def count(self, name: str) -> None:
        with self._count_lock:
            self.call_counts[name] += 1

    # -- REST -----------------------------------------------------------------------------------------
    def rest(self, params: dict, authorization: str) -> tuple[dict, str | None]:
        """The answer to one REST call (before formatting) and the transport fault to apply, if any."""
        method = params.get("method", "")
        if self.call_log is not None:
            self.call_log.record(time.time(), method)
        self.count(method)
        allowed = REST_FAULTS if method in PER_PHOTO_METHODS else tuple(k for k in REST_FAULTS if k != "code_1")
        fault = self.faults.draw(allowed)
        try:
            key = params.get("api_key") or next(iter(_OAUTH_KEY.findall(authorization)), "")
            if unquote(key) != self.api_key:
                raise FlickrFailure(100, "Invalid API Key (Key not found)" if not key else MESSAGES[100])
            if fault and fault.startswith("code_"):
                code = int(fault.split("_")[1])
                raise FlickrFailure(code, MESSAGES[code])
            answer = {**self.methods.call(method, params), "stat": "ok"}
        except FlickrFailure as failure:
            answer = {"stat": "fail", "code": failure.code, "message": failure.message}
        return answer, fault if fault in TRANSPORT_FAULTS else None

    @staticmethod
    def render(answer: dict, params: dict) -> tuple[bytes, str]:
        """Format an answer as the request asked: json (with or without callback) or rest (XML)."""
        fmt = params.get("format", "rest")
        if fmt == "json":
            body = to_json(answer)
            if params.get("nojsoncallback") != "1":
                body = f"{params.get('jsoncallback', 'jsonFlickrApi')}({body})"
            return body.encode(), "application/json; charset=utf-8"
        if fmt != "rest":
            answer = {"stat": "fail", "code": 111, "message": f'Format "{fmt}" not found'}
        if answer["stat"] == "ok":
            inner = "".join(to_xml(k, v) for k, v in answer.items() if k != "stat")
        else:
            inner = f"<err code={quoteattr(str(answer['code']))} msg={quoteattr(answer['message'])} />"
        body = f'<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat={quoteattr(answer["stat"])}>\n{inner}\n</rsp>\n'
        return body.encode(), "text/xml; charset=utf-8"

    # -- files ----------------------------------------------------------------------------------------
    def photo_for(self, photo_id: str, secret: str, part: str | None = None) -> dict | None:
        photo = self.catalog.by_id.get(photo_id)
        if photo is None or photo["secret"] != secret:
            return None
        if part is not None and part not in {VIDEO_SIZES[label][0] for label in photo["sizes"]}:
            return None
        return photo

    @lru_cache(maxsize=1024)
    def still_jpeg(self, photo_id: str, suffix: str) -> bytes:
        """A JPEG of the video's first frame: what Flickr's url_* extras point to for a video."""
        with av.open(str(self.catalog.video_path(photo_id))) as container:
            frame = next(container.decode(video=0)).to_image()
        longest = STILLS[suffix][1] or max(frame.size)
        if longest < max(frame.size):
            frame.thumbnail((longest, longest))
        buffer = io.BytesIO()
        frame.convert("RGB").save(buffer, format="JPEG", quality=85)
        return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a crawler's session reuses its connection
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, +40 ms each
    server_version = "noisyactions-embedded-flickr/1.0"

    @property
    def app(self) -> EmbeddedFlickr:
        return self.server.app  # type: ignore[attr-defined]

    def log_message(self, *args) -> None:  # the server is hit thousands of times a second in benchmarks
        pass

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length))

    def _dispatch(self, body: bytes) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") == REST_PATH.rstrip("/"):
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            answer, fault = self.app.rest(params, self.headers.get("Authorization", ""))
            payload, content_type = self.app.render(answer, params)
            self._send(200, payload, content_type, fault)
        elif url.path == "/stats":
            self._send(200, json.dumps(dict(self.app.call_counts)).encode(), "application/json")
        elif match := _PLAY.match(url.path):
            owner, photo_id, part, secret = match.groups()
            self.app.count("play")
            photo = self.app.photo_for(photo_id, secret, part)
            if photo is None or photo["owner"] != owner:
                return self._error(404, "Not Found")
            fault = self.app.faults.draw(TRANSPORT_FAULTS)
            self._send(302, b"", "text/html", fault, {"Location": f"{self.app.methods.base_url}/videos/{photo_id}_{secret}_{part}.mp4"})
        elif match := _VIDEO.match(url.path):
            photo_id, secret, part = match.groups()
            self.app.count("video")
            if self.app.photo_for(photo_id, secret, part) is None:
                return self._error(404, "Not Found")
            fault = self.app.faults.draw(TRANSPORT_FAULTS)
            self._send(200, self.app.catalog.video_path(photo_id).read_bytes(), "video/mp4", fault)
        elif (match := _STILL.match(url.path)) and match.group(3) in STILLS:
            photo_id, secret, suffix = match.groups()
            self.app.count("still")
            if self.app.photo_for(photo_id, secret) is None:
                return self._error(404, "Not Found")
            self._send(200, self.app.still_jpeg(photo_id, suffix), "image/jpeg", self.app.faults.draw(TRANSPORT_FAULTS))
        else:
            self._error(404, "Not Found")

    def _error(self, status: int, reason: str) -> None:
        self._send(status, ERROR_PAGE.format(status=status, reason=reason).encode(), "text/html; charset=utf-8")

    def _send(self, status: int, payload: bytes, content_type: str, fault: str | None = None, headers: dict | None = None) -> None:
        if fault == "slow":
            time.sleep(self.app.faults.slow_seconds)
        elif fault == "http_429":
            return self._send(429, ERROR_PAGE.format(status=429, reason="Too Many Requests").encode(), "text/html; charset=utf-8")
        elif fault == "http_5xx":
            status = self.app.faults.server_error_status()
            reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
            return self._send(status, ERROR_PAGE.format(status=status, reason=reason).encode(), "text/html; charset=utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if fault == "truncated":
            # The connection drops mid-body: the client sees fewer bytes than Content-Length promised.
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


class _SharedPortHTTPServer(ThreadingHTTPServer):
    # Several jobs (crawl shards, downloads) each run a server over the same world on the same fixed
    # port, so a URL recorded by one job still answers in the next; the kernel spreads connections.
    allow_reuse_port = True


class EmbeddedFlickrServer:
    """The server on a background thread: `with EmbeddedFlickrServer(layout, cfg) as s: s.rest_url`."""

    def __init__(self, layout: WorldLayout, server: dict):
        self.app = EmbeddedFlickr(layout, server)
        self.httpd = _SharedPortHTTPServer((server["host"], server["port"]), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.app = self.app  # type: ignore[attr-defined]
        host, port = self.httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.app.methods = FlickrMethods(self.app.catalog, self.base_url, self.app.result_cap, self.app.max_page)
        self.app.call_log = CallLog(server["call_log"]) if server.get("call_log") else None
        self._thread: threading.Thread | None = None

    @property
    def rest_url(self) -> str:
        return self.base_url + REST_PATH

    @property
    def call_counts(self) -> dict[str, int]:
        return dict(self.app.call_counts)

    def start(self) -> "EmbeddedFlickrServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="embedded-flickr", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.close()

    def close(self) -> None:
        """Release the port and the call log (after serve_forever has returned)."""
        self.httpd.server_close()
        if self.app.call_log is not None:
            self.app.call_log.close()

    def __enter__(self) -> "EmbeddedFlickrServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    from noisyactions.config import load_config

    parser = argparse.ArgumentParser(description="Serve the embedded world as a Flickr-compatible REST API.")
    parser.add_argument("--config", default="config/config.yaml", help="workflow config (world.root, flickr.server)")
    parser.add_argument("--port", type=int, help="override flickr.server.port (0 picks a free port)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    server_cfg = dict(config["flickr"]["server"])
    if args.port is not None:
        server_cfg["port"] = args.port
    layout = WorldLayout(config["world"]["root"])
    if not layout.web_metadata.exists():
        raise SystemExit(f"{layout.web_metadata} does not exist: build the world first (snakemake --cores 2 world)")
    server = EmbeddedFlickrServer(layout, server_cfg)
    print(f"Embedded Flickr REST API at {server.rest_url} (api key: {server.app.api_key!r}); Ctrl-C stops it.", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
