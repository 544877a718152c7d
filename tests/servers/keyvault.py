#!/usr/bin/python3
"""keyvault.py: a loopback stand-in for Azure Key Vault / Managed HSM (HTTPS, REST 7.4).

    keyvault.py --config CONFIG.json --cert C --key K [--port N] [--port-file PF] [--log L]

Speaks the wire format of docs/azure.md "Key Vault and Managed HSM":
  POST /keys/NAME[/VERSION]/wrapkey|unwrapkey?api-version=7.4   body {"alg", "value"}
       -> 200 {"kid": "https://HOST/keys/NAME/VERSION", "value": "<base64url, no padding>"}
       algorithms: RSA-OAEP (SHA-1), RSA-OAEP-256, RSA1_5 on RSA keys; A128KW, A192KW, A256KW,
       CKM_AES_KEY_WRAP (RFC 3394) and CKM_AES_KEY_WRAP_PAD (RFC 5649) on AES keys
  GET  /secrets/NAME[/VERSION]?api-version=7.4
       -> 200 {"value", "id", "contentType", "attributes": {"enabled", ...}, "tags"}
Errors come as {"error": {"code", "message", "innererror": {"code"}}}: 401 Unauthorized with
`WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/TENANT",
resource="RESOURCE"` without an accepted token; 403 Forbidden/KeyDisabled (or SecretDisabled)
for a disabled object; 404 KeyNotFound/SecretNotFound; 400 BadParameter for a failed unwrap, a
bad body or algorithm, and a missing or other api-version.

The config (JSON) is read again for every request, so a test can change it between runs:
  {"tokens": ["T1", ...],           bearer tokens accepted as they are
   "accept_jwt": false,             also accept JWT-shaped tokens whose payload "aud" is the
                                    resource of the host asked (tests/servers/tokenserver.py)
   "resource": null,                challenge resource; null: https://managedhsm.azure.net for
                                    hosts under .managedhsm.azure.net, else
                                    https://vault.azure.net
   "tenant": "TENANT",
   "garbage": false,                true: every 200 answer body is broken JSON
   "busy": 0,                       answer the next N requests 503 (Retry-After: 0); counted
                                    again from 0 whenever the config file changes
   "keys": {"NAME": {"current": "V1", "versions": {"V1": {"pem": "<RSA private key PEM>" | "hex":
            "<AES key>", "enabled": true}}}},
   "secrets": {"NAME": {"current": "S1", "versions": {"S1": {"value": "..", "contentType": "..",
               "tags": {...}, "enabled": true}}}}}
Each request is logged as one line "METHOD PATH STATUS" (no query, body or header), and in
LOG.auth as "HOST PATH bearer|none": whether it carried a token (never the token).
"""
import argparse
import base64
import binascii
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

import srvcommon

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import (InvalidUnwrap, aes_key_unwrap,
                                                    aes_key_unwrap_with_padding, aes_key_wrap,
                                                    aes_key_wrap_with_padding)

