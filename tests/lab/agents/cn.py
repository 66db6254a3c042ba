#!/usr/bin/python3
"""Correspondent-side traffic tools for the lab (run in P-cn or P-mn); each
prints or writes one JSON report.

  cn.py udp-stream --to ADDR --port N --rate PPS --duration S [--size B] [--bind A]
  cn.py udp-sink   --port N --report FILE [--bind A] [--duration S] [--idle-exit S]
  cn.py udp-echo   --port N [--bind A] [--duration S]
  cn.py udp-ping   --to ADDR --port N [--count C] [--interval S] [--timeout S]
  cn.py tcp-hold server --port N [--bind A] [--report FILE] [--duration S]
  cn.py tcp-hold client --to ADDR --port N [--duration S] [--interval 0.05]
                        [--stall-ms X] [--report FILE]

Stream packets carry a magic, a sequence number and the send time
(time.time_ns(), comparable across namespaces of one machine).  The sink
reports received, lost, duplicates, reordered, the longest gap and every
arrival (sequence, arrival time, one-way delay) for plotting.  A stream
ends with three END packets that carry the number sent.
"""

import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import time

MAGIC = b"MIPS"
END = 0xFFFFFFFF
HDR = struct.Struct("!4sIQ")  # magic, seq, send time ns
_stop = [False]


def _on_signal(signum, _frame):
    _stop[0] = True


def _signals():
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def emit(report, path):
    text = json.dumps(report)
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    print(text if not path else json.dumps({k: v for k, v in report.items()
                                             if k != "arrivals"}), flush=True)


# ---------------------------------------------------------------- UDP stream

def udp_stream(a):
    _signals()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.bind:
        s.bind((a.bind, 0))
    pad = b"\0" * max(0, a.size - HDR.size)
    total = int(a.rate * a.duration)
    t0 = time.monotonic()
    sent = errors = 0
    for seq in range(total):
        if _stop[0]:
            break
        due = t0 + seq / a.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            s.sendto(HDR.pack(MAGIC, seq, time.time_ns()) + pad, (a.to, a.port))
            sent += 1
        except OSError:
            errors += 1  # e.g. no route during a handover: counted, not fatal
    for _ in range(3):
        try:
            s.sendto(HDR.pack(MAGIC, END, sent), (a.to, a.port))
        except OSError:
            pass
        time.sleep(0.02)
    print(json.dumps({"sent": sent, "send_errors": errors, "planned": total,
                      "elapsed": round(time.monotonic() - t0, 3)}), flush=True)


def udp_sink(a):
    _signals()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.bind or "0.0.0.0", a.port))
    print(json.dumps({"ready": True, "port": s.getsockname()[1]}), flush=True)
    seen = {}
    arrivals = []
    dups = reordered = 0
    max_seq = -1
    expected = None
    first = last = None
    end_at = time.monotonic() + a.duration if a.duration else None
    while not _stop[0]:
        now = time.monotonic()
        if end_at and now >= end_at:
            break
        if a.idle_exit and last is not None and time.time() - last > a.idle_exit:
            break
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            continue
        data, _src = s.recvfrom(65535)
        t = time.time()
        if len(data) < HDR.size or data[:4] != MAGIC:
            continue
        _, seq, sent_ns = HDR.unpack_from(data)
        if seq == END:
            expected = sent_ns
            if a.exit_on_end:
                break
            continue
        if seq in seen:
            dups += 1
            continue
        if seq < max_seq:
            reordered += 1
        max_seq = max(max_seq, seq)
        seen[seq] = t
        first = t if first is None else first
        last = t
        arrivals.append([seq, round(t, 6), round((t - sent_ns / 1e9) * 1000, 3)])
    times = sorted(x[1] for x in arrivals)
    gaps = [(b - a_) * 1000 for a_, b in zip(times, times[1:])]
    exp = expected if expected is not None else max_seq + 1
    report = {"received": len(seen), "expected": exp, "expected_from": (
        "end-marker" if expected is not None else "max-seq"),
        "lost": max(0, exp - len(seen)), "duplicates": dups, "reordered": reordered,
        "longest_gap_ms": round(max(gaps), 3) if gaps else None,
        "first_arrival": first, "last_arrival": last,
        "missing": missing_ranges(seen, exp), "arrivals": arrivals}
    emit(report, a.report)


def missing_ranges(seen, n):
    out, start = [], None
    for i in range(n):
        if i not in seen:
            start = i if start is None else start
        elif start is not None:
            out.append([start, i - 1])
            start = None
    if start is not None:
        out.append([start, n - 1])
    return out


def udp_echo(a):
    _signals()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind or "0.0.0.0", a.port))
    print(json.dumps({"ready": True}), flush=True)
    n = 0
    end_at = time.monotonic() + a.duration if a.duration else None
    while not _stop[0] and (end_at is None or time.monotonic() < end_at):
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            data, src = s.recvfrom(65535)
            s.sendto(data, src)
            n += 1
    print(json.dumps({"echoed": n}), flush=True)


