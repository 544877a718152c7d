#!/usr/bin/python3
"""Write the seed corpora for fuzz_jwk (key files) and fuzz_encdata (encryptiondata metadata).

Usage: make_seeds_keys.py [corpusdir]   (default: tests/fuzz/corpus beside this script)
Deterministic: fixed bytes, no randomness, so the corpus is reproducible.
"""
import base64
import json
import os
import sys


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# A 512-bit RSA key (made once with `openssl genpkey`; only a fuzz seed: never used to protect
# anything). Numbers as integers.
N = int("c8a2b2a8b5b9e7a4b3d45d29d7a6d2b27a0cb2bdc49f1a7d6d0a3bfc1e1c53a4"
        "0f8e6e1f9b6b0f6c1ab44e5c4c3bd5e2f0a7f3ab9a0a2b6e3f4dd0f5d5e7c9b1", 16)
E = 65537
D = int("3b6f5e3cd8f7ab08c94f1f9e5c2bd7a58e4c6f2e7d8a9b0c1d2e3f405162738"
        "495a6b7c8d9eaf0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f50617281", 16)


def jwk_seeds():
    yield "oct-256.json", json.dumps({"kty": "oct", "k": b64u(bytes(range(32)))})
    yield "oct-128-kid.json", json.dumps({"kty": "oct", "kid": "k1", "k": b64u(bytes(16))})
    yield "oct-bad-len.json", json.dumps({"kty": "oct", "k": b64u(bytes(20))})
    yield "rsa-nocrt.json", json.dumps({"kty": "RSA", "n": b64u(N.to_bytes(64, "big")),
                                        "e": b64u(E.to_bytes(3, "big")),
                                        "d": b64u(D.to_bytes(64, "big"))})
    yield "rsa-public.json", json.dumps({"kty": "RSA", "n": b64u(N.to_bytes(64, "big")),
                                         "e": "AQAB"})
    yield "rsa-partial-crt.json", json.dumps({"kty": "RSA", "n": "AQAB", "e": "AQAB",
                                              "d": "AQAB", "p": "AQAB"})
    yield "ec.json", json.dumps({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})
    yield "bad-b64.json", '{"kty":"oct","k":"AA+/"}'
    yield "not-json.txt", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
    yield "raw-aes-256.bin", bytes(range(32))
    yield "raw-brace-24.bin", b"{" + bytes(range(23))


def ed(**over):
    d = {"EncryptionMode": "FullBlob",
         "WrappedContentKey": {"KeyId": "https://kv1.vault.azure.net/keys/k/1",
                               "EncryptedKey": base64.b64encode(bytes(40)).decode(),
                               "Algorithm": "A256KW"},
         "EncryptionAgent": {"Protocol": "2.0", "EncryptionAlgorithm": "AES_GCM_256"},
         "EncryptedRegionInfo": {"DataLength": 4194304, "NonceLength": 12},
         "KeyWrappingMetadata": {"EncryptionLibrary": "Python 12.14.0"}}
    for k, v in over.items():
        d[k] = v
    return json.dumps(d)


def encdata_seeds():
    yield "v2.json", ed()
    yield "v21.json", ed(EncryptionAgent={"Protocol": "2.1", "EncryptionAlgorithm": "AES_GCM_256"})
    yield "v1.json", ed(EncryptionAgent={"Protocol": "1.0", "EncryptionAlgorithm": "AES_CBC_256"})
    yield "nonce16.json", ed(EncryptedRegionInfo={"DataLength": 4194304, "NonceLength": 16})
    yield "region-huge.json", ed(EncryptedRegionInfo={"DataLength": 2 ** 40, "NonceLength": 12})
    yield "no-wck.json", ed(WrappedContentKey=None)
    yield "truncated.json", ed()[:100]


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "corpus")
    for sub, seeds in (("jwk", jwk_seeds()), ("encdata", encdata_seeds())):
        d = os.path.join(root, sub)
        os.makedirs(d, exist_ok=True)
        for name, content in seeds:
            data = content.encode() if isinstance(content, str) else content
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
