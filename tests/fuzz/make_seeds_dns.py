#!/usr/bin/python3
"""Write the seed corpus of fuzz_dnsmsg: answers made by tests/servers/dnsserver.py (a
private endpoint's CNAME chain, a public one, AAAA, NXDOMAIN, SERVFAIL) and a few broken ones.

Usage: make_seeds_dns.py [corpusdir]   (default: tests/fuzz/corpus beside this script)
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
import dnsserver  # noqa: E402

Q = "acct.blob.core.windows.net"
ZONE = {
    "acct.blob.core.windows.net": {"cname": "acct.privatelink.blob.core.windows.net"},
    "acct.privatelink.blob.core.windows.net": {"a": ["10.1.2.3", "10.1.2.4"], "aaaa": ["fd00::5"]},
}


def query(name, qtype):
    return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + dnsserver.encode_name(name) + \
        struct.pack(">HH", qtype, 1)


def main():
    out = os.path.join(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus"), "dnsmsg")
    os.makedirs(out, exist_ok=True)
    seeds = {
        "chain-a": dnsserver.answer(query(Q, 1), ZONE)[0],
        "chain-aaaa": dnsserver.answer(query(Q, 28), ZONE)[0],
        "public": dnsserver.answer(query(Q, 1), {Q.lower(): {"a": ["20.60.1.2"]}})[0],
        "nxdomain": dnsserver.answer(query(Q, 1), {})[0],
        "servfail": dnsserver.answer(query(Q, 1), {Q.lower(): {"rcode": 2}})[0],
    }
    good = seeds["chain-a"]
    seeds["cut"] = good[:len(good) - 3]
    seeds["forward-pointer"] = good[:12] + b"\xc0\x40" + good[len(good) - 4:]
    seeds["not-response"] = bytes([good[0], good[1], good[2] & 0x7F]) + good[3:]
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
