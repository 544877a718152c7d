#!/usr/bin/python3
"""diskserver.py: a loopback stand-in for a managed disk's data endpoint (the md-...
blob.storage.azure.net host a disk grant's SAS URL names) with Entra ID data access.

    diskserver.py --cert C --key K --file DISK --sig SIG [--port-file PF] [--log L]
                  [--demand disk|none|evil] [--tenant T]

One page blob, backed by DISK (its bytes, read and written in place), at any path. Every request
must carry the SAS signature: ?...&sig=SIG (else 403 AuthenticationFailed). Then, as the Blob
service does for a disk whose dataAccessAuthMode is AzureActiveDirectory (docs/azure.md):

  --demand disk  (default) a request without "Authorization: Bearer <token>" whose token (a JWT;
                 the signature is not checked) has aud exactly https://disk.azure.com/ and has
                 not expired is answered
                   401 InvalidAuthenticationInfo
                   WWW-Authenticate: Bearer authorization_uri=https://login.microsoftonline.com/
                                     <tenant>/oauth2/authorize resource_id=https://disk.azure.com/
  --demand evil  the same, but the challenge names resource_id=https://evil.example.invalid/ and
                 a token for that audience would be accepted (a client must not follow it)
  --demand none  the SAS alone is enough (a disk without Entra ID data access)
  --token-uses N each token is accepted N times, then challenged as if it had expired (a
                 client must fetch a new one)

Operations: HEAD (Get Blob Properties: x-ms-blob-type PageBlob, Content-Length, ETag); GET with
Range or x-ms-range (206, Content-Range, If-Match, Content-MD5 when
x-ms-range-get-content-md5: true; a CRC64 request is ignored, as a loose server does); GET
?comp=pagelist (the non-zero 512-byte pages within x-ms-range, merged); PUT ?comp=page (Put Page:
x-ms-page-write update|clear, x-ms-range, 201). x-ms-version must be 2017-11-09 or later with a
bearer token (400 otherwise, as the service says for older versions).

Each request appends one JSON line to the log: {"method", "path", "comp", "range", "sas" (true when sig
matched), "auth" ("none", the token's aud, "malformed", "expired:<aud>" or "used-up:<aud>"),
"version", "status"}. The token
itself is never written anywhere.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

import srvcommon

DISK_AUD = "https://disk.azure.com/"
EVIL_AUD = "https://evil.example.invalid/"
DEFAULT_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def token_aud(auth):
    """The aud of a Bearer JWT, "none" without one, "malformed" if it does not decode, and
    "expired:<aud>" once exp has passed."""
    if not auth:
        return "none"
    m = re.fullmatch(r"Bearer ([A-Za-z0-9_.~+/=-]+)", auth)
    if not m:
        return "malformed"
    parts = m.group(1).split(".")
    if len(parts) != 3:
        return "malformed"
    try:
        pad = "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + pad))
        aud = str(payload["aud"])
        if int(payload.get("exp", 0)) <= time.time():
            return "expired:" + aud
        return aud
    except Exception:  # noqa: BLE001 - any undecodable token is just malformed
        return "malformed"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"

    def log_message(self, fmt, *args):
        pass

    def record(self, status, u, sas, aud):
        st = self.server.state
        q = urllib.parse.parse_qs(u.query)
        line = {"method": self.command, "path": u.path, "comp": (q.get("comp") or [""])[0],
                "range": self.headers.get("x-ms-range") or self.headers.get("Range") or "",
                "sas": sas, "auth": aud, "version": self.headers.get("x-ms-version", ""),
                "status": status}
        with st.lock:
            if st.a.log:
                with open(st.a.log, "a") as f:
                    f.write(json.dumps(line) + "\n")

    def send(self, status, headers=(), body=b"", code=None, length=None):
        self.send_response(status)
        if code:
            self.send_header("x-ms-error-code", code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("x-ms-request-id", "%08x-0000-0000-0000-000000000000" % id(self))
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message, headers=()):
        body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code>'
                "<Message>%s</Message></Error>" % (code, message)).encode()
        self.send(status, list(headers) + [("Content-Type", "application/xml")], body, code)

    def gate(self):
        """Check SAS and token: None when the request may go on, else the status sent."""
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        sas = (q.get("sig") or [""])[0] == st.a.sig
        aud = token_aud(self.headers.get("Authorization"))
        self.u, self.sas, self.aud = u, sas, aud
        if not sas:
            self.error(403, "AuthenticationFailed",
                       "Server failed to authenticate the request. Make sure the value of "
                       "Authorization header is formed correctly including the signature.")
            return 403
        if aud != "none" and self.headers.get("x-ms-version", "") < "2017-11-09":
            self.error(400, "InvalidHeaderValue",
                       "Authentication scheme Bearer is not supported in this version.")
            return 400
        want = {"disk": DISK_AUD, "evil": EVIL_AUD}.get(st.a.demand)
        if want and aud == want and st.a.token_uses and not st.use(self.headers["Authorization"]):
            aud = self.aud = "used-up:" + aud
        if want and aud != want:
            tenant = st.a.tenant or DEFAULT_TENANT
            challenge = ("Bearer authorization_uri=https://login.microsoftonline.com/%s/"
                         "oauth2/authorize resource_id=%s" % (tenant, want))
            self.error(401, "InvalidAuthenticationInfo",
                       "Server failed to authenticate the request. Please refer to the "
                       "information in the www-authenticate header.",
                       [("WWW-Authenticate", challenge)])
            return 401
        return None

    def common(self):
        st = self.server.state
        return [("ETag", st.etag()), ("Last-Modified", st.last_modified),
                ("x-ms-blob-type", "PageBlob"), ("x-ms-version", "2021-08-06")]

    def do_HEAD(self):
        status = self.gate()
        if status is None:
            status = 200
            self.send(200, self.common() + [("Content-Type", "application/octet-stream")],
                      length=len(self.server.state.data))
        self.record(status, self.u, self.sas, self.aud)

    def rng(self):
        h = self.headers.get("x-ms-range") or self.headers.get("Range")
        if not h:
            return None
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", h.strip())
        if not m:
            return False
        return int(m.group(1)), int(m.group(2))

    def do_GET(self):
        status = self.gate()
        if status is None:
            status = self.get()
        self.record(status, self.u, self.sas, self.aud)

    def get(self):
        st = self.server.state
        q = urllib.parse.parse_qs(self.u.query)
        r = self.rng()
        im = self.headers.get("If-Match")
        if im and im != st.etag():
            self.error(412, "ConditionNotMet", "The condition specified using HTTP "
                       "conditional header(s) is not met.")
            return 412
        with st.lock:
            data = bytes(st.data)
        if (q.get("comp") or [""])[0] == "pagelist":
            lo, hi = (r if r else (0, len(data) - 1))
            hi = min(hi, len(data) - 1)
            ranges = []
            for off in range(lo - lo % 512, hi + 1, 512):
                if data[off:off + 512].count(0) != 512:
                    if ranges and ranges[-1][1] + 1 == off:
                        ranges[-1][1] = off + 511
                    else:
                        ranges.append([off, off + 511])
            body = ('<?xml version="1.0" encoding="utf-8"?><PageList>' +
                    "".join("<PageRange><Start>%d</Start><End>%d</End></PageRange>" % (s, e)
                            for s, e in ranges) + "<NextMarker /></PageList>").encode()
            self.send(200, self.common() + [("Content-Type", "application/xml"),
                                            ("x-ms-blob-content-length", str(len(data)))], body)
            return 200
        if r is False or (r and (r[0] > r[1] or r[0] >= len(data))):
            self.error(416, "InvalidRange", "The range specified is invalid for the current "
                       "size of the resource.")
            return 416
        if not r:
            self.send(200, self.common() + [("Content-Type", "application/octet-stream")], data)
            return 200
        lo, hi = r[0], min(r[1], len(data) - 1)
        body = data[lo:hi + 1]
        extra = [("Content-Range", "bytes %d-%d/%d" % (lo, hi, len(data))),
                 ("Content-Type", "application/octet-stream")]
        if self.headers.get("x-ms-range-get-content-md5", "").lower() == "true":
            if len(body) > 4 * 1024 * 1024:
                self.error(400, "OutOfRangeInput", "The requested range is too large.")
                return 400
            extra.append(("Content-MD5", base64.b64encode(hashlib.md5(body).digest()).decode()))
        self.send(206, self.common() + extra, body)
        return 206

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        status = self.gate()
        if status is None:
            status = self.put(body)
        self.record(status, self.u, self.sas, self.aud)

    def put(self, body):
        st = self.server.state
        q = urllib.parse.parse_qs(self.u.query)
        r = self.rng()
        mode = self.headers.get("x-ms-page-write", "")
        if (q.get("comp") or [""])[0] != "page" or not r or mode not in ("update", "clear"):
            self.error(400, "InvalidQueryParameterValue", "only Put Page is served here")
            return 400
        lo, hi = r
        if lo % 512 or (hi + 1) % 512 or hi >= len(st.data) or \
                (mode == "update" and len(body) != hi - lo + 1):
            self.error(416, "InvalidPageRange", "The page range specified is invalid.")
            return 416
        with st.lock:
            st.data[lo:hi + 1] = body if mode == "update" else bytes(hi - lo + 1)
            with open(st.a.file, "r+b") as f:
                f.seek(lo)
                f.write(st.data[lo:hi + 1])
            st.version += 1
        self.send(201, [("ETag", st.etag()), ("Last-Modified", st.last_modified),
                        ("x-ms-request-server-encrypted", "true")])
        return 201


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        with open(a.file, "rb") as f:
            self.data = bytearray(f.read())
        self.version = 1
        self.uses = {}
        self.last_modified = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())

    def use(self, authorization):
        """Count one use of this token (kept as its hash); False once --token-uses ran out."""
        k = hashlib.sha256(authorization.encode()).hexdigest()
        with self.lock:
            self.uses[k] = self.uses.get(k, 0) + 1
            return self.uses[k] <= self.a.token_uses

    def etag(self):
        return '"0x8DC%013X"' % self.version


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--sig", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--demand", choices=("disk", "none", "evil"), default="disk")
    ap.add_argument("--tenant")
    ap.add_argument("--token-uses", type=int, default=0)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a)
    return srvcommon.serve(srv, a.cert, a.key, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
