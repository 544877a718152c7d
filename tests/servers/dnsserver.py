#!/usr/bin/python3
"""dnsserver.py: a loopback DNS server (UDP) that answers like a recursive resolver.

    dnsserver.py --zone ZONE.json [--port-file PF] [--log L]

Answers A and AAAA queries (RFC 1035) from ZONE, read again for every query:
  {"NAME": {"cname": "TARGET"} | {"a": ["127.0.0.5", ...], "aaaa": ["::1"]} | {"rcode": 2}}
A name with a CNAME is answered with the whole chain and the final name's addresses, as a
recursive resolver answers (owner names compressed against the question where they repeat it,
the way servers do). A name that is not in ZONE is NXDOMAIN. {"rcode": N} answers rcode N with
no records (2 SERVFAIL, 5 REFUSED). Each query is logged as "NAME TYPE". Binds 127.0.0.1 only.
"""
import argparse
import ipaddress
import json
import socketserver
import struct
import sys

import srvcommon

TYPES = {1: "A", 28: "AAAA"}


def read_qname(msg, pos):
    labels = []
    while True:
        n = msg[pos]
        if n == 0:
            return ".".join(labels), pos + 1
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def answer(query, zone):
    qid, _flags, qd = struct.unpack(">HHH", query[:6])
    if qd != 1:
        raise ValueError("one question expected")
    qname, end = read_qname(query, 12)
    qtype, qclass = struct.unpack(">HH", query[end:end + 4])
    question = query[12:end + 4]
    records, rcode, name, seen = [], 0, qname, set()
    while True:
        entry = zone.get(name.lower().rstrip("."))
        if entry is None:
            rcode = 3 if name == qname else 0
            break
        if "rcode" in entry:
            rcode = entry["rcode"]
            records = []
            break
        # the question's name at offset 12: point to it (0xC00C) where the owner repeats it
        owner = b"\xc0\x0c" if name.lower() == qname.lower() else encode_name(name)
        if "cname" in entry:
            if name.lower() in seen:
                break
            seen.add(name.lower())
            target = encode_name(entry["cname"])
            records.append(owner + struct.pack(">HHIH", 5, 1, 60, len(target)) + target)
            name = entry["cname"]
            continue
        key = "a" if qtype == 1 else "aaaa"
        for addr in entry.get(key, []):
            raw = ipaddress.ip_address(addr).packed
            records.append(owner + struct.pack(">HHIH", qtype, 1, 60, len(raw)) + raw)
        break
    flags = 0x8000 | 0x0100 | 0x0080 | rcode  # response, RD, RA
    head = struct.pack(">HHHHHH", qid, flags, 1, len(records), 0, 0)
    return head + question + b"".join(records), qname, TYPES.get(qtype, str(qtype)), qclass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            with open(self.server.zone_file) as f:
                zone = {k.lower().rstrip("."): v for k, v in json.load(f).items()}
            out, qname, qtype, _ = answer(data, zone)
        except (ValueError, IndexError, struct.error, OSError) as e:
            print("dnsserver: bad query: %s" % e, file=sys.stderr)
            return
        if self.server.log:
            with open(self.server.log, "a") as f:
                f.write("%s %s\n" % (qname, qtype))
        sock.sendto(out, self.client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zone", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    a = ap.parse_args()
    srv = socketserver.UDPServer(("127.0.0.1", 0), Handler)
    srv.zone_file, srv.log = a.zone, a.log
    return srvcommon.serve(srv, port_file=a.port_file)


if __name__ == "__main__":
    sys.exit(main())
