#!/usr/bin/python3
"""The TUN tunnel, the route plugin and tunnel selection, tested for real in
network namespaces this script creates (and always removes). Run as root:
`netns_test.py NAME`; exit 77 when it cannot run here. An independent peer
(raw sockets in Python, packets built by hand) plays the home agent.

  MN mn0 192.0.2.10/24 ── r0 192.0.2.254 (+ .66, a stranger) RT
                            r1 198.51.100.254 ── ha0 198.51.100.1 HA
     home0 ── h0 198.18.0.254/24 HOME (routes tests)
  home address 198.18.0.50, home agent 198.51.100.1, correspondent 203.0.113.10
"""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import (COA, CN, GW, HA, HA_GW, HOME, STRANGER, Lab, Skip,  # noqa: E402
                    icmp_echo, ipv4, minimal_decap, minimal_encap, ns_socket, parse_ipv4,
                    recv_until, run, topology)
import routes_checks  # noqa: E402

PROTO = {"ipip": 4, "gre": 47, "minimal": 55}
GRE_HDR = b"\x00\x00\x08\x00"


def colocated(encap="ipip", coa=COA, gw=GW, ha=HA, home=HOME, link="mn0"):
    return f"plan colocated link={link} home={home} ha={ha} coa={coa} gw={gw} encap={encap}"


