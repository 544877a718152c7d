#!/usr/bin/python3
"""Write the seed corpus for fuzz_report: cvmrestore-report/1 documents (docs/report.md) that
render, including markup in every user-supplied string and a map that aggregates, and one broken
member each.

Usage: make_seeds_report.py [outdir]   (default: tests/fuzz/corpus/report beside this script)
"""
import copy
import json
import os
import sys

INJECT = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>"


def base():
    return {
        "schema": "cvmrestore-report/1",
        "tool": {"name": "cvmrestore", "version": "0.1.0"},
        "command": "verify",
        "started": "2026-11-28T13:00:00Z", "ended": "2026-11-28T13:00:05Z",
        "case": {"case_id": "C-1", "evidence_id": "E-1", "examiner": "Ann", "notes": "n"},
        "source": {"kind": "url", "display": "https://a.blob.core.windows.net/c/d.vhd",
                   "etag": "0x8D", "recovery_point": "rp-1"},
        "verdict": "fail", "exit_code": 1,
        "disks": [{
            "name": "os-disk", "virtual_size": 33554432, "image_size": 33555000,
            "format": "vhd-dynamic", "chunk_size": 4194304, "chunks_total": 8,
            "chunks_checked": 6, "bytes_verified": 8388608,
            "coverage": {"mode": "rolling", "run": 1, "runs": 7},
            "chunk_map": "v.vX--.v",
            "mismatches": [{"index": 3, "offset": 12582912, "length": 4194304,
                            "reason": "seal-mismatch", "expected": "aa" * 32,
                            "actual": "bb" * 32}],
            "digests": {"sha256": "cc" * 32, "md5": "dd" * 16, "sha1": "ee" * 20},
            "hash_windows": {"size": 1048576, "sha256": ["%064x" % i for i in range(4)]},
            "partitions": [{"index": 1, "scheme": "gpt", "type": "linux", "name": "root",
                            "start": 1048576, "size": 1048576}],
            "luks": [{"partition": 1, "version": 2, "uuid": "u", "cipher": "aes-xts-plain64",
                      "key_bits": 512, "keyslots": [0, 1], "opened_keyslot": 0,
                      "result": "opened", "message": "ok"}],
            "verdict": "fail",
            "reasons": [{"code": "seal-mismatch", "message": "1 chunk differs"}],
        }],
    }


def variants():
    yield "valid-full", base()
    yield "valid-minimal", {"schema": "cvmrestore-report/1", "verdict": "pass"}
    r = base()
    r["case"] = {k: INJECT for k in r["case"]}
    r["source"]["display"] = INJECT
    d = r["disks"][0]
    for k in ("name", "format"):
        d[k] = INJECT
    d["partitions"][0]["name"] = INJECT
    d["luks"][0]["message"] = INJECT
    d["reasons"][0]["message"] = INJECT
    d["mismatches"][0]["reason"] = INJECT
    yield "valid-injection-everywhere", r
    r = base()
    d = r["disks"][0]
    d["chunk_size"] = 1048576
    d["chunks_total"] = 50000
    d["chunk_map"] = "".join("X" if i == 44444 else "-" if i % 7 == 0 else "v"
                             for i in range(50000))
    yield "valid-aggregated-50000", r
    r = base()
    r["future"] = {"x": [1, 2]}
    r["disks"][0]["future"] = None
    r["disks"][0]["coverage"] = {"mode": "shard", "shard": 0, "shards": 4, "extra": "y"}
    r["case"] = None
    yield "valid-unknown-and-null-members", r
    r = base()
    r["disks"] = [r["disks"][0], copy.deepcopy(r["disks"][0])]
    r["disks"][1]["name"] = "data-disk-0"
    r["disks"][1]["verdict"] = "pass"
    r["disks"][1]["chunk_map"] = "v" * 8
    yield "valid-two-disks", r
    bad = [
        ("bad-schema", lambda r: r.update(schema="cvmrestore-report/2")),
        ("bad-no-schema", lambda r: r.pop("schema")),
        ("bad-verdict", lambda r: r.update(verdict="ok")),
        ("bad-disks-object", lambda r: r.update(disks={})),
        ("bad-case-string", lambda r: r.update(case="c")),
        ("bad-size-negative", lambda r: r["disks"][0].update(virtual_size=-1)),
        ("bad-chunk-map-state", lambda r: r["disks"][0].update(chunk_map="v.vq--.v")),
        ("bad-chunk-map-length", lambda r: r["disks"][0].update(chunk_map="v")),
        ("bad-mismatch-offset", lambda r: r["disks"][0]["mismatches"][0].update(offset="0")),
        ("bad-keyslots", lambda r: r["disks"][0]["luks"][0].update(keyslots=[0, "1"])),
        ("bad-windows", lambda r: r["disks"][0]["hash_windows"].update(sha256=[1])),
    ]
    for name, change in bad:
        r = base()
        change(r)
        yield name, r


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "report")
    os.makedirs(out, exist_ok=True)
    for name, doc in variants():
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    with open(os.path.join(out, "bad-not-json.json"), "w") as f:
        f.write('{"schema": "cvmrestore-report/1", "verdict": \n')


main()
