#!/usr/bin/python3
"""blobtool.py: make and inspect test blobs on Azurite (stdlib only).

Talks HTTPS to the blob endpoint with SharedKey auth of the development account
(devstoreaccount1 and its published key), over one keep-alive connection.

    blobtool.py [--url URL] [--cacert CA] COMMAND ...

URL defaults to $AZURITE_URL (https://127.0.0.1:P/devstoreaccount1), CA to $RP_CACERT.
A PATH is "container/blob" (blob names may hold further slashes).

  create-container CONTAINER            (an existing one is fine)
  create-page-blob PATH SIZE            (SIZE a multiple of 512; replaces an existing blob)
  put-pages PATH --from-file F [--offset O]
                                        write F at O (512-aligned; F padded with zeros to 512),
                                        skipping all-zero 512-byte pages, <= 4 MiB per Put Page
  upload-sparse PATH FILE [--create-container]
                                        FILE as a new page blob (size rounded up to 512),
                                        writing only its non-zero pages; prints the ETag
  put-blob PATH FILE                    FILE as a block blob (one Put Blob)
  set-metadata PATH k=v...              replaces the blob's metadata
  snapshot PATH                         prints the snapshot time (the ?snapshot= value)
  get-page-ranges PATH [--snapshot S] [--range S-E] [--xml]
                                        prints "START END" (inclusive) lines, or the raw XML
  head PATH [--snapshot S]              prints status and headers as JSON
  delete PATH
  set-acl CONTAINER [ID,PERMS,START,EXPIRY ...]
                                        replaces the container's stored access policies (Set
                                        Container ACL); START/EXPIRY as T below, or empty
  sas PATH (--expiry T --perms P | --policy ID [--expiry T] [--perms P]) [--start T]
      [--snapshot S] [--version V] [--protocol https] [--ip A] [--resource b|c|bs] [--full-url]
                                        prints a service SAS query string (no "?") signed with
                                        the account key; T is ISO 8601 UTC
                                        (2026-01-02T03:04:05Z) or +SECONDS / -SECONDS from now
                                        (a negative one makes an expired SAS); --policy names a
                                        stored access policy (si=), which then holds what the
                                        SAS leaves out, as managed-disk SAS URLs do
Exit 0 on success; on an HTTP error prints "blobtool: STATUS CODE: message" and exits 1.
"""
import argparse
import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import urllib.parse
import xml.etree.ElementTree as ET

ACCOUNT = "devstoreaccount1"
KEY = base64.b64decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
X_MS_VERSION = "2021-08-06"
SAS_VERSION = "2021-08-06"
PAGE = 512
MAX_PUT = 4 << 20
ZERO_PAGE = bytes(PAGE)


class BlobError(Exception):
    pass


class Client:
    def __init__(self, url, cacert):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "https":
            raise SystemExit("blobtool: only https URLs")
        self.host, self.port = u.hostname, u.port or 443
        self.base = u.path.rstrip("/")  # "/devstoreaccount1"
        self.url = url.rstrip("/")
        self.ctx = ssl.create_default_context(cafile=cacert)
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                timeout=60)

    def request(self, method, path, query=None, headers=None, body=b"", ok=(200, 201, 202)):
        """path: "container[/blob]"; query: dict. Returns (status, headers dict, body)."""
        query = dict(query or {})
        headers = dict(headers or {})
        rpath = self.base + "/" + urllib.parse.quote(path, safe="/")
        headers["x-ms-version"] = X_MS_VERSION
        headers["x-ms-date"] = email.utils.formatdate(usegmt=True)
        headers["Content-Length"] = str(len(body))
        headers["Authorization"] = "SharedKey %s:%s" % (
            ACCOUNT, self._sign(method, rpath, query, headers))
        target = rpath + ("?" + urllib.parse.urlencode(query) if query else "")
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, target, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if r.status not in ok:
            msg = ""
            try:
                m = ET.fromstring(data).find("Message")
                msg = (m.text or "").splitlines()[0] if m is not None else ""
            except ET.ParseError:
                pass
            raise BlobError("%d %s: %s" % (r.status, hdrs.get("x-ms-error-code", "?"), msg))
        return r.status, hdrs, data

    @staticmethod
    def _sign(method, rpath, query, headers):
        h = {k.lower(): v for k, v in headers.items()}

        def g(name):
            v = h.get(name, "")
            return "" if name == "content-length" and v == "0" else v

        parts = [method] + [g(n) for n in (
            "content-encoding", "content-language", "content-length", "content-md5",
            "content-type", "date", "if-modified-since", "if-match", "if-none-match",
            "if-unmodified-since", "range")]
        canon_h = "".join("%s:%s\n" % (k, h[k].strip())
                          for k in sorted(h) if k.startswith("x-ms-"))
        canon_r = "/" + ACCOUNT + rpath
        for k in sorted(query, key=str.lower):
            canon_r += "\n%s:%s" % (k.lower(), query[k])
        sts = "\n".join(parts) + "\n" + canon_h + canon_r
        return base64.b64encode(hmac.new(KEY, sts.encode(), hashlib.sha256).digest()).decode()


