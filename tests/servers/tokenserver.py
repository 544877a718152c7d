#!/usr/bin/python3
"""tokenserver.py: a loopback stand-in for IMDS and the Entra ID (AAD) token endpoint.

    tokenserver.py [--tls --cert C --key K] [--port N] [--port-file PF] [--log L]
                   [--stats-file S] [--expires-in SECONDS] [--client-id ID]
                   [--client-secret SECRET] [--tenant T] [--fail-first N] [--fail-status CODE]

Managed identity (IMDS; plain HTTP unless --tls):
  GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R   (header Metadata: true)
    200 {"access_token", "expires_in", "expires_on", "ext_expires_in", "not_before",
         "resource", "token_type": "Bearer", "client_id"}   (numbers as strings, as IMDS does)
    400 {"error": "invalid_request", ...} without "Metadata: true", without api-version or
        without resource
Client credentials:
  POST /<tenant>/oauth2/v2.0/token   form: grant_type=client_credentials, client_id,
                                     client_secret, scope=<audience>/.default
    200 {"token_type": "Bearer", "expires_in": N, "ext_expires_in": N, "access_token"}
    400 {"error": "unsupported_grant_type" | "invalid_request" | "invalid_scope", ...}
    401 {"error": "invalid_client", ...} on a wrong secret or client id (AADSTS7000215)
    (--tenant, if given, must match <tenant>; else 400 invalid_tenant)

Tokens are JWT-shaped (header.payload.signature, base64url): the payload carries aud (the
resource or the scope without "/.default"), iss https://sts.windows.net/<tenant>/, iat, nbf,
exp (now + --expires-in), oid, tid, appid and a random jti; the signature part is 32 random
bytes. So the token is unguessable, and Azurite's `--oauth basic` (which checks aud, iss and
the times, not the signature) accepts it for aud https://storage.azure.com.

--fail-first N answers the first N token requests (of either kind) with --fail-status (default
500; 429 and 503 also send Retry-After: 1) for retry tests.
Every issued token is appended to the log as one JSON line {"time", "kind", "resource",
"client_id", "access_token", "expires_on"}. The stats file holds counts: requests, imds,
client_credentials, issued, rejected, failed_injected.
"""
import argparse
import base64
import http.server
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

import srvcommon

DEFAULT_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.stats = {"requests": 0, "imds": 0, "client_credentials": 0, "issued": 0,
                      "rejected": 0, "failed_injected": 0, "other": 0}
        self.mi_client_id = "f1a2b3c4-0000-4000-8000-%012x" % secrets.randbits(48)
        self.save()

    def save(self):
        if not self.a.stats_file:
            return
        tmp = self.a.stats_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats, f, indent=1, sort_keys=True)
        os.replace(tmp, self.a.stats_file)

    def count(self, *keys):
        with self.lock:
            for k in keys:
                self.stats[k] += 1
            self.save()

    def take_failure(self):
        with self.lock:
            if self.stats["failed_injected"] < self.a.fail_first:
                self.stats["failed_injected"] += 1
                self.save()
                return True
            return False

    def mint(self, kind, aud, tenant, client_id):
        now = int(time.time())
        exp = now + self.a.expires_in
        payload = {"aud": aud, "iss": "https://sts.windows.net/%s/" % tenant, "iat": now,
                   "nbf": now - 60, "exp": exp, "oid": client_id, "sub": client_id,
                   "tid": tenant, "appid": client_id, "ver": "1.0",
                   "jti": secrets.token_hex(16)}
        tok = ".".join([b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()),
                        b64url(json.dumps(payload, separators=(",", ":")).encode()),
                        b64url(secrets.token_bytes(32))])
        with self.lock:
            self.stats["issued"] += 1
            self.save()
            if self.a.log:
                with open(self.a.log, "a") as f:
                    f.write(json.dumps({"time": now, "kind": kind, "resource": aud,
                                        "client_id": client_id, "access_token": tok,
                                        "expires_on": exp}) + "\n")
        return tok, now, exp


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenserver"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def injected(self):
        st = self.server.state
        if not st.take_failure():
            return False
        code = st.a.fail_status
        extra = [("Retry-After", "1")] if code in (429, 503) else []
        self.reply(code, {"error": "temporarily_unavailable",
                          "error_description": "injected failure %d" % code}, extra)
        return True

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/metadata/identity/oauth2/token":
            st.count("requests", "other")
            return self.reply(404, {"error": "not_found"})
        st.count("requests", "imds")
        if self.injected():
            return None
        q = urllib.parse.parse_qs(u.query)
        if self.headers.get("Metadata", "").lower() != "true":
            st.count("rejected")
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required metadata header not specified"})
        if not q.get("api-version"):
            st.count("rejected")
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required query variable 'api-version' is missing"})
        res = (q.get("resource") or [""])[0]
        if not res:
            st.count("rejected")
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required query variable 'resource' is missing"})
        cid = (q.get("client_id") or [st.mi_client_id])[0]
        tok, now, exp = st.mint("imds", res, st.a.tenant or DEFAULT_TENANT, cid)
        return self.reply(200, {"access_token": tok, "client_id": cid,
                                "expires_in": str(exp - now), "expires_on": str(exp),
                                "ext_expires_in": str(exp - now), "not_before": str(now - 60),
                                "resource": res, "token_type": "Bearer"})

    def do_POST(self):
        st = self.server.state
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        if len(parts) != 4 or parts[1:] != ["oauth2", "v2.0", "token"]:
            st.count("requests", "other")
            return self.reply(404, {"error": "not_found"})
        st.count("requests", "client_credentials")
        if self.injected():
            return None
        tenant = parts[0]
        f = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

        def bad(status, err, desc):
            st.count("rejected")
            return self.reply(status, {"error": err, "error_description": desc,
                                       "error_codes": [], "trace_id": secrets.token_hex(8)})

        if st.a.tenant and tenant != st.a.tenant:
            return bad(400, "invalid_tenant", "AADSTS90002: Tenant '%s' not found." % tenant)
        if f.get("grant_type") != "client_credentials":
            return bad(400, "unsupported_grant_type",
                       "AADSTS70003: The app requested an unsupported grant type.")
        for k in ("client_id", "client_secret", "scope"):
            if not f.get(k):
                return bad(400, "invalid_request",
                           "AADSTS900144: The request body must contain the parameter: '%s'." % k)
        if (st.a.client_id and f["client_id"] != st.a.client_id) or \
                f["client_secret"] != st.a.client_secret:
            return bad(401, "invalid_client",
                       "AADSTS7000215: Invalid client secret provided.")
        scope = f["scope"]
        if not scope.endswith("/.default"):
            return bad(400, "invalid_scope",
                       "AADSTS1002012: The provided value for scope %s is not valid." % scope)
        tok, now, exp = st.mint("client_credentials", scope[:-len("/.default")], tenant,
                                f["client_id"])
        return self.reply(200, {"token_type": "Bearer", "expires_in": exp - now,
                                "ext_expires_in": exp - now, "access_token": tok})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--stats-file")
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--client-id")
    ap.add_argument("--client-secret", default="test-secret")
    ap.add_argument("--tenant")
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=500)
    a = ap.parse_args()
    if a.tls and not (a.cert and a.key):
        ap.error("--tls needs --cert and --key")
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a)
    return srvcommon.serve(srv, a.cert if a.tls else None, a.key, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
