#!/usr/bin/python3
"""Write the seed corpora for fuzz_pagelist, fuzz_descriptor and fuzz_rp_import: valid documents
and one broken field each.

Usage: make_seeds_azure.py [corpusdir]   (default: tests/fuzz/corpus beside this script)
"""
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in testdata/


def fixtures():
    path = os.path.join(HERE, "..", "..", "testdata", "azure", "make-fixtures.py")
    spec = importlib.util.spec_from_file_location("make_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pr(s, e, tag="PageRange"):
    return "<%s><Start>%d</Start><End>%d</End></%s>" % (tag, s, e, tag)


def pagelist_seeds():
    decl = '<?xml version="1.0" encoding="utf-8"?>'
    yield "valid", decl + "<PageList>" + pr(0, 511) + pr(1 << 20, (5 << 20) - 1) + "</PageList>"
    yield "valid-adjacent-marker", ("<PageList>" + pr(0, 511) + pr(512, 1023) +
                                    "<NextMarker>2!104!MDAwMDM1IWJsb2I-</NextMarker></PageList>")
    yield "valid-diff", ("<PageList>" + pr(0, 511) + pr(512, 4095, "ClearRange") +
                         pr(4096, 8191) + "</PageList>")
    yield "valid-empty", "<PageList><NextMarker/></PageList>"
    # many ranges with whitespace between them and a marker that needs percent-encoding:
    # the stream parser gets them in pieces that split names and numbers
    yield "valid-many-marker", (decl + "\n<PageList>\n" +
                                "\n".join(pr(i * 1024, i * 1024 + 511) for i in range(40)) +
                                "\n<NextMarker>pr/40=</NextMarker>\n</PageList>\n")
    yield "bad-truncated", "<PageList>" + pr(0, 511) + "<PageRange><Start>1024</Sta"
    yield "valid-error", (decl + "<Error><Code>ServerBusy</Code><Message>The server is busy."
                          "\nRequestId:1</Message></Error>")
    yield "bad-unaligned", "<PageList>" + pr(1, 511) + "</PageList>"
    yield "bad-unsorted", "<PageList>" + pr(1024, 1535) + pr(0, 511) + "</PageList>"
    yield "bad-overlap-clear", "<PageList>" + pr(0, 1023) + pr(512, 1023, "ClearRange") + "</PageList>"
    yield "bad-overflow", "<PageList>" + pr(0, 18446744073709551615) + "</PageList>"
    yield "bad-dtd", ('<!DOCTYPE PageList [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                      "<PageList><NextMarker>&b;</NextMarker></PageList>")
    yield "bad-deep", "<PageList>" + "<a>" * 20 + "</a>" * 20 + "</PageList>"
    yield "bad-error-no-code", "<Error><Message>m</Message></Error>"


def descriptor_base():
    seal = {"format": "cvmrestore-seal", "version": 1, "tool": "t", "created": "c",
            "source": {"name": "os.vhd", "format": "vhd-fixed", "virtual_size": 8192},
            "chunk_size": 4096, "chunk_count": 2, "chunks": ["zero", "unallocated"],
            "digests": {}}
    return {
        "format": "cvmrestore-recovery-point", "version": 1, "id": "rp-1",
        "created": "2026-11-28T10:00:00Z",
        "vm": {"name": "cvm01", "os_type": "Linux", "hyperv_generation": "V2",
               "security_type": "ConfidentialVM_DiskEncryptedWithCustomerKey",
               "size": "Standard_DC2as_v5", "location": "westeurope"},
        "disks": [
            {"name": "osdisk", "role": "os", "lun": None,
             "source": "https://a.blob.core.windows.net/c/os.vhd?sv=1&sig=x", "size": 1074790912,
             "seal": seal},
            {"name": "data0", "role": "data", "lun": 0, "source": "/mnt/data0.vhd", "size": None},
        ],
        "guest_state": {"source": "https://m.z1.blob.storage.azure.net/x/abcd?sig=y",
                        "size": 4194816},
        "vm_metadata": None,
    }


def descriptor_seeds():
    yield "valid", descriptor_base()
    d = descriptor_base()
    d["vm"] = {"name": "w", "os_type": "Windows"}
    d["disks"] = [d["disks"][1]]
    del d["guest_state"]
    yield "valid-minimal", d
    d = descriptor_base()
    d["disks"][1]["role"] = "foo"
    yield "bad-role", d
    d = descriptor_base()
    d["disks"][1]["name"] = "osdisk"
    yield "bad-duplicate-name", d
    d = descriptor_base()
    d["disks"][1]["role"] = "os"
    d["disks"][1]["lun"] = None
    yield "bad-two-os", d
    d = descriptor_base()
    d["disks"][0]["seal"]["chunk_count"] = 3
    yield "bad-seal", d
    d = descriptor_base()
    d["vm"]["security_type"] = "ConfidentialVM"
    yield "bad-security-type", d
    d = descriptor_base()
    d["version"] = 2
    yield "bad-version", d


def rp_import_seeds(fx):
    yield "g-cvm", b"g" + json.dumps(fx.access_cvm()).encode()
    yield "g-operation", b"g" + json.dumps(fx.operation(fx.access_cvm())).encode()
    yield "g-bad-no-sas", b'g{"securityDataAccessSAS": "https://a/b"}'
    blob = b"\xff\xfe" + json.dumps(fx.config_blob()).encode("utf-16-le") + b"\0" * 37
    yield "c-config-utf16le", b"c" + blob
    yield "c-config-utf8", b"c" + json.dumps(fx.config_blob()).encode()
    c = fx.config_blob()
    c["properties.storageProfile"]["dataDisks"][1]["lun"] = 0
    yield "c-bad-lun-twice", b"c" + json.dumps(c).encode()
    c = fx.config_blob()
    del c["properties.storageProfile"]["osDisk"]["vhd"]
    c["properties.storageProfile"]["osDisk"]["managedDisk"] = {"id": "/s/d"}
    yield "c-bad-managed", b"c" + json.dumps(c).encode()
    c = fx.config_blob()
    c["properties.securityProfile"] = {"securityType": "ConfidentialVM"}
    c["properties.storageProfile"]["osDisk"]["managedDisk"] = {
        "securityProfile": {"securityEncryptionType": "DiskWithVMGuestState"}}
    yield "c-cvm", b"c" + json.dumps(c).encode("utf-16-be")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    for sub in ("pagelist", "descriptor", "rp_import"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for name, text in pagelist_seeds():
        write(os.path.join(root, "pagelist", name + ".xml"), text.encode())
    for name, doc in descriptor_seeds():
        write(os.path.join(root, "descriptor", name + ".json"),
              (json.dumps(doc, indent=1) + "\n").encode())
    write(os.path.join(root, "descriptor", "bad-not-json.json"), b'{"format": "cvmrestore-')
    for name, data in rp_import_seeds(fixtures()):
        write(os.path.join(root, "rp_import", name + ".bin"), data)


if __name__ == "__main__":
    main()
