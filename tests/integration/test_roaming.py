"""mipd roaming end to end in the lab: at home, through a foreign agent,
co-located on a DHCP network with and without reverse tunnelling, back home,
short lifetimes, and one TCP connection across every move (issue 4)."""

import json
import os
import subprocess
import sys
import time

import pytest

from mipdlab import ping

HOME = "198.18.0.50"
HA = "198.18.0.1"
FA = "198.51.100.1"
AGENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab",
                      "agents")
PY = "/usr/bin/python3"


def bindings(lab):
    return lab.ha.call({"cmd": "bindings"})["bindings"]


def ha_counters(lab):
    return lab.ha.call({"cmd": "counters"})["counters"]


def wait_for(pred, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = pred()
        if v:
            return v, time.monotonic() - t0
        time.sleep(0.01)
    raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))


def tcp_exchange(lab, port=5001, rounds=5):
    """A TCP server on the mobile node's home address and a client on the
    correspondent exchanging `rounds` messages; returns the client's output."""
    server = lab.popen("mn", [PY, "-c", f"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{HOME}", {port})); s.listen(1)
c, _ = s.accept()
while True:
    d = c.recv(100)
    if not d: break
    c.sendall(d.upper())
"""], name="tcp-server")
    time.sleep(0.2)
    client = lab.run("cn", [PY, "-c", f"""
import socket
c = socket.create_connection(("{HOME}", {port}), timeout=3)
for i in range({rounds}):
    c.sendall(b"hello %d" % i)
    assert c.recv(100) == b"HELLO %d" % i
print("ok")
"""], timeout=15)
    server.wait(5)
    return client.returncode == 0 and "ok" in client.stdout, client.stdout + client.stderr


@pytest.mark.lab(attach=("home",))
def test_at_home_no_registration_and_direct_traffic(lab, mipd_factory):
    m = mipd_factory(lab)
    st, _ = m.wait_state("at-home", timeout=10)
    assert st["care_of_mode"] == "home"
    ok, out = ping(lab, "cn", HOME)
    assert ok, out
    assert bindings(lab) == []
    # At home the node never registers; it may deregister once at start to
    # clear a binding a previous run left (RFC 5944 §3.6.1.2).
    stats = m.status()["statistics"]
    assert stats["requests_sent"] == stats["deregistrations_sent"]


@pytest.mark.lab(attach=())
def test_visit_fa_registers_through_agent_within_one_second(lab, mipd_factory):
    m = mipd_factory(lab)
    m.wait_state("idle", timeout=10)
    t0 = time.monotonic()
    lab.attach("fa")
    b, elapsed = wait_for(lambda: bindings(lab), 5, "a binding at the home agent")
    assert elapsed < 1.0, "registration took %.3f s after link up" % elapsed
    assert [x["care_of_address"] for x in b] == [FA], b
    st, _ = m.wait_state("registered", timeout=5, care_of_mode="foreign-agent")
    assert st["care_of_address"] == FA
    assert st["interface"] == "fa0"
    visitors = lab.fa.call({"cmd": "visitors"})["visitors"]
    assert any(v["home_address"] == HOME for v in visitors)
    ok, out = ping(lab, "cn", HOME)
    assert ok, out
    ok, out = tcp_exchange(lab)
    assert ok, out
    print("link up -> binding at HA: %.1f ms" % ((time.monotonic() - t0) * 1000))


@pytest.mark.parametrize("reverse", [True, False], ids=["reverse-tunnel", "no-reverse-tunnel"])
@pytest.mark.lab(attach=())
def test_visit_dhcp_registers_colocated(lab, mipd_factory, reverse):
    m = mipd_factory(lab, reverse_tunnel=reverse)
    lab.attach("dhcp")
    lease = lab.wait_lease("dhcp0", timeout=10)
    st, _ = m.wait_state("registered", timeout=10, care_of_mode="co-located")
    assert st["care_of_address"] == lease
    assert st["reverse_tunnel"] is reverse
    b = bindings(lab)
    assert len(b) == 1
    ok, out = ping(lab, "cn", HOME)
    assert ok, out
    ok, out = tcp_exchange(lab)
    assert ok, out
    tunnel = ha_counters(lab)["tunnel"]
    assert tunnel.get("out_ipip", 0) > 0, tunnel
    if reverse:
        assert tunnel.get("in_ipip", 0) > 0, tunnel
    else:
        assert tunnel.get("in_ipip", 0) == 0, tunnel


@pytest.mark.lab(attach=("fa",))
def test_back_home_deregisters_and_home_agent_stops_proxying(lab, mipd_factory):
    m = mipd_factory(lab)
    m.wait_state("registered", timeout=10)
    proxies = lab.run("home", ["ip", "neigh", "show", "proxy"]).stdout
    assert HOME in proxies
    lab.detach("fa")
    lab.attach("home")
    m.wait_state("at-home", timeout=10)
    wait_for(lambda: bindings(lab) == [], 5, "the binding to go")
    wait_for(lambda: HOME not in lab.run("home", ["ip", "neigh", "show", "proxy"]).stdout, 5,
             "the proxy ARP entry to go")
    ok, out = ping(lab, "cn", HOME)
    assert ok, out


@pytest.mark.lab(attach=("dhcp",))
def test_short_lifetime_never_lapses(lab, mipd_factory):
    m = mipd_factory(lab, lifetime=10)
    m.wait_state("registered", timeout=10)
    accepted0 = ha_counters(lab).get("accepted", 0)
    t_end = time.monotonic() + 60
    gaps = 0
    while time.monotonic() < t_end:
        if not bindings(lab):
            gaps += 1
        time.sleep(0.25)
    assert gaps == 0, "the binding lapsed %d times" % gaps
    renewals = ha_counters(lab).get("accepted", 0) - accepted0
    assert renewals >= 5, "only %d renewals in 60 s with a 10 s lifetime" % renewals
    st = m.status()
    assert st["state"] == "registered"
    assert st["statistics"].get("expiries", 0) == 0


@pytest.mark.lab(attach=())
def test_foreign_agent_network_without_dhcp(lab, mipd_factory):
    """A foreign agent's network need not hand out addresses: the node hears
    the agent on a link with no address of its own (rp_filter is on in the
    mobile node) and registers through it."""
    with open(os.path.join(lab.run_dir, "dnsmasq-vfa.pid")) as f:
        os.kill(int(f.read().strip()), 15)
    m = mipd_factory(lab)
    lab.attach("fa")
    st, _ = m.wait_state("registered", timeout=10, care_of_mode="foreign-agent")
    assert st["care_of_address"] == FA
    assert lab.run("mn", ["sysctl", "-n", "net.ipv4.conf.fa0.rp_filter"]).stdout.strip() != "0" or \
        lab.run("mn", ["sysctl", "-n", "net.ipv4.conf.all.rp_filter"]).stdout.strip() != "0"
    ok, out = ping(lab, "cn", HOME)
    assert ok, out
