#!/usr/bin/python3
"""A client-side encryptor (Azure Storage encryption v2), written from docs/azure.md
independently of cvmrestore's decryptor, with Python's cryptography:

  cse_encrypt.py PLAIN BLOB METADATA (--kek-aes RAW | --kek-rsa-pub PEM) [options]

BLOB gets regions of --region bytes of PLAIN, each stored as nonce (12) || AES-256-GCM
ciphertext || tag (16), no AAD. METADATA gets the encryptiondata JSON (one line). The content
key is random; it is wrapped as protocol padded to 8 bytes || key (40 bytes) with A256KW
(RFC 3394) or RSA-OAEP (SHA-1). --cek-out FILE writes the content key as hex (for the secret
search). --wrap-prefix TEXT wraps another prefix than the protocol (a tampering test).
--protocol 1.0 writes version-1 style metadata (AES-CBC), for the refusal test.
"""
import argparse
import base64
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("plain")
    ap.add_argument("blob")
    ap.add_argument("metadata")
    ap.add_argument("--kek-aes")
    ap.add_argument("--kek-rsa-pub")
    ap.add_argument("--region", type=int, default=4 * 1024 * 1024)
    ap.add_argument("--protocol", default="2.0")
    ap.add_argument("--wrap-prefix")
    ap.add_argument("--cek-out")
    a = ap.parse_args()

    cek = os.urandom(32)
    wrapped_plain = (a.wrap_prefix or a.protocol).encode().ljust(8, b"\0") + cek
    if a.kek_aes:
        alg = "A256KW"
        wrapped = aes_key_wrap(open(a.kek_aes, "rb").read(), wrapped_plain)
        kid = "local:aes-kek"
    else:
        alg = "RSA-OAEP"
        pub = serialization.load_pem_public_key(open(a.kek_rsa_pub, "rb").read())
        wrapped = pub.encrypt(wrapped_plain, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                                          algorithm=hashes.SHA1(), label=None))
        kid = "https://kv1.vault.azure.net/keys/rsa-kek/0123456789abcdef"
    aes = AESGCM(cek)
    with open(a.plain, "rb") as src, open(a.blob, "wb") as dst:
        while True:
            chunk = src.read(a.region)
            if not chunk:
                break
            nonce = os.urandom(12)
            dst.write(nonce + aes.encrypt(nonce, chunk, None))
    meta = {
        "EncryptionMode": "FullBlob",
        "WrappedContentKey": {"KeyId": kid, "EncryptedKey": base64.b64encode(wrapped).decode(),
                              "Algorithm": alg},
        "EncryptionAgent": {"Protocol": a.protocol, "EncryptionAlgorithm":
                            "AES_CBC_256" if a.protocol == "1.0" else "AES_GCM_256"},
        "KeyWrappingMetadata": {"EncryptionLibrary": "cvmrestore-tests/cse_encrypt.py"},
    }
    if a.protocol == "1.0":
        meta["ContentEncryptionIV"] = base64.b64encode(os.urandom(16)).decode()
    else:
        meta["EncryptedRegionInfo"] = {"DataLength": a.region, "NonceLength": 12}
    with open(a.metadata, "w") as f:
        f.write(json.dumps(meta, separators=(",", ":")))
    if a.cek_out:
        with open(a.cek_out, "w") as f:
            f.write(cek.hex() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
