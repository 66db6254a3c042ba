#!/usr/bin/python3
"""One paced TCP transfer for the handover bench: a sender that offers a
constant rate (catching up after a stall, up to one second's worth, like a
media stream) and a receiver that counts bytes per time bin.

  tcpbulk.py recv --port N --report FILE [--bind A] [--bin 0.05]
  tcpbulk.py send --to A --port N --rate BYTES_PER_S [--report FILE]

Both print {"ready": true} when listening or connected, stop on SIGTERM or
SIGINT and write one JSON report (the receiver's has every read as [time
(time.time()), bytes] in "reads", and the bins: [start time, bytes])."""

import argparse
import json
import os
import select
import signal
import socket
import sys
import time

_stop = [False]


def _on_signal(signum, frame):
    _stop[0] = True


def _emit(report, path):
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f)
        os.replace(tmp, path)
    print(json.dumps({k: v for k, v in report.items() if k not in ("bins", "reads")}),
          flush=True)


def recv(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind or "0.0.0.0", a.port))
    ls.listen(1)
    print(json.dumps({"ready": True}), flush=True)
    report = {"bytes": 0, "bin": a.bin, "bins": [], "reads": [], "connected_at": None,
              "reset": None, "longest_stall_ms": 0.0}
    conn = None
    bins = {}
    last = None
    while not _stop[0]:
        r, _, _ = select.select([conn or ls], [], [], 0.1)
        if not r:
            continue
        if conn is None:
            conn, _ = ls.accept()
            report["connected_at"] = time.time()
            continue
        try:
            data = conn.recv(1 << 16)
        except OSError as e:
            report["reset"] = str(e)
            break
        if not data:
            break
        now = time.time()
        if last is not None:
            report["longest_stall_ms"] = max(report["longest_stall_ms"],
                                             round((now - last) * 1000, 3))
        last = now
        report["bytes"] += len(data)
        report["reads"].append([round(now, 6), len(data)])
        k = int(now / a.bin)
        bins[k] = bins.get(k, 0) + len(data)
    if bins:
        lo, hi = min(bins), max(bins)
        report["bins"] = [[round(k * a.bin, 3), bins.get(k, 0)] for k in range(lo, hi + 1)]
    _emit(report, a.report)


def send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((a.to, a.port))
    s.setblocking(False)
    print(json.dumps({"ready": True}), flush=True)
    chunk = b"\0" * 65536
    t0 = time.monotonic()
    sent = 0
    report = {"sent": 0, "rate": a.rate, "reset": None}
    while not _stop[0]:
        now = time.monotonic()
        # What a constant-rate source has produced by now, at most one
        # second's worth behind.
        due = (now - t0) * a.rate
        if due - sent > a.rate:
            sent = int(due - a.rate)
        want = int(due - sent)
        if want > 0:
            try:
                n = s.send(chunk[:min(want, len(chunk))])
                sent += n
                report["sent"] += n
            except BlockingIOError:
                select.select([], [s], [], 0.01)
                continue
            except OSError as e:
                report["reset"] = str(e)
                break
        time.sleep(0.005)
    s.close()
    report["duration"] = round(time.monotonic() - t0, 3)
    _emit(report, a.report)


def main():
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("recv")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bind")
    p.add_argument("--bin", type=float, default=0.05)
    p.add_argument("--report")
    p.set_defaults(fn=recv)
    p = sub.add_parser("send")
    p.add_argument("--to", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, required=True, help="bytes per second")
    p.add_argument("--report")
    p.set_defaults(fn=send)
    a = ap.parse_args()
    return a.fn(a) or 0


if __name__ == "__main__":
    sys.exit(main())
