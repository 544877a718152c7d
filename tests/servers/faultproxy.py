#!/usr/bin/python3
"""faultproxy.py: an HTTPS reverse proxy on 127.0.0.1 that injects faults into ranged reads.

    faultproxy.py --upstream https://127.0.0.1:P --cacert CA --cert C --key K
                  --fault-file F --stats-file S [--log L] [--port-file PF] [--port N]

Requests are forwarded to UPSTREAM (same path and query; HTTPS verified with CA; one keep-alive
upstream connection per client connection) with all headers verbatim except the hop-by-hop
ones; answers come back the same way (x-ms-*, Content-MD5, ETag, reason phrase...). HTTP/1.1
keep-alive towards the client.

A "range GET" is a GET with a Range or x-ms-range header and without comp=pagelist. The fault
file F holds one JSON object, re-read on every request; when its text changes the counters
restart (so every newly written fault starts from zero):

  {"mode": "none"}
  {"mode": "reset", "nth": 2}         the Nth range GET: headers and half the body, then a TCP
                                      reset (SO_LINGER 0)
  {"mode": "503", "count": 2, "retry_after": 1, "retry_after_ms": 1000}
                                      COUNT range GETs from the Nth on (by default the first
                                      COUNT) answer 503 ServerBusy with Retry-After and
                                      x-ms-retry-after-ms (not forwarded)
  {"mode": "500", "nth": 1}           the Nth range GET answers 500 InternalError (once)
  {"mode": "stall", "nth": 1, "seconds": 30}
                                      the Nth range GET: headers and half the body, then
                                      nothing for SECONDS, then the connection is closed
  {"mode": "short", "nth": 1}         the Nth range GET: the full Content-Length promised, half
                                      the body sent, then the connection is closed
  {"mode": "flip", "nth": 1, "offset": 0}
                                      the Nth range GET: the byte at OFFSET of the body is
                                      inverted (length and headers unchanged)
  {"mode": "etag", "after": 2}        after AFTER range GETs the proxy advertises a new ETag on
                                      every answer (HEAD, GET, page lists); a request whose
                                      If-Match is not the advertised ETag gets 412
                                      ConditionNotMet, one with the new ETag is forwarded
                                      without If-Match
  {"mode": "swap", "after": 2}        a server that ignores If-Match while the blob changes:
                                      after AFTER range GETs every answer (HEAD, GET) advertises
                                      a new ETag and Last-Modified, If-Match is dropped (never
                                      412), and range GET bodies are another content (every byte
                                      XOR 0xA5) with Content-MD5 (and the simulated CRC64)
                                      computed over the new bytes, so each range is consistent
                                      with its own hash; with "after_requests": K instead of
                                      "after", the change comes after the Kth request of any
                                      kind (1: the HEAD sees the old blob, the next read not)
  {"mode": "trickle", "nth": 1, "count": 1, "rate": 2048}
                                      COUNT range GETs from the Nth on (without "count": every
                                      one from the Nth) send their headers, then the body at
                                      RATE bytes per second (above curl's low-speed limit, so
                                      only a deadline ends them); the rest of the body follows
                                      if the client waits that long
  {"mode": "crc64"}                   no fault; the CRC64 simulation below only
  "crc64": true                       (with any mode) simulate Azure's per-range CRC64: a range
                                      GET whose request has x-ms-range-get-content-crc64: true
                                      goes upstream without that header (Azurite would answer
                                      500 or ignore it) and its 2xx answer gets
                                      x-ms-content-crc64 (CRC-64/NVME of the body, 8 bytes
                                      little-endian, base64), computed before any "flip", so
                                      the client's CRC64 check must catch a flipped byte
Modes for uploads count Put Page requests (PUT with comp=page) instead of range GETs:
  {"mode": "put503", "nth": 1, "count": 2, "retry_after": 1, "retry_after_ms": 1000}
                                      COUNT Put Pages from the Nth on answer 503 ServerBusy
                                      (not forwarded)
  {"mode": "putreset", "nth": 1}      the Nth Put Page: its body is read, the start of a 201
                                      answer is sent, then a TCP reset (not forwarded)
  {"mode": "putflip", "nth": 1, "offset": 0}
                                      the Nth Put Page goes upstream with the byte at OFFSET of
                                      its body inverted and its headers unchanged, so the
                                      service's check of x-ms-content-crc64 / Content-MD5 fails
  {"mode": "drop-put-page", "nth": 1} the Nth Put Page is acknowledged but not stored: its body
                                      is read, nothing is forwarded, and it is answered 201
                                      Created with the headers the service sends (ETag,
                                      Last-Modified, x-ms-blob-sequence-number, the request's
                                      x-ms-content-crc64 or Content-MD5 echoed, ...)
"nth" counts from 1 and defaults to 1; "count" defaults to 1.

The stats file S (rewritten after each request) holds: requests, range_gets, heads,
pagelists, other, injected (count per mode), by_status, fault (the current mode), and the
path of the proxy's request log. The log L has one line per request:
"METHOD PATH RANGE STATUS FAULT" (the query's sig= is replaced by REDACTED).
"""
import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

