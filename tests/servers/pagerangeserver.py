#!/usr/bin/python3
"""pagerangeserver.py: a page blob with millions of page ranges, generated on the fly.

    pagerangeserver.py --cert C --key K --port-file PF --size BYTES --footer FILE
                       [--ranges N] [--base OFF] [--stride S] [--per-answer P] [--log L]
    pagerangeserver.py --check FILE --size BYTES [--ranges N] [--base OFF] [--stride S]
    pagerangeserver.py --write FILE --size BYTES [--ranges N] [--base OFF] [--stride S]

The blob is SIZE bytes of disk followed by the 512-byte VHD footer read from FILE (as a fixed
VHD page blob is). Page range i (0 <= i < N) is the 512 bytes at BASE + i * STRIDE; STRIDE > 512
leaves a hole after each range, so the ranges cannot be merged and Get Page Ranges lists N of
them. Every other byte of the disk is zero. The bytes of a written page at disk offset o are
PATTERN[o % len(PATTERN)], a fixed pseudo-random pattern whose length (65521, a prime) no
chunk size divides, so a chunk written at the wrong place does not match.

Operations (docs/azure.md "Blob reads"):
  HEAD              Get Blob Properties: Content-Length, ETag, x-ms-blob-type PageBlob.
  GET ?comp=pagelist  Get Page Ranges within x-ms-range (or the whole blob): the ranges that
                    intersect it, unclipped, at most P per answer (default 500000, far more than
                    the service's 10000: a client must not hold an answer), then an opaque
                    NextMarker ("pr/<index>=", so it needs percent-encoding) that the next
                    request hands back as ?marker=. The body is generated while it is sent
                    (chunked), never held.
  GET with Range or x-ms-range   206 with Content-Range; no transport hashes (as a loose
                    server: the client then checks nothing on the way, only the result).
  If-Match other than the ETag is 412 ConditionNotMet.

Faults: --bad-at K lists range K with Start + 1 (not a multiple of 512); --overlap-answers
starts every answer after the first with the last range of the one before; --cut-after K
ends the first answer that lists more than K ranges in its middle, once (the connection closes
without the final chunk).

--write FILE makes the disk (without the footer) as a new sparse raw file: only the written
pages hold bytes, so `cvmrestore seal` of it gives the blob's seal without a download.

Each request appends one JSON line to the log: {"method", "comp", "range", "marker", "ranges"
(page ranges listed), "status"}.

--check FILE compares a restored disk with the blob byte for byte without reading its holes
(SEEK_DATA/SEEK_HOLE): every data extent must hold what the blob holds there, and the file must
be SIZE bytes. Exit 0 if equal, 1 with the first differing offset otherwise.
"""
import argparse
import http.server
import json
import os
import random
import re
import socketserver
import sys
import threading
import urllib.parse

import srvcommon