def udp_ping(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.bind:
        s.bind((a.bind, 0))
    rtts, lost = [], 0
    for seq in range(a.count):
        t0 = time.time_ns()
        s.sendto(HDR.pack(MAGIC, seq, t0), (a.to, a.port))
        deadline = time.monotonic() + a.timeout
        got = False
        while time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
            if not r:
                break
            data, _ = s.recvfrom(65535)
            if len(data) >= HDR.size and HDR.unpack_from(data)[1] == seq:
                rtts.append(round((time.time_ns() - t0) / 1e6, 3))
                got = True
                break
        lost += not got
        time.sleep(a.interval)
    print(json.dumps({"sent": a.count, "received": len(rtts), "lost": lost, "rtt_ms": rtts}))
    return 0 if rtts else 1


# ---------------------------------------------------------------- TCP hold

MSG = struct.Struct("!QQ")  # seq, send time ns


def tcp_server(a):
    _signals()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind or "0.0.0.0", a.port))
    ls.listen(1)
    print(json.dumps({"ready": True}), flush=True)
    end_at = time.monotonic() + a.duration if a.duration else None
    report = {"connections": 0, "messages": 0, "reset": None, "longest_silence_ms": 0.0}
    conn = None
    buf = b""
    last = None
    while not _stop[0] and (end_at is None or time.monotonic() < end_at):
        socks = [conn] if conn else [ls]
        r, _, _ = select.select(socks, [], [], 0.1)
        if not r:
            continue
        if conn is None:
            conn, peer = ls.accept()
            report["connections"] += 1
            report["peer"] = list(peer)
            continue
        try:
            data = conn.recv(65536)
        except OSError as e:
            report["reset"] = str(e)
            conn.close()
            conn = None
            continue
        if not data:
            report["closed_by_peer"] = True
            conn.close()
            conn = None
            continue
        now = time.monotonic()
        if last is not None:
            report["longest_silence_ms"] = max(report["longest_silence_ms"],
                                               round((now - last) * 1000, 3))
        last = now
        buf += data
        n = len(buf) // MSG.size
        report["messages"] += n
        try:
            conn.sendall(buf[:n * MSG.size])
        except OSError as e:
            report["reset"] = str(e)
        buf = buf[n * MSG.size:]
    emit(report, a.report)


def tcp_client(a):
    """Keep one connection, send a message every interval, and time the
    echoes: a stall is a gap between echoes longer than stall_ms."""
    _signals()
    report = {"connected": False, "sent": 0, "echoed": 0, "stalls": [], "reset": None,
              "longest_gap_ms": 0.0}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.bind:
        s.bind((a.bind, 0))
    s.settimeout(a.connect_timeout)
    t_start = time.monotonic()
    try:
        s.connect((a.to, a.port))
    except OSError as e:
        report["reset"] = "connect: %s" % e
        emit(report, a.report)
        return 1
    report["connected"] = True
    report["connect_ms"] = round((time.monotonic() - t_start) * 1000, 3)
    s.setblocking(False)
    seq = 0
    next_send = time.monotonic()
    last_echo = time.monotonic()
    end_at = time.monotonic() + a.duration
    buf = b""
    while not _stop[0] and time.monotonic() < end_at:
        now = time.monotonic()
        if now >= next_send:
            try:
                s.send(MSG.pack(seq, time.time_ns()))
                seq += 1
                report["sent"] = seq
            except BlockingIOError:
                pass
            except OSError as e:
                report["reset"] = str(e)
                break
            next_send += a.interval
        r, _, _ = select.select([s], [], [], max(0.0, min(next_send - time.monotonic(), 0.05)))
        if r:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                report["reset"] = str(e)
                break
            if not data:
                report["reset"] = "closed by peer"
                break
            buf += data
            n = len(buf) // MSG.size
            buf = buf[n * MSG.size:]
            if n:
                now = time.monotonic()
                gap = (now - last_echo) * 1000
                report["longest_gap_ms"] = max(report["longest_gap_ms"], round(gap, 3))
                if gap > a.stall_ms:
                    report["stalls"].append({"start": round(time.time() - gap / 1000, 3),
                                             "ms": round(gap, 3)})
                last_echo = now
                report["echoed"] += n
    # A stall still open when the run ends counts too.
    gap = (time.monotonic() - last_echo) * 1000
    if report["connected"] and gap > a.stall_ms and report["reset"] is None:
        report["stalls"].append({"start": round(time.time() - gap / 1000, 3),
                                 "ms": round(gap, 3), "open": True})
    s.close()
    report["duration"] = round(time.monotonic() - t_start, 3)
    emit(report, a.report)
    return 1 if report["reset"] else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("udp-stream")
    p.add_argument("--to", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--bind")
    p.set_defaults(fn=udp_stream)
    p = sub.add_parser("udp-sink")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--report")
    p.add_argument("--bind")
    p.add_argument("--duration", type=float, default=0.0)
    p.add_argument("--idle-exit", type=float, default=0.0)
    p.add_argument("--exit-on-end", action="store_true")
    p.set_defaults(fn=udp_sink)
    p = sub.add_parser("udp-echo")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bind")
    p.add_argument("--duration", type=float, default=0.0)
    p.set_defaults(fn=udp_echo)
    p = sub.add_parser("udp-ping")
    p.add_argument("--to", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bind")
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=1.0)
    p.set_defaults(fn=udp_ping)
    p = sub.add_parser("tcp-hold")
    p.add_argument("role", choices=("server", "client"))
    p.add_argument("--to")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bind")
    p.add_argument("--duration", type=float, default=0.0)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--stall-ms", type=float, default=500.0)
    p.add_argument("--connect-timeout", type=float, default=5.0)
    p.add_argument("--report")
    p.set_defaults(fn=lambda a: tcp_server(a) if a.role == "server" else tcp_client(a))
    a = ap.parse_args()
    if a.cmd == "tcp-hold" and a.role == "client":
        if not a.to:
            ap.error("tcp-hold client needs --to")
        if not a.duration:
            a.duration = 5.0
    return a.fn(a) or 0


if __name__ == "__main__":
    sys.exit(main())