import srvcommon

HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
       "trailer", "transfer-encoding", "upgrade", "proxy-connection", "expect"}
CHUNK = 1 << 20
CRC64_POLY = 0x9A6C9329AC4BC9B5  # CRC-64/NVME, reflected (docs/azure.md)
CRC64_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ CRC64_POLY if _c & 1 else _c >> 1
    CRC64_TABLE.append(_c)
_CRC64_ZEROS = {}


def crc64_nvme(data):
    """CRC-64/NVME (init ~0, xorout ~0); all-zero bodies are cached by length (Python is slow)."""
    zero = not data.strip(b"\0")
    if zero and len(data) in _CRC64_ZEROS:
        return _CRC64_ZEROS[len(data)]
    crc, t = 0xFFFFFFFFFFFFFFFF, CRC64_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFFFFFFFFFF
    if zero:
        _CRC64_ZEROS[len(data)] = crc
    return crc


def crc64_b64(data):
    return base64.b64encode(struct.pack("<Q", crc64_nvme(data))).decode()


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.fault_text = None
        self.fault = {"mode": "none"}
        self.range_n = 0  # range GETs since the fault was set
        self.req_n = 0  # requests of any kind since the fault was set
        self.put_n = 0  # Put Page requests since the fault was set
        self.new_etag = None
        self.stats = {"requests": 0, "range_gets": 0, "heads": 0, "pagelists": 0, "other": 0,
                      "injected": {}, "by_status": {}, "fault": "none", "log": a.log}
        self.write_stats()

    def reload(self):
        try:
            with open(self.a.fault_file) as f:
                text = f.read()
        except FileNotFoundError:
            text = '{"mode": "none"}'
        if text != self.fault_text:
            self.fault_text = text
            try:
                self.fault = json.loads(text or '{"mode": "none"}')
            except ValueError:
                print("faultproxy: bad fault file: %r" % text, file=sys.stderr)
                self.fault = {"mode": "none"}
            self.range_n = 0
            self.req_n = 0
            self.put_n = 0
            self.new_etag = None
            self.stats["fault"] = self.fault.get("mode", "none")

    def write_stats(self):
        tmp = self.a.stats_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats, f, indent=1, sort_keys=True)
        os.replace(tmp, self.a.stats_file)

    def finish(self, kind, status, fault, line):
        with self.lock:
            self.stats["requests"] += 1
            self.stats[kind] += 1
            k = str(status)
            self.stats["by_status"][k] = self.stats["by_status"].get(k, 0) + 1
            if fault:
                self.stats["injected"][fault] = self.stats["injected"].get(fault, 0) + 1
            self.write_stats()
            if self.a.log:
                with open(self.a.log, "a") as f:
                    f.write(line + "\n")