class Agent:
    """The home agent's end, independent of mipd: encapsulates toward the
    care-of address and decapsulates what the node reverse-tunnels."""

    def __init__(self, lab, encap, ns="ha", bind=None):
        self.encap = encap
        ns = lab.ns(ns)
        self.rx = ns_socket(ns, socket.AF_INET, socket.SOCK_RAW, PROTO[encap])
        if encap == "minimal":
            self.tx = ns_socket(ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        else:
            self.tx = ns_socket(ns, socket.AF_INET, socket.SOCK_RAW, PROTO[encap])
        if bind:
            self.tx.bind((bind, 0))
        self.src = bind or HA

    def send(self, inner, coa=COA):
        if self.encap == "ipip":
            self.tx.sendto(inner, (coa, 0))
        elif self.encap == "gre":
            self.tx.sendto(GRE_HDR + inner, (coa, 0))
        else:
            self.tx.sendto(minimal_encap(inner, self.src, coa), (coa, 0))

    def decap(self, outer):
        o = parse_ipv4(outer)
        if o["proto"] != PROTO[self.encap]:
            return None, o
        if self.encap == "ipip":
            return o["payload"], o
        if self.encap == "gre":
            if o["payload"][:4] != GRE_HDR:
                raise AssertionError(f"GRE header {o['payload'][:4].hex()}")
            return o["payload"][4:], o
        return minimal_decap(outer), o

    def close(self):
        self.rx.close()
        self.tx.close()


def echo_through_tunnel(agent, ident, seq, tos=0x20, timeout=3):
    """Sends an echo request from CN to the home address through the tunnel;
    returns (outer, inner) of the node's reverse-tunnelled reply, or None."""
    data = os.urandom(24)
    agent.send(ipv4(CN, HOME, 1, icmp_echo(ident, seq, data), tos=tos))

    def is_reply(b):
        inner, o = agent.decap(b)
        if inner is None or o["src"] != COA:
            return False
        i = parse_ipv4(inner)
        return (i["proto"] == 1 and i["payload"][0] == 0
                and struct.unpack("!HH", i["payload"][4:8]) == (ident, seq)
                and i["payload"][8:] == data)

    b = recv_until(agent.rx, timeout, is_reply)
    if b is None:
        return None
    inner, o = agent.decap(b)
    return o, parse_ipv4(inner)


def route_get(lab, *args):
    return lab.ipj("mn", "route", "get", *args)[0]


def arp_answers(lab, target):
    p = lab.sh("rt", "arping", "-c", "2", "-w", "3", "-I", "r0", "-s", GW, target, check=False)
    return p.returncode == 0


def test_tunnel(lab, encap):
    topology(lab)
    d = lab.driver("mn")
    name = d.ok("open tun")
    assert name.startswith("tun "), name
    d.ok("routes")
    d.ok(colocated(encap))
    agent = Agent(lab, encap)
    ident = random.randrange(1, 0xFFFF)
    for seq in (1, 2, 3):
        got = echo_through_tunnel(agent, ident, seq)
        assert got, f"no reverse-tunnelled echo reply over {encap} (seq {seq}); stats {d.stats()}"
        o, i = got
        assert (o["src"], o["dst"]) == (COA, HA), o
        assert (i["src"], i["dst"]) == (HOME, CN), i
        assert i["csum_ok"], "inner header checksum"
        assert o["tos"] == 0x20 and i["tos"] == 0x20, (o["tos"], i["tos"])
    s = d.stats()
    assert s["rx_packets"] >= 3 and s["tx_packets"] >= 3 and s["rx_dropped"] == 0, s
    print(f"{encap}: 3 echoes through the tunnel; stats {s}")

    # Registrations and outer packets leave by the physical link from the
    # care-of address; everything else from the home address through mip0.
    r = route_get(lab, HA)
    assert (r["dev"], r.get("gateway"), r["prefsrc"]) == ("mn0", GW, COA), r
    r = route_get(lab, CN)
    assert (r["dev"], r["prefsrc"]) == ("mip0", HOME), r
    r = route_get(lab, CN, "from", COA)
    assert (r["dev"], r.get("gateway")) == ("mn0", GW), r
    # RFC 5944 §4.6: nobody on the visited link gets an ARP answer for the
    # home address; the lease still answers (so arping itself works).
    if shutil.which("arping"):
        assert arp_answers(lab, COA), "arping control failed: the care-of address must answer"
        assert not arp_answers(lab, HOME), "the node answered ARP for its home address"
    agent.close()
    d.quit()
    assert not link_exists(lab, "mip0"), "mip0 left behind"
    routes_checks.assert_clean(lab)


def link_exists(lab, name):
    return lab.ip("mn", "link", "show", name, check=False).returncode == 0


def test_forged(lab):
    topology(lab)
    d = lab.driver("mn")
    d.ok("open tun")
    d.ok("routes")
    d.ok(colocated("ipip"))
    agent = Agent(lab, "ipip")
    stranger = Agent(lab, "ipip", ns="rt", bind=STRANGER)
    ident = random.randrange(1, 0xFFFF)

    # A stranger on the visited link injects echo requests for the home address.
    for seq in range(1, 4):
        stranger.send(ipv4(CN, HOME, 1, icmp_echo(ident, seq, b"forged")))
    for sock in (agent.rx, stranger.rx):
        assert recv_until(sock, 1.0, lambda b: True) is None, "a forged packet got an answer"
    s = d.stats()
    assert s["rx_not_from_agent"] == 3 and s["rx_packets"] == 0, s

    # From the agent, but not for the home address / malformed inside.
    agent.send(ipv4(CN, "198.18.0.51", 1, icmp_echo(ident, 9, b"x")))
    bad = bytearray(ipv4(CN, HOME, 1, icmp_echo(ident, 10, b"x")))
    bad[10] ^= 0xFF
    agent.send(bytes(bad))
    agent.send(ipv4(HOME, HOME, 1, icmp_echo(ident, 11, b"loop")))
    time.sleep(0.5)
    s = d.stats()
    assert s["rx_not_for_home"] == 1 and s["rx_malformed"] == 2 and s["rx_packets"] == 0, s
    assert s["rx_dropped"] == 6, s

    # Out of the tunnel only the home address: a packet from the care-of
    # address routed into mip0 is dropped, not tunnelled.
    lab.ip("mn", "route", "add", "203.0.113.99", "dev", "mip0", "src", COA)
    lab.sh("mn", "ping", "-c", "1", "-W", "1", "-I", COA, "203.0.113.99", check=False)
    s = d.stats()
    assert s["tx_dropped"] >= 1 and s["tx_packets"] == 0, s
    assert recv_until(agent.rx, 0.5, lambda b: True) is None, "tunnelled a foreign source"

    # And the genuine agent still gets through.
    assert echo_through_tunnel(agent, ident, 20), "genuine packet refused after the forgeries"
    print(f"forged: refused as expected; stats {d.stats()}")
    agent.close()
    stranger.close()
    d.quit()


def test_icmp_error(lab):
    """No socket at the agent: its kernel answers protocol unreachable. The
    node's raw socket must clear the error (no busy loop) and keep working."""
    topology(lab)
    d = lab.driver("mn")
    d.ok("open tun")
    d.ok("routes")
    d.ok(colocated("ipip"))
    lab.sh("mn", "ping", "-c", "6", "-i", "0.2", "-W", "1", "-I", HOME, CN, check=False)
    s = d.stats()
    assert s["icmp_errors"] >= 1 and s["tx_packets"] >= 3, s
    assert "does not accept IPIP-encapsulated packets" in d.stderr(), d.stderr()
    cpu0 = d.cpu_seconds()
    time.sleep(1.0)
    spent = d.cpu_seconds() - cpu0
    assert spent < 0.3, f"driver used {spent:.2f}s CPU in 1s idle: POLLERR not cleared?"
    agent = Agent(lab, "ipip")
    assert echo_through_tunnel(agent, 77, 1), "tunnel dead after ICMP errors"
    print(f"icmp-error: cleared; stats {d.stats()}; idle CPU {spent:.3f}s")
    agent.close()
    d.quit()


def test_device_deleted(lab):
    """Someone deletes mip0 under the running tunnel: the driver must not
    spin on the dead descriptor, must say so, and must still shut down."""
    topology(lab)
    d = lab.driver("mn")
    d.ok("open tun")
    d.ok("routes")
    d.ok(colocated("ipip"))
    lab.ip("mn", "link", "del", "mip0")
    time.sleep(0.3)
    cpu0 = d.cpu_seconds()
    time.sleep(1.0)
    spent = d.cpu_seconds() - cpu0
    assert spent < 0.3, f"driver used {spent:.2f}s CPU in 1s after mip0 vanished"
    assert "was removed by someone else" in d.stderr(), d.stderr()
    ok, msg = d.cmd(colocated("gre"))
    assert not ok, "applying a plan to a vanished mip0 claimed success"
    print(f"device-deleted: idle CPU {spent:.3f}s; re-apply says: {msg}")
    d.quit()
    routes_checks.assert_clean(lab)


def test_udp_unsupported(lab):
    topology(lab)
    d = lab.driver("mn")
    d.ok("open tun")
    ok, msg = d.cmd(colocated("udp"))
    assert not ok and "not supported" in msg and "RFC 3519" in msg, msg
    print(f"udp: {msg}")
    d.quit()


def test_select(lab):
    lab.add_ns("mn")
    d = lab.driver("mn")
    ok, msg = d.cmd("open kernel")
    assert not ok and "kernel" in msg, msg
    low = msg.lower()
    assert "ipip" in low or "gre" in low or "module" in low, msg
    print(f"select kernel: {msg}")
    ok, msg = d.cmd("open bogus")
    assert not ok and "unknown tunnel back end" in msg, msg
    name = d.ok("open auto")
    assert name.startswith("tun "), name
    err = d.stderr()
    assert "kernel back end unavailable (" in err and "TUN back end" in err, err
    print(f"select auto -> {name}; log: {err.strip()}")
    # A second mipd in the same namespace cannot take mip0.
    d2 = lab.driver("mn", "second")
    ok, msg = d2.cmd("open tun")
    assert not ok and "mip0" in msg, msg
    print(f"second open: {msg}")
    d2.quit()
    d.quit()


def test_throughput(lab):
    """Not a pass/fail test: prints what the TUN tunnel carries. The agent's
    end is a second driver with the roles mirrored (its 'home address' is
    the correspondent), so the kernel's TCP runs on both ends."""
    topology(lab)
    mn, ha = lab.driver("mn", "mn"), lab.driver("ha", "ha")
    for d in (mn, ha):
        d.ok("open tun")
        d.ok("routes")
    mn.ok(colocated("ipip"))
    ha.ok(colocated("ipip", coa=HA, gw=HA_GW, ha=COA, home=CN, link="ha0"))
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_peer.py")
    for title, args in (("ping -f -c 10000 through the tunnel", ["-I", HOME, CN]),
                        ("ping -f -c 10000 direct (no tunnel)", ["-I", COA, HA])):
        p = lab.sh("mn", "ping", "-f", "-q", "-c", "10000", "-s", "56", *args, check=False,
                   timeout=120)
        print(f"{title}:\n  " + "\n  ".join(p.stdout.strip().splitlines()[-2:]))
    for mode, args in (("tcp", []), ("udp", ["--size", "1400"])):
        srv = lab.popen("ha", ["/usr/bin/python3", bench, "serve", mode, CN],
                        stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        cli = lab.sh("mn", "/usr/bin/python3", bench, "send", mode, CN, "--seconds", "4",
                     *args, check=False, timeout=60)
        out, _ = srv.communicate(timeout=30)
        print(f"{mode} through the tunnel: sender: {cli.stdout.strip()} receiver: {out.strip()}")
    print(f"tunnel stats: MN {mn.stats()}\n              HA {ha.stats()}")
    mn.quit()
    ha.quit()


TESTS = {
    "tun-ipip": lambda lab: test_tunnel(lab, "ipip"),
    "tun-gre": lambda lab: test_tunnel(lab, "gre"),
    "tun-minimal": lambda lab: test_tunnel(lab, "minimal"),
    "tun-forged": test_forged,
    "tun-icmp-error": test_icmp_error,
    "tun-udp-unsupported": test_udp_unsupported,
    "tun-device-deleted": test_device_deleted,
    "select": test_select,
    "throughput": test_throughput,
    **routes_checks.TESTS,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in TESTS:
        print(f"usage: {sys.argv[0]} {'|'.join(sorted(TESTS))}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, raw sockets, TUN)")
        return 77
    for tool in ("ip",):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not installed")
            return 77
    if not os.path.exists("/dev/net/tun"):
        print("SKIP: no /dev/net/tun")
        return 77
    if "MIP_PLUGINS_DRIVER" not in os.environ:
        print("SKIP: MIP_PLUGINS_DRIVER not set (run through meson test)")
        return 77
    # meson's timeout sends SIGTERM: turn it into an exception so the
    # namespaces are removed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    lab = Lab()
    try:
        try:
            run(["ip", "netns", "add", f"{lab.prefix}-probe"])
            lab.namespaces.append(f"{lab.prefix}-probe")
        except RuntimeError as e:
            print(f"SKIP: cannot create network namespaces: {e}")
            return 77
        TESTS[sys.argv[1]](lab)
        print(f"PASS {sys.argv[1]}")
        return 0
    except Skip as e:
        print(f"SKIP: {e}")
        return 77
    finally:
        lab.cleanup()


if __name__ == "__main__":
    sys.exit(main())