def when(text):
    """ISO 8601 UTC, or +N / -N seconds from now -> the SAS time text."""
    if text[:1] in "+-" and text[1:].isdigit():
        t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(text))
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


def make_sas(path, a):
    container, _, blob = path.partition("/")
    sr = a.resource or ("bs" if a.snapshot else ("b" if blob else "c"))
    canon = "/blob/%s/%s" % (ACCOUNT, container) + ("/" + blob if sr != "c" else "")
    st = when(a.start) if a.start else ""
    se = when(a.expiry) if a.expiry else ""
    fields = [a.perms or "", st, se, canon, a.policy or "", a.ip or "", a.protocol or "", a.version, sr,
              a.snapshot or "", "", "", "", "", "", ""]
    sig = base64.b64encode(hmac.new(KEY, "\n".join(fields).encode(),
                                    hashlib.sha256).digest()).decode()
    q = [("sv", a.version)]
    if st:
        q.append(("st", st))
    if se:
        q.append(("se", se))
    q.append(("sr", sr))
    if a.perms:
        q.append(("sp", a.perms))
    if a.policy:
        q.append(("si", a.policy))
    if a.ip:
        q.append(("sip", a.ip))
    if a.protocol:
        q.append(("spr", a.protocol))
    q.append(("sig", sig))
    qs = urllib.parse.urlencode(q, safe=":")
    return qs


def nonzero_runs(data, base):
    """Yield (offset, bytes) of runs of non-zero 512-byte pages in data (len % 512 == 0),
    each at most 4 MiB."""
    mv = memoryview(data)
    n = len(data) // PAGE
    i = 0
    while i < n:
        if mv[i * PAGE:(i + 1) * PAGE] == ZERO_PAGE:
            i += 1
            continue
        j = i + 1
        while j < n and (j - i) * PAGE < MAX_PUT and mv[j * PAGE:(j + 1) * PAGE] != ZERO_PAGE:
            j += 1
        yield base + i * PAGE, bytes(mv[i * PAGE:j * PAGE])
        i = j