PLEN = 65521
PATTERN = bytes(random.Random(20261206).getrandbits(8) for _ in range(PLEN))
# PATTERN twice, so that any 1 MiB window starting inside it is one slice
PAT2 = PATTERN * (1 + (1 << 20) // PLEN + 1)


class Layout:
    def __init__(self, a):
        self.size, self.n, self.base, self.stride = a.size, a.ranges, a.base, a.stride
        if a.stride < 512 or a.stride % 512 or a.base % 512:
            sys.exit("stride and base must be multiples of 512 (stride >= 512)")
        if a.base + (a.ranges - 1) * a.stride + 512 > a.size:
            sys.exit("the ranges do not fit in the disk")

    def first_at_or_after(self, off):
        """Index of the first range whose end is >= off."""
        if off <= self.base + 511:
            return 0
        return min(self.n, (off - self.base - 511 + self.stride - 1) // self.stride)

    def last_at_or_before(self, off):
        """Index + 1 of the last range whose start is <= off."""
        if off < self.base:
            return 0
        return min(self.n, (off - self.base) // self.stride + 1)

    def read(self, lo, hi):
        """The disk bytes [lo, hi] (hi < size)."""
        out = bytearray(hi - lo + 1)
        i, z = self.first_at_or_after(lo), self.last_at_or_before(hi)
        while i < z:
            s = self.base + i * self.stride
            a, b = max(s, lo), min(s + 511, hi)
            k = a % PLEN
            out[a - lo:b - lo + 1] = PAT2[k:k + b - a + 1]
            i += 1
        return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"
    # An answer goes out in several small writes: without TCP_NODELAY each waits for the
    # client's delayed ACK (40 ms), which at 65536 listing windows (64 TiB) is 45 minutes.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def record(self, status, comp="", rng="", marker="", ranges=0):
        st = self.server.state
        if not st.a.log:
            return
        line = {"method": self.command, "comp": comp, "range": rng, "marker": marker,
                "ranges": ranges, "status": status}
        with st.lock, open(st.a.log, "a") as f:
            f.write(json.dumps(line) + "\n")

    def common(self):
        return [("ETag", self.server.state.etag), ("x-ms-blob-type", "PageBlob"),
                ("Last-Modified", "Sun, 06 Dec 2026 00:00:00 GMT"),
                ("x-ms-request-id", "00000000-0000-0000-0000-%012x" % id(self))]

    def send(self, status, headers, body=b"", length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code>'
                "<Message>%s</Message></Error>" % (code, message)).encode()
        self.send(status, self.common() + [("x-ms-error-code", code),
                                           ("Content-Type", "application/xml")], body)

    def do_HEAD(self):
        self.send(200, self.common() + [("Content-Type", "application/octet-stream")],
                  length=self.server.state.total)
        self.record(200)

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        h = self.headers.get("x-ms-range") or self.headers.get("Range")
        r = None
        if h:
            m = re.fullmatch(r"bytes=(\d+)-(\d+)", h.strip())
            r = (int(m.group(1)), int(m.group(2))) if m else False
        comp = (q.get("comp") or [""])[0]
        im = self.headers.get("If-Match")
        if im and im != st.etag:
            self.error(412, "ConditionNotMet", "The condition specified using HTTP "
                       "conditional header(s) is not met.")
            self.record(412, comp, h or "")
            return
        if r is False or (r and (r[0] > r[1] or r[0] >= st.total)):
            self.error(416, "InvalidRange", "The range specified is invalid for the current "
                       "size of the resource.")
            self.record(416, comp, h or "")
            return
        if comp == "pagelist":
            self.pagelist(r, (q.get("marker") or [""])[0], h or "")
            return
        lo, hi = r if r else (0, st.total - 1)
        hi = min(hi, st.total - 1)
        body = st.lay.read(lo, min(hi, st.lay.size - 1)) if lo < st.lay.size else bytearray()
        if hi >= st.lay.size:
            f0 = max(lo, st.lay.size) - st.lay.size
            body += st.footer[f0:hi - st.lay.size + 1]
        extra = [("Content-Type", "application/octet-stream")]
        if r:
            extra.append(("Content-Range", "bytes %d-%d/%d" % (lo, hi, st.total)))
        self.send(206 if r else 200, self.common() + extra, bytes(body))
        self.record(206 if r else 200, "", h or "")

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def pagelist(self, r, marker, h):
        st, lay = self.server.state, self.server.state.lay
        lo, hi = r if r else (0, st.total - 1)
        i, z = lay.first_at_or_after(lo), lay.last_at_or_before(hi)
        if marker:
            m = re.fullmatch(r"pr/(\d+)=", marker)
            if not m or int(m.group(1)) < i:
                self.error(400, "InvalidQueryParameterValue", "bad marker")
                self.record(400, "pagelist", h, marker)
                return
            i = int(m.group(1)) - (1 if st.a.overlap_answers else 0)
        stop = min(z, i + st.a.per_answer)
        self.send_response(200)
        for k, v in self.common() + [("Content-Type", "application/xml"),
                                     ("x-ms-blob-content-length", str(st.total)),
                                     ("Transfer-Encoding", "chunked")]:
            self.send_header(k, v)
        self.end_headers()
        self.chunk(b'<?xml version="1.0" encoding="utf-8"?>\n<PageList>')
        n = stop - i
        i0 = i
        while i < stop:
            k = min(stop, i + 8192)
            text = "".join("<PageRange><Start>%d</Start><End>%d</End></PageRange>"
                           % (s, s + 511) for s in range(lay.base + i * lay.stride,
                                                         lay.base + k * lay.stride,
                                                         lay.stride))
            if st.a.cut_after >= 0 and not st.cut_done and k - i0 > st.a.cut_after:
                # once: end the connection in the middle of the answer, as a dropped
                # connection does
                st.cut_done = True
                self.chunk(text[:len(text) // 2].encode())
                self.wfile.flush()
                self.close_connection = True
                self.record(200, "pagelist", h, marker, -1)
                return
            if i <= st.a.bad_at < k:
                s = lay.base + st.a.bad_at * lay.stride
                text = text.replace("<Start>%d<" % s, "<Start>%d<" % (s + 1))
            self.chunk(text.encode())
            i = k
        nm = "<NextMarker>pr/%d=</NextMarker>" % stop if stop < z else "<NextMarker />"
        self.chunk((nm + "</PageList>").encode())
        self.wfile.write(b"0\r\n\r\n")
        self.record(200, "pagelist", h, marker, n)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class State:
    def __init__(self, a):
        self.a = a
        self.lay = Layout(a)
        with open(a.footer, "rb") as f:
            self.footer = f.read()
        if len(self.footer) != 512:
            sys.exit("the footer must be 512 bytes")
        self.total = a.size + 512
        self.etag = '"0x8DD1A2B3C4D5E6F"'
        self.lock = threading.Lock()
        self.cut_done = False


def check(a):
    lay = Layout(a)
    fd = os.open(a.check, os.O_RDONLY)
    covered = 0  # written pages that lie wholly in data extents (a hole reads as zeros)
    try:
        if os.fstat(fd).st_size != a.size:
            print("size %d, want %d" % (os.fstat(fd).st_size, a.size), file=sys.stderr)
            return 1
        off = 0
        while off < a.size:
            try:
                d = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            e = os.lseek(fd, d, os.SEEK_HOLE)
            first = 0 if d <= lay.base else min(lay.n, -(-(d - lay.base) // lay.stride))
            covered += max(0, lay.last_at_or_before(e - 512) - first) if e >= 512 else 0
            while d < e:
                n = min(e - d, 1 << 20)
                got = os.pread(fd, n, d)
                want = lay.read(d, d + n - 1)
                if got != want:
                    j = next(k for k in range(n) if got[k] != want[k])
                    print("differs at offset %d" % (d + j), file=sys.stderr)
                    return 1
                d += n
            off = e
    finally:
        os.close(fd)
    if covered != lay.n:
        print("%d of %d written pages are holes" % (lay.n - covered, lay.n), file=sys.stderr)
        return 1
    return 0


def write(a):
    """The disk as a sparse raw file at a.write (created, never replaced)."""
    lay = Layout(a)
    fd = os.open(a.write, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, lay.size)
        for i in range(lay.n):
            s = lay.base + i * lay.stride
            os.pwrite(fd, lay.read(s, s + 511), s)
    finally:
        os.close(fd)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port-file")
    ap.add_argument("--footer")
    ap.add_argument("--log")
    ap.add_argument("--check")
    ap.add_argument("--write")
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--ranges", type=int, default=2000000)
    ap.add_argument("--base", type=int, default=0)
    ap.add_argument("--stride", type=int, default=1024)
    ap.add_argument("--per-answer", type=int, default=500000)
    ap.add_argument("--bad-at", type=int, default=-1)
    ap.add_argument("--overlap-answers", action="store_true")
    ap.add_argument("--cut-after", type=int, default=-1)
    a = ap.parse_args()
    if a.check:
        return check(a)
    if a.write:
        return write(a)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = State(a)
    return srvcommon.serve(srv, a.cert, a.key, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