def error_xml(code, msg):
    return ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s\n'
            'RequestId:%s\nTime:%s</Message></Error>' % (
                code, msg, secrets.token_hex(8),
                time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime()))).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        self.upstream = None

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass
        if self.upstream is not None:
            self.upstream.close()

    def _upstream(self, fresh=False):
        st = self.server.state
        if fresh and self.upstream is not None:
            self.upstream.close()
            self.upstream = None
        if self.upstream is None:
            u = urllib.parse.urlsplit(st.a.upstream)
            if u.scheme == "https":
                ctx = ssl.create_default_context(cafile=st.a.cacert)
                self.upstream = http.client.HTTPSConnection(u.hostname, u.port or 443,
                                                            context=ctx, timeout=120)
            else:
                self.upstream = http.client.HTTPConnection(u.hostname, u.port or 80,
                                                           timeout=120)
        return self.upstream

    def do_GET(self):
        self.handle_any()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = do_GET

    def handle_any(self):
        st = self.server.state
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        rng = self.headers.get("x-ms-range") or self.headers.get("Range") or ""
        if self.command == "HEAD":
            kind = "heads"
        elif self.command == "GET" and q.get("comp") == ["pagelist"]:
            kind = "pagelists"
        elif self.command == "GET" and rng:
            kind = "range_gets"
        else:
            kind = "other"
        with st.lock:
            st.reload()
            fault = dict(st.fault)
            mode = fault.get("mode", "none")
            n = 0
            if kind == "range_gets":
                st.range_n += 1
                n = st.range_n
            put_page = self.command == "PUT" and q.get("comp") == ["page"]
            pn = 0
            if put_page:
                st.put_n += 1
                pn = st.put_n
            st.req_n += 1
            after = int(fault.get("after", 0))
            if "after_requests" in fault:
                changed = st.req_n > int(fault["after_requests"])
            else:
                changed = n > after if kind == "range_gets" else st.range_n >= after
            if mode in ("etag", "swap") and st.new_etag is None and changed:
                st.new_etag = '"0x%s"' % secrets.token_hex(8).upper()
            new_etag = st.new_etag if mode in ("etag", "swap") else None
        nth = int(fault.get("nth", 1))
        act = None
        if kind == "range_gets":
            if mode == "503" and nth <= n < nth + int(fault.get("count", 1)):
                act = "503"
            elif mode in ("reset", "500", "stall", "short", "flip") and n == nth:
                act = mode
            elif mode == "swap" and new_etag is not None:
                act = mode
            elif mode == "trickle" and n >= nth and (
                    "count" not in fault or n < nth + int(fault["count"])):
                act = mode
        if put_page:
            if mode == "put503" and nth <= pn < nth + int(fault.get("count", 1)):
                act = "put503"
            elif mode in ("putreset", "putflip", "drop-put-page") and pn == nth:
                act = mode
        want_crc = (kind == "range_gets" and (mode == "crc64" or fault.get("crc64") is True)
                    and self.headers.get("x-ms-range-get-content-crc64", "").lower() == "true")
        body = b""
        length = self.headers.get("Content-Length")
        if length:
            body = self.rfile.read(int(length))
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP]
        if want_crc:
            headers = [(k, v) for k, v in headers
                       if k.lower() != "x-ms-range-get-content-crc64"]
        if new_etag is not None:
            im = self.headers.get("If-Match")
            if mode == "etag" and im is not None and im != new_etag:
                return self.local(412, "ConditionNotMet",
                                  "The condition specified using HTTP conditional header(s) "
                                  "is not met.", kind, "etag", rng)
            headers = [(k, v) for k, v in headers if k.lower() != "if-match"]
        if act == "put503":
            return self.local(503, "ServerBusy", "The server is busy.", kind, "put503", rng, [
                ("Retry-After", str(fault.get("retry_after", 1))),
                ("x-ms-retry-after-ms", str(fault.get("retry_after_ms", 1000)))])
        if act == "putreset":
            # the start of an answer first: curl silently re-sends a request whose connection
            # died before any header line came, and the client's own retry would go untested
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 201 Created\r\nx-ms-request-id: ")
            self.wfile.flush()
            self.done(kind, 0, act, rng)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            return None
        if act == "drop-put-page":
            self.done(kind, 201, act, rng)
            self.send_response_only(201, "Created")
            self.send_header("ETag", '"0x%s"' % secrets.token_hex(8).upper())
            self.send_header("Last-Modified", time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                            time.gmtime()))
            self.send_header("x-ms-blob-sequence-number", "0")
            self.send_header("x-ms-request-id", secrets.token_hex(8))
            self.send_header("x-ms-version", self.headers.get("x-ms-version", "2021-08-06"))
            self.send_header("x-ms-request-server-encrypted", "true")
            for h in ("x-ms-content-crc64", "Content-MD5"):
                if self.headers.get(h):
                    self.send_header(h, self.headers.get(h))
            self.send_header("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if act == "putflip" and body:
            off = min(int(fault.get("offset", 0)), len(body) - 1)
            body = body[:off] + bytes([body[off] ^ 0xFF]) + body[off + 1:]
        if act == "503":
            return self.local(503, "ServerBusy", "The server is busy.", kind, "503", rng, [
                ("Retry-After", str(fault.get("retry_after", 1))),
                ("x-ms-retry-after-ms", str(fault.get("retry_after_ms", 1000)))])
        if act == "500":
            return self.local(500, "InternalError",
                              "The server encountered an internal error. Please retry the "
                              "request.", kind, "500", rng)
        r = None
        for attempt in (0, 1):
            try:
                c = self._upstream(fresh=attempt > 0)
                c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    if k.lower() == "host":
                        v = "%s:%d" % (c.host, c.port)
                    c.putheader(k, v)
                if body or self.command in ("PUT", "POST"):
                    if not any(k.lower() == "content-length" for k, _ in headers):
                        c.putheader("Content-Length", str(len(body)))
                c.endheaders(body if body else None)
                r = c.getresponse()
                break
            except (http.client.HTTPException, OSError):
                if attempt:
                    return self.local(502, "BadGateway", "upstream failed", kind, None, rng)
        rh = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
        if new_etag is not None:
            rh = [(k, new_etag if k.lower() == "etag" else v) for k, v in rh]
        if mode == "swap" and new_etag is not None:
            rh = [(k, v) for k, v in rh if k.lower() != "last-modified"]
            rh.append(("Last-Modified", "Fri, 01 Jan 2027 00:00:00 GMT"))
        # Each request is logged and counted before its answer goes out: a client that exits on
        # the answer must find it in the log and the stats.
        if self.command == "HEAD":
            r.read()
            self.done(kind, r.status, None, rng)
            return self.send_head(r.status, r.reason, rh)
        clen = r.getheader("Content-Length")
        if act is None and not want_crc and clen is not None and int(clen) > CHUNK:
            # stream big answers (whole-blob reads) instead of buffering them
            self.done(kind, r.status, None, rng)
            self.send_head(r.status, r.reason, rh)
            left = int(clen)
            while left:
                data = r.read(min(CHUNK, left))
                if not data:
                    self.close_connection = True
                    break
                self.wfile.write(data)
                left -= len(data)
            return
        data = r.read()
        if act == "swap" and r.status in (200, 206) and data:
            n = len(data)
            data = (int.from_bytes(data, "little") ^
                    int.from_bytes(b"\xa5" * n, "little")).to_bytes(n, "little")
            if any(k.lower() == "content-md5" for k, _ in rh):
                rh = [(k, v) for k, v in rh if k.lower() != "content-md5"]
                rh.append(("Content-MD5", base64.b64encode(hashlib.md5(data).digest()).decode()))
        rh = [(k, v) for k, v in rh if k.lower() != "content-length"]
        rh.append(("Content-Length", str(len(data))))
        if want_crc and r.status in (200, 206):
            rh = [(k, v) for k, v in rh if k.lower() != "x-ms-content-crc64"]
            rh.append(("x-ms-content-crc64", crc64_b64(data)))
        if act in (None, "swap") or r.status not in (200, 206) or not data:
            self.done(kind, r.status, act if act in ("putflip", "swap") else None, rng)
            self.send_head(r.status, r.reason, rh)
            return self.wfile.write(data)
        half = len(data) // 2
        if act == "trickle":
            self.done(kind, r.status, act, rng)
            self.send_head(r.status, r.reason, rh)
            step = max(1, int(float(fault.get("rate", 2048)) / 10))
            try:
                for i in range(0, len(data), step):
                    self.wfile.write(data[i:i + step])
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                self.close_connection = True
            return None
        if act == "flip":
            off = min(int(fault.get("offset", 0)), len(data) - 1)
            data = data[:off] + bytes([data[off] ^ 0xFF]) + data[off + 1:]
            self.done(kind, r.status, act, rng)
            self.send_head(r.status, r.reason, rh)
            return self.wfile.write(data)
        self.done(kind, r.status, act, rng)
        self.send_head(r.status, r.reason, rh)
        self.wfile.write(data[:half])
        self.wfile.flush()
        self.close_connection = True
        if act == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        elif act == "stall":
            time.sleep(float(fault.get("seconds", 30)))
        # "short" and "stall": a plain close (close_connection) after this

    def send_head(self, status, reason, headers):
        self.send_response_only(status, reason)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def local(self, status, code, msg, kind, fault, rng, extra=()):
        body = error_xml(code, msg)
        self.done(kind, status, fault, rng)
        self.send_response_only(status, msg)
        self.send_header("x-ms-error-code", code)
        self.send_header("x-ms-request-id", secrets.token_hex(8))
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def done(self, kind, status, fault, rng):
        path = re.sub(r"(?i)([?&]sig=)[^&]*", r"\1REDACTED", self.path)
        self.server.state.finish(kind, status, fault, "%s %s %s %d %s" % (
            self.command, path, rng or "-", status, fault or "-"))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--cacert")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--fault-file", required=True)
    ap.add_argument("--stats-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    a.upstream = a.upstream.rstrip("/")
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a)
    return srvcommon.serve(srv, a.cert, a.key, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