def file_chunks(f, size):
    """Yield (offset, data) of 4 MiB pieces of f that may hold data (holes skipped)."""
    fd = f.fileno()
    pos = 0
    while pos < size:
        try:
            pos = os.lseek(fd, pos, os.SEEK_DATA)
            end = os.lseek(fd, pos, os.SEEK_HOLE)
        except OSError:
            return  # ENXIO: no data after pos
        pos -= pos % PAGE
        while pos < end:
            os.lseek(fd, pos, os.SEEK_SET)
            data = os.read(fd, min(MAX_PUT, (end - pos + PAGE - 1) // PAGE * PAGE))
            if not data:
                return
            if len(data) % PAGE:
                data += bytes(PAGE - len(data) % PAGE)
            yield pos, data
            pos += len(data)


def put_pages(c, path, fname, offset):
    if offset % PAGE:
        raise SystemExit("blobtool: --offset must be a multiple of 512")
    count = 0
    with open(fname, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        for pos, data in file_chunks(f, size):
            for off, run in nonzero_runs(data, offset + pos):
                c.request("PUT", path, {"comp": "page"}, {
                    "x-ms-page-write": "update",
                    "x-ms-range": "bytes=%d-%d" % (off, off + len(run) - 1),
                    "Content-Type": "application/octet-stream"}, run)
                count += 1
    return count


def create_page_blob(c, path, size):
    if size % PAGE:
        raise SystemExit("blobtool: a page blob's size must be a multiple of 512")
    _, h, _ = c.request("PUT", path, None, {"x-ms-blob-type": "PageBlob",
                                            "x-ms-blob-content-length": str(size)})
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("AZURITE_URL"))
    ap.add_argument("--cacert", default=os.environ.get("RP_CACERT"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("create-container")
    p.add_argument("container")
    p = sub.add_parser("create-page-blob")
    p.add_argument("path")
    p.add_argument("size", type=int)
    p = sub.add_parser("put-pages")
    p.add_argument("path")
    p.add_argument("--from-file", required=True)
    p.add_argument("--offset", type=int, default=0)
    p = sub.add_parser("upload-sparse")
    p.add_argument("path")
    p.add_argument("file")
    p.add_argument("--create-container", action="store_true")
    p = sub.add_parser("put-blob")
    p.add_argument("path")
    p.add_argument("file")
    p = sub.add_parser("set-metadata")
    p.add_argument("path")
    p.add_argument("pairs", nargs="*")
    p = sub.add_parser("snapshot")
    p.add_argument("path")
    p = sub.add_parser("get-page-ranges")
    p.add_argument("path")
    p.add_argument("--snapshot")
    p.add_argument("--range")
    p.add_argument("--xml", action="store_true")
    p = sub.add_parser("head")
    p.add_argument("path")
    p.add_argument("--snapshot")
    p = sub.add_parser("delete")
    p.add_argument("path")
    p = sub.add_parser("set-acl")
    p.add_argument("container")
    p.add_argument("policies", nargs="*")
    p = sub.add_parser("sas")
    p.add_argument("path")
    p.add_argument("--expiry")
    p.add_argument("--perms")
    p.add_argument("--policy")
    p.add_argument("--start")
    p.add_argument("--snapshot")
    p.add_argument("--version", default=SAS_VERSION)
    p.add_argument("--protocol")
    p.add_argument("--ip")
    p.add_argument("--resource", choices=("b", "c", "bs"))
    p.add_argument("--full-url", action="store_true")
    a = ap.parse_args()
    if not a.url:
        raise SystemExit("blobtool: no --url and no $AZURITE_URL")

    if a.cmd == "sas":
        if not a.policy:
            if not a.expiry:
                raise SystemExit("blobtool: sas needs --expiry (or --policy)")
            if a.perms is None:
                a.perms = "r"
        qs = make_sas(a.path, a)
        if a.full_url:
            url = a.url.rstrip("/") + "/" + urllib.parse.quote(a.path, safe="/") + "?"
            if a.snapshot:
                url += urllib.parse.urlencode({"snapshot": a.snapshot}) + "&"
            qs = url + qs
        print(qs)
        return 0

    c = Client(a.url, a.cacert)
    try:
        if a.cmd == "create-container":
            c.request("PUT", a.container, {"restype": "container"}, ok=(201, 409))
        elif a.cmd == "create-page-blob":
            create_page_blob(c, a.path, a.size)
        elif a.cmd == "put-pages":
            put_pages(c, a.path, a.from_file, a.offset)
        elif a.cmd == "upload-sparse":
            if a.create_container:
                c.request("PUT", a.path.split("/")[0], {"restype": "container"}, ok=(201, 409))
            size = os.path.getsize(a.file)
            create_page_blob(c, a.path, (size + PAGE - 1) // PAGE * PAGE)
            put_pages(c, a.path, a.file, 0)
            _, h, _ = c.request("HEAD", a.path, ok=(200,))
            print(h.get("etag", ""))
        elif a.cmd == "set-acl":
            xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers>"
            for pol in a.policies:
                pid, perms, start, expiry = pol.split(",", 3)
                xml += "<SignedIdentifier><Id>%s</Id><AccessPolicy>" % pid
                if start:
                    xml += "<Start>%s</Start>" % when(start)
                if expiry:
                    xml += "<Expiry>%s</Expiry>" % when(expiry)
                if perms:
                    xml += "<Permission>%s</Permission>" % perms
                xml += "</AccessPolicy></SignedIdentifier>"
            xml += "</SignedIdentifiers>"
            c.request("PUT", a.container, {"restype": "container", "comp": "acl"},
                      {"Content-Type": "application/xml"}, xml.encode())
        elif a.cmd == "put-blob":
            with open(a.file, "rb") as f:
                data = f.read()
            c.request("PUT", a.path, None, {"x-ms-blob-type": "BlockBlob",
                                            "Content-Type": "application/octet-stream"}, data)
        elif a.cmd == "set-metadata":
            hd = {}
            for kv in a.pairs:
                k, sep, v = kv.partition("=")
                if not sep:
                    raise SystemExit("blobtool: metadata must be k=v: " + kv)
                hd["x-ms-meta-" + k] = v
            c.request("PUT", a.path, {"comp": "metadata"}, hd)
        elif a.cmd == "snapshot":
            _, h, _ = c.request("PUT", a.path, {"comp": "snapshot"})
            print(h["x-ms-snapshot"])
        elif a.cmd == "get-page-ranges":
            q = {"comp": "pagelist"}
            if a.snapshot:
                q["snapshot"] = a.snapshot
            hd = {"x-ms-range": "bytes=" + a.range} if a.range else {}
            _, _, body = c.request("GET", a.path, q, hd, ok=(200,))
            if a.xml:
                sys.stdout.write(body.decode())
            else:
                for pr in ET.fromstring(body).iter("PageRange"):
                    print(pr.findtext("Start"), pr.findtext("End"))
        elif a.cmd == "head":
            q = {"snapshot": a.snapshot} if a.snapshot else None
            st, h, _ = c.request("HEAD", a.path, q, ok=(200, 404))
            print(json.dumps({"status": st, "headers": h}, indent=1, sort_keys=True))
        elif a.cmd == "delete":
            c.request("DELETE", a.path, None, {"x-ms-delete-snapshots": "include"}, ok=(202,))
    except BlobError as e:
        print("blobtool: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
