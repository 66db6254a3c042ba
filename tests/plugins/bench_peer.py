#!/usr/bin/python3
"""A tiny TCP/UDP sender and receiver for the tunnel throughput benchmark
(iperf3 is not installed): `serve tcp|udp ADDR`, `send tcp|udp ADDR`.
Prints one line of numbers; asserts nothing."""
import argparse
import socket
import time

PORT = 5201


def serve(mode, addr):
    if mode == "tcp":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, PORT))
        ls.listen(1)
        ls.settimeout(30)
        c, _ = ls.accept()
        total, t0 = 0, time.monotonic()
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            total += len(b)
        dt = time.monotonic() - t0
        print(f"received {total} bytes in {dt:.2f}s = {total * 8 / dt / 1e6:.0f} Mbit/s")
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, PORT))
    s.settimeout(30)
    n = total = 0
    first = last = None
    while True:
        try:
            b = s.recv(65535)
        except socket.timeout:
            break
        last = time.monotonic()
        first = first or last
        n += 1
        total += len(b)
        s.settimeout(1.0)
    dt = (last - first) if n > 1 else float("nan")
    print(f"received {n} datagrams ({total} bytes) in {dt:.2f}s = {n / dt:.0f} pkt/s, "
          f"{total * 8 / dt / 1e6:.0f} Mbit/s")


def send(mode, addr, seconds, size):
    end = time.monotonic() + seconds
    if mode == "tcp":
        c = socket.create_connection((addr, PORT), timeout=10)
        chunk, total = b"\0" * (1 << 16), 0
        while time.monotonic() < end:
            c.sendall(chunk)
            total += len(chunk)
        c.close()
        print(f"sent {total} bytes in {seconds}s")
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload, n, err = b"\0" * size, 0, 0
    t0 = time.monotonic()
    while time.monotonic() < end:
        for _ in range(64):
            try:
                s.sendto(payload, (addr, PORT))
                n += 1
            except OSError:
                err += 1
    dt = time.monotonic() - t0
    print(f"sent {n} datagrams of {size} bytes in {dt:.2f}s = {n / dt:.0f} pkt/s "
          f"({err} send errors)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=("serve", "send"))
    ap.add_argument("mode", choices=("tcp", "udp"))
    ap.add_argument("addr")
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--size", type=int, default=1400)
    a = ap.parse_args()
    if a.role == "serve":
        serve(a.mode, a.addr)
    else:
        send(a.mode, a.addr, a.seconds, a.size)


if __name__ == "__main__":
    main()
