#!/usr/bin/python3
"""Write the seed corpus for fuzz_kvanswer: Key Vault answers as the service sends them and one
broken field each. The first byte of a seed picks the parser ('k' key answer, 's' secret, 'e'
error body, 'c' WWW-Authenticate challenge, 'u' URL; see tests/fuzz/fuzz_kvanswer.c).

Usage: make_seeds_kv.py [corpusdir]   (default: tests/fuzz/corpus/kvanswer beside this script)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KID = "https://kv1.vault.azure.net/keys/kek1/0123456789abcdef0123456789abcdef"
# Not a real key: a fixed pattern, so the corpus is reproducible and holds no secret.
VALUE = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"


def key_seeds():
    yield "valid", {"kid": KID, "value": VALUE}
    yield "valid-padded", {"kid": KID, "value": "AAECAw=="}
    yield "bad-no-kid", {"value": VALUE}
    yield "bad-kid-number", {"kid": 1, "value": VALUE}
    yield "bad-value-std-alphabet", {"kid": KID, "value": "AAEC+/8"}
    yield "bad-value-trailing-bits", {"kid": KID, "value": "AAECAx"}
    yield "bad-value-empty", {"kid": KID, "value": ""}
    yield "bad-array", [KID, VALUE]


def secret_seeds():
    tags = {"DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP",
            "DiskEncryptionKeyEncryptionKeyURL": KID,
            "DiskEncryptionKeyFileName": "LinuxPassPhraseFileName", "MachineName": "vm1",
            "VolumeType": "OS"}
    base = {"value": VALUE, "contentType": "Wrapped BEK",
            "id": "https://kv1.vault.azure.net/secrets/bek1/0123456789abcdef",
            "attributes": {"enabled": True, "created": 1700000000, "updated": 1700000000,
                           "recoveryLevel": "Recoverable+Purgeable"}, "tags": tags}
    yield "valid-wrapped", base
    plain = dict(base, contentType="BEK", tags={"DiskEncryptionKeyFileName":
                                                 "LinuxPassPhraseFileName_1_0"})
    yield "valid-unwrapped", plain
    yield "bad-no-id", {k: v for k, v in base.items() if k != "id"}
    yield "bad-enabled-string", dict(base, attributes={"enabled": "true"})
    yield "bad-tags-array", dict(base, tags=["RSA-OAEP"])
    yield "bad-tag-long", dict(base, tags=dict(tags, DiskEncryptionKeyEncryptionAlgorithm="A" * 40))
    yield "bad-value-number", dict(base, value=5)


def error_seeds():
    yield "valid-disabled", {"error": {"code": "Forbidden", "message": "Operation unwrapKey is "
                                       "not allowed on a disabled key.",
                                       "innererror": {"code": "KeyDisabled"}}}
    yield "valid-badparameter", {"error": {"code": "BadParameter", "message": "Bad Request"}}
    yield "valid-control-chars", {"error": {"code": "X\u001b[0m", "message": "a\r\nb" * 300}}
    yield "bad-no-code", {"error": {"message": "m"}}
    yield "bad-innererror-string", {"error": {"code": "c", "innererror": "x"}}


def challenge_seeds():
    yield "valid", ('Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-'
                    '91ab-2d7cd011db47", resource="https://vault.azure.net"')
    yield "valid-scope", ('Bearer authorization_uri="https://login.windows.net/t", '
                          'scope="https://managedhsm.azure.net/.default"')
    yield "valid-unquoted-pop", 'Bearer resource=https://vault.azure.net, PoP nonce="n"'
    yield "bad-basic", 'Basic realm="x"'
    yield "bad-unterminated", 'Bearer resource="https://vault.azure.net'
    yield "bad-no-resource", 'Bearer authorization="https://login.microsoftonline.com/t"'


def url_seeds():
    yield "valid-key", KID
    yield "valid-secret-port", "https://kv1.vault.azure.net:8443/secrets/bek1"
    yield "bad-query", "https://kv1.vault.azure.net/keys/k?api-version=7.4&sig=abc"
    yield "bad-name", "https://kv1.vault.azure.net/keys/k_1"
    yield "bad-http", "http://kv1.vault.azure.net/keys/k"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "kvanswer")
    os.makedirs(out, exist_ok=True)
    groups = [("k", "key", key_seeds), ("s", "secret", secret_seeds),
              ("e", "error", error_seeds), ("c", "challenge", challenge_seeds)]
    n = 0
    for tag, prefix, gen in groups:
        for name, doc in gen():
            text = doc if isinstance(doc, str) else json.dumps(doc)
            with open(os.path.join(out, "%s-%s" % (prefix, name)), "wb") as f:
                f.write(tag.encode() + text.encode())
            n += 1
    for name, u in url_seeds():
        with open(os.path.join(out, "url-%s" % name), "wb") as f:
            f.write(b"u" + u.encode())
        n += 1
    with open(os.path.join(out, "all-truncated-key-answer"), "wb") as f:
        f.write(b"*" + json.dumps({"kid": KID, "value": VALUE}).encode()[:40])
    print("wrote %d seeds to %s" % (n + 1, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
