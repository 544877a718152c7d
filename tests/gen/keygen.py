#!/usr/bin/python3
"""Key material for the key tests, written with Python's cryptography (independent of our C code).

  keygen.py jwk-rsa PEM OUT        the RSA private key in PEM as a JWK (n e d p q dp dq qi)
  keygen.py jwk-rsa-nocrt PEM OUT  the same without the CRT members
  keygen.py jwk-rsa-public PEM OUT only n and e (must be refused)
  keygen.py jwk-oct RAWKEY OUT     a raw AES key as an oct JWK
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import serialization


def b64u(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main() -> int:
    mode, src, out = sys.argv[1:4]
    data = open(src, "rb").read()
    if mode.startswith("jwk-rsa"):
        key = serialization.load_pem_private_key(data, password=None)
        priv = key.private_numbers()
        pub = priv.public_numbers
        jwk = {"kty": "RSA", "kid": "test-kek", "n": b64u(pub.n), "e": b64u(pub.e)}
        if mode != "jwk-rsa-public":
            jwk["d"] = b64u(priv.d)
        if mode == "jwk-rsa":
            jwk.update(p=b64u(priv.p), q=b64u(priv.q), dp=b64u(priv.dmp1), dq=b64u(priv.dmq1),
                       qi=b64u(priv.iqmp))
    elif mode == "jwk-oct":
        jwk = {"kty": "oct", "kid": "test-aes", "k": base64.urlsafe_b64encode(data).rstrip(b"=").decode()}
    else:
        print("unknown mode", mode, file=sys.stderr)
        return 2
    with open(out, "w") as f:
        json.dump(jwk, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
