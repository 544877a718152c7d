#!/usr/bin/python3
"""Check a bandwidth cap from a request log: every 10 s window within 10% of the cap.

usage: ratecheck.py tool|nginx LOG CAP_BYTES_PER_S [WINDOW_S [SLACK_BYTES]]

Each request's body bytes are spread evenly over its duration (tool: the log line's time is the
end, ms= the duration; nginx: msec= the end, rt= the duration). Every window of WINDOW_S (10)
seconds that lies inside the run, in steps of 0.25 s, must carry at most 1.1 * CAP * WINDOW_S
bytes. Below the cap is the client's or the machine's pace, not the cap's doing: a window under
0.9 * CAP is printed, and only an average under half the cap fails (a cap that throttles far
too hard). SLACK_BYTES (0) more are allowed per window: nginx logs a response done when its
last byte is in the kernel's socket buffer, not on the client's side, so the sender's log can
run ahead of the cap by what the buffers of the connections hold. Not a speed test. Prints the windows' lowest and highest rate; exit 1 on a failure.
"""
import calendar
import re
import sys
import time


def tool_spans(path):
    spans = []
    for line in open(path):
        f = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line))
        if "time" not in f or f.get("bytes", "-") in ("-", "0"):
            continue
        t = f["time"]
        m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z$", t)
        if not m:
            sys.exit("malformed time %r" % t)
        end = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + int(m.group(2)) / 1000
        spans.append((end - int(f["ms"]) / 1000, end, int(f["bytes"])))
    return spans


def nginx_spans(path):
    spans = []
    for line in open(path):
        m = re.search(r'" (\d+) (\d+) .*msec=([\d.]+) rt=([\d.]+)', line)
        if not m or int(m.group(2)) == 0:
            continue
        end, rt = float(m.group(3)), float(m.group(4))
        spans.append((end - rt, end, int(m.group(2))))
    return spans


def main():
    kind, path, cap = sys.argv[1], sys.argv[2], float(sys.argv[3])
    win = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    slack = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    spans = tool_spans(path) if kind == "tool" else nginx_spans(path)
    if not spans:
        sys.exit("no requests with bytes in %s" % path)
    t0, t1 = min(s[0] for s in spans), max(s[1] for s in spans)
    total = sum(s[2] for s in spans)
    if t1 - t0 < win:
        sys.exit("the run lasted %.1f s, less than one window of %.0f s" % (t1 - t0, win))

    def bytes_in(a, b):
        n = 0.0
        for s, e, k in spans:
            if e <= s:
                n += k if a <= e < b else 0
                continue
            lo, hi = max(a, s), min(b, e)
            if hi > lo:
                n += k * (hi - lo) / (e - s)
        return n

    lo_rate, hi_rate, bad, slow = None, None, [], []
    t = t0
    while t + win <= t1 + 1e-9:
        r = bytes_in(t, t + win) / win
        lo_rate = r if lo_rate is None else min(lo_rate, r)
        hi_rate = r if hi_rate is None else max(hi_rate, r)
        if r > 1.1 * cap + slack / win:
            bad.append((t - t0, r))
        elif r < 0.9 * cap:
            slow.append((t - t0, r))
        t += 0.25
    print("%s: %d requests, %d bytes in %.1f s (%.0f B/s average); 10 s windows %.0f to %.0f B/s "
          "for a cap of %.0f" % (kind, len(spans), total, t1 - t0, total / (t1 - t0), lo_rate,
                                 hi_rate, cap))
    for off, r in bad[:5]:
        print("  window at +%.2f s: %.0f B/s (%.1f%% of the cap): over" % (off, r, 100 * r / cap))
    for off, r in slow[:3]:
        print("  note: window at +%.2f s: %.0f B/s (%.1f%% of the cap): under, the client's pace"
              % (off, r, 100 * r / cap))
    if total / (t1 - t0) < 0.5 * cap:
        print("  the average is under half the cap: the cap throttles too hard")
        sys.exit(1)
    sys.exit(1 if bad else 0)


main()
