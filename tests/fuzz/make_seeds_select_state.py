#!/usr/bin/python3
"""Write the seed corpus for fuzz_select_state: verify --state files (docs/report.md), valid
ones and one broken member each.

Usage: make_seeds_select_state.py [outdir]
       (default: tests/fuzz/corpus/select_state beside this script)
"""
import base64
import json
import os
import struct
import sys


def state(runs_per_chunk, last_run, csize=1048576):
    n = len(runs_per_chunk)
    return {
        "format": "cvmrestore-verify-state",
        "version": 1,
        "virtual_size": n * csize - 512 if n else 0,
        "chunk_size": csize,
        "chunk_count": n,
        "last_run": last_run,
        "runs": [{"run": r, "started": "2026-11-28T02:30:00Z", "mode": "rolling", "chunks": 1}
                 for r in range(max(1, last_run - 3), last_run + 1)] if last_run else [],
        "chunk_runs": base64.b64encode(struct.pack(f"<{n}I", *runs_per_chunk)).decode(),
    }


def variants():
    yield "valid-rolling-3", state([i % 3 + 1 for i in range(10)], 3)
    yield "valid-never-run", state([0] * 4, 0)
    yield "valid-empty-disk", state([], 0)
    s = state([1, 2, 0], 2)
    s["chunk_count"] = 16777216
    s["virtual_size"] = 16777216 * 1048576
    yield "bad-huge-claim-short-runs", s
    s = state([1, 2, 0], 2)
    s["chunk_runs"] = s["chunk_runs"][:-4]
    yield "bad-chunk-runs-short", s
    s = state([1, 5, 0], 2)
    yield "bad-run-after-last", s
    s = state([1, 2, 0], 2)
    s["runs"][0]["run"] = 0
    yield "bad-run-zero", s
    s = state([1, 2, 0], 2)
    s["version"] = 2
    yield "bad-version", s
    s = state([1, 2, 0], 2)
    s["chunk_runs"] = "!!!!" + s["chunk_runs"][4:]
    yield "bad-base64", s
    s = state([1, 2, 0], 2)
    del s["format"]
    yield "bad-no-format", s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "select_state")
    os.makedirs(out, exist_ok=True)
    for name, doc in variants():
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(doc, f)
    with open(os.path.join(out, "bad-not-json.json"), "w") as f:
        f.write('{"format": "cvmrestore-verify-state", ')


if __name__ == "__main__":
    main()