API = "7.4"
RSA_ALGS = {
    "RSA-OAEP": lambda: padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None),
    "RSA-OAEP-256": lambda: padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None),
    "RSA1_5": padding.PKCS1v15,
}
AES_ALGS = {"A128KW": 16, "A192KW": 24, "A256KW": 32, "CKM_AES_KEY_WRAP": None,
            "CKM_AES_KEY_WRAP_PAD": None}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s, lenient=False):
    if not isinstance(s, str) or not s:
        raise ValueError("value is missing")
    if lenient:
        # The ADE extension sends wrapkey standard base64 (KeyVaultUtil.encrypt_passphrase) and
        # the service wraps the decoded bytes: accept both alphabets there, and only there, so
        # that our own client's base64url stays checked strictly everywhere else.
        s = s.rstrip("=").replace("+", "-").replace("/", "_")
    if not re.fullmatch(r"[A-Za-z0-9_-]+=*", s):
        raise ValueError("value is not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class KvError(Exception):
    def __init__(self, status, code, message, inner=None):
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner


def bad(message):
    return KvError(400, "BadParameter", message)


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.mtime = None
        self.busy_done = 0

    def config(self):
        with open(self.a.config) as f:
            cfg = json.load(f)
        with self.lock:
            m = os.stat(self.a.config).st_mtime_ns
            if m != self.mtime:
                self.mtime, self.busy_done = m, 0
            busy = self.busy_done < int(cfg.get("busy", 0))
            if busy:
                self.busy_done += 1
        return cfg, busy

    def log(self, method, path, status, host, bearer):
        if self.a.log:
            with self.lock, open(self.a.log, "a") as f:
                f.write("%s %s %d\n" % (method, path, status))
            # whether a token came, per host (never the token): LOG.auth
            with self.lock, open(self.a.log + ".auth", "a") as f:
                f.write("%s %s %s\n" % (host, path, "bearer" if bearer else "none"))


def resource_for(cfg, host):
    if cfg.get("resource"):
        return cfg["resource"]
    name = host.split(":")[0].lower()
    if name.endswith(".managedhsm.azure.net"):
        return "https://managedhsm.azure.net"
    return "https://vault.azure.net"


def token_ok(cfg, token, resource):
    if token in cfg.get("tokens", []):
        return True
    if not cfg.get("accept_jwt"):
        return False
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(unb64url(parts[1]))
    except (ValueError, binascii.Error):
        return False
    return payload.get("aud") == resource and payload.get("exp", 0) > time.time()


def find(table, kind, name, version):
    obj = table.get(name)
    ver = version or (obj or {}).get("current")
    if obj is None or ver not in obj.get("versions", {}):
        code = "KeyNotFound" if kind == "key" else "SecretNotFound"
        raise KvError(404, code, "A %s with (name/id) %s%s was not found in this key vault. If "
                      "you recently deleted this %s you may be able to recover it using the "
                      "correct recovery command." % (kind, name, "/" + version if version else "",
                                                     kind))
    return ver, obj["versions"][ver]


def key_op(cfg, host, name, version, op, body):
    ver, k = find(cfg.get("keys", {}), "key", name, version)
    if not k.get("enabled", True):
        raise KvError(403, "Forbidden", "Operation %sKey is not allowed on a disabled key."
                      % op[:-3], "KeyDisabled")
    try:
        req = json.loads(body)
        alg, value = req["alg"], unb64url(req["value"], lenient=op == "wrapkey")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad("Property 'value' or 'alg' is missing or invalid.") from None
    if alg in RSA_ALGS and "pem" in k:
        priv = serialization.load_pem_private_key(k["pem"].encode(), None)
        try:
            if op == "wrapkey":
                out = priv.public_key().encrypt(value, RSA_ALGS[alg]())
            else:
                out = priv.decrypt(value, RSA_ALGS[alg]())
        except ValueError:
            raise bad("Bad Request") from None
    elif alg in AES_ALGS and "hex" in k:
        kek = bytes.fromhex(k["hex"])
        if AES_ALGS[alg] and len(kek) != AES_ALGS[alg]:
            raise bad("Algorithm %s needs a %d-bit key." % (alg, AES_ALGS[alg] * 8))
        pad = alg == "CKM_AES_KEY_WRAP_PAD"
        try:
            if op == "wrapkey":
                out = (aes_key_wrap_with_padding if pad else aes_key_wrap)(kek, value)
            else:
                out = (aes_key_unwrap_with_padding if pad else aes_key_unwrap)(kek, value)
        except (InvalidUnwrap, ValueError):
            raise bad("Bad Request") from None
    else:
        raise bad("Algorithm '%s' is not supported for this key." % alg)
    return {"kid": "https://%s/keys/%s/%s" % (host, name, ver), "value": b64url(out)}


def secret_get(cfg, host, name, version):
    ver, s = find(cfg.get("secrets", {}), "secret", name, version)
    if not s.get("enabled", True):
        raise KvError(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                      "SecretDisabled")
    out = {"value": s["value"], "id": "https://%s/secrets/%s/%s" % (host, name, ver),
           "attributes": {"enabled": True, "created": 1700000000, "updated": 1700000000,
                          "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}}
    if "contentType" in s:
        out["contentType"] = s["contentType"]
    if s.get("tags"):
        out["tags"] = s["tags"]
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "keyvault-test"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        # logged before the answer goes out: a client that exits on it finds it in the log
        self.server.state.log(self.command, urllib.parse.urlsplit(self.path).path, status,
                              (self.headers.get("Host") or "").split(":")[0],
                              bool(self.headers.get("Authorization")))
        self.end_headers()
        self.wfile.write(body)

    def fail(self, e, extra=()):
        err = {"code": e.code, "message": e.message}
        if e.inner:
            err["innererror"] = {"code": e.inner}
        self.send(e.status, json.dumps({"error": err}).encode(), extra)

    def handle_any(self, body):
        st = self.server.state
        try:
            cfg, busy = st.config()
        except (OSError, ValueError) as e:
            return self.fail(KvError(500, "InternalError", "test server config: %s" % e))
        if busy:
            return self.fail(KvError(503, "ServiceUnavailable", "The service is busy."),
                             [("Retry-After", "0")])
        host = self.headers.get("Host", "")
        u = urllib.parse.urlsplit(self.path)
        resource = resource_for(cfg, host)
        auth = self.headers.get("Authorization", "")
        if not (auth.startswith("Bearer ") and token_ok(cfg, auth[7:], resource)):
            challenge = 'Bearer authorization="https://login.microsoftonline.com/%s", ' \
                        'resource="%s"' % (cfg.get("tenant", "72f988bf-86f1-41af-91ab-"
                                                   "2d7cd011db47"), resource)
            msg = "AKV10000: Request is missing a Bearer or PoP token." if not auth else \
                "AKV10022: Invalid audience or token."
            return self.fail(KvError(401, "Unauthorized", msg),
                             [("WWW-Authenticate", challenge)])
        q = urllib.parse.parse_qs(u.query)
        if q.get("api-version") != [API]:
            return self.fail(bad("The specified version (%s) is not recognized. Consider using "
                                 "the latest supported version (%s)."
                                 % (",".join(q.get("api-version", [])), API)))
        p = u.path.strip("/").split("/")
        try:
            if self.command == "POST" and p[0] == "keys" and len(p) in (3, 4) and \
                    p[-1] in ("wrapkey", "unwrapkey"):
                out = key_op(cfg, host, p[1], p[2] if len(p) == 4 else None, p[-1], body)
            elif self.command == "GET" and p[0] == "secrets" and len(p) in (2, 3):
                out = secret_get(cfg, host, p[1], p[2] if len(p) == 3 else None)
            else:
                raise KvError(404, "NotFound", "The requested operation is not supported.")
        except KvError as e:
            return self.fail(e)
        text = json.dumps(out).encode()
        if cfg.get("garbage"):
            text = b'{"kid": "https://x/keys/k/v", "value": ' + text[:len(text) // 2]
        return self.send(200, text)

    def do_GET(self):
        self.handle_any(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.handle_any(self.rfile.read(n) if n else b"")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a)
    return srvcommon.serve(srv, a.cert, a.key, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
