"""Self-tests of the lab's independent agents (tests/lab/agents/): a scripted
mobile node (selftest/mnsim.py, which shares no code with the agents)
registers through the foreign agent and directly with the home agent, traffic
crosses the tunnels, every fault knob does what README.md says, and tshark
decodes what the agents put on the wire.  Run as root:

    cd tests/lab && /usr/bin/python3 -m pytest selftest/test_agents.py
"""

import json
import os
import signal
import subprocess
import time

import pytest

from labkit import topology

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
MNSIM = os.path.join(HERE, "mnsim.py")
CN = os.path.join(os.path.dirname(HERE), "agents", "cn.py")
HOME = topology.HOME_ADDRESS
HA = topology.HOME_AGENT
FA = topology.FOREIGN_AGENT
KEYS = {k["spi"]: k for k in topology.KEYS}
NTP_OFFSET = 2208988800


# ---------------------------------------------------------------- helpers

@pytest.fixture(autouse=True)
def agents_stay_healthy(lab):
    """After each test: neither agent hit an internal error (a bug logged
    with its traceback in RUN/ha.log or fa.log)."""
    yield
    for client in (lab.ha, lab.fa):
        if client.ping():
            assert client.call({"cmd": "errors"})["internal_errors"] == 0, \
                "%s logged internal errors" % client.name


def wait_for(pred, timeout=5.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(step)


def on_foreign_link(lab):
    """Put the node on the foreign agent's link the way a Mobile IP node in
    foreign-agent mode is: only its home address, a host route to the agent
    and the agent as its router (NetworkManager told to keep out of fa0)."""
    lab.nmcli("device", "set", "fa0", "managed", "no")
    lab.attach("fa")
    for c in (["addr", "flush", "dev", "fa0"], ["addr", "add", HOME + "/32", "dev", "fa0"],
              ["link", "set", "fa0", "up"],
              ["route", "replace", FA + "/32", "dev", "fa0", "src", HOME],
              ["route", "replace", "203.0.113.0/24", "via", FA, "dev", "fa0", "onlink",
               "src", HOME],
              # A last-resort default, so the loose reverse-path filter accepts
              # what the agent delivers from anywhere (co-located traffic on
              # NetworkManager's lower-metric defaults is unaffected).
              ["route", "replace", "default", "via", FA, "dev", "fa0", "onlink", "metric",
               "900"]):
        lab.ip("mn", *c)
    # (The agent cannot answer a ping before it knows the node: ARP instead.)
    wait_for(lambda: lab.run("mn", ["arping", "-q", "-c1", "-w1", "-I", "fa0", "-s", HOME,
                                    FA]).returncode == 0,
             timeout=10, what="the foreign agent reachable from fa0")


def colocated(lab, link="dhcp", dev="dhcp0"):
    lab.attach(link)
    return lab.wait_lease(dev, timeout=10)


def register(lab, coa, spi=256, dest=None, bind=None, flags="", lifetime=600, ident="now",
             extra=(), timeout=3.0):
    k = KEYS.get(spi, KEYS[256])
    argv = [PY, MNSIM, "register", "--home", HOME, "--ha", HA, "--coa", coa,
            "--dest", dest or HA, "--bind", bind or coa, "--flags", flags,
            "--lifetime", str(lifetime), "--ident", ident, "--alg", k["algorithm"],
            "--key", k["key"], "--timeout", str(timeout)]
    if spi is not None:
        argv += ["--spi", str(spi)]
    r = lab.run("mn", argv + list(extra), timeout=timeout + 10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[0])


def via_fa(lab, **kw):
    kw.setdefault("flags", "T")
    return register(lab, FA, dest=FA, bind=HOME, **kw)


def counters(client):
    return client.call({"cmd": "counters"})["counters"]


def call_ok(client, req):
    ans = client.call(req)
    assert ans.get("ok"), ans
    return ans


def proxy_entries(lab):
    return lab.ip("home", "neigh", "show", "proxy")


def ntp_now():
    return int(time.time()) + NTP_OFFSET


def mac(lab, node, dev):
    return json.loads(lab.ip(node, "-j", "link", "show", "dev", dev))[0]["address"]


def router_neigh(lab, addr):
    for e in json.loads(lab.ip("router", "-j", "neigh", "show", addr)):
        return e.get("lladdr")
    return None


def capture(lab, node, ifaces, path):
    """tshark writing ifaces of node to path; returns once it is capturing."""
    p = lab.popen(node, ["tshark", "-i"] + " -i ".join(ifaces).split() + ["-w", path],
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: "Capturing on" in p.stderr.readline(), timeout=20, step=0,
             what="tshark to start")
    return p


def ping(lab, node, addr, count=3):
    return lab.run(node, ["ping", "-n", "-c%d" % count, "-i0.2", "-W2", addr], timeout=20)


# ---------------------------------------------------------------- registration and data

@pytest.mark.parametrize("encap,flag", [("ipip", ""), ("gre", "G"), ("minimal", "M")])
def test_registration_through_foreign_agent_tunnels_both_ways(lab, encap, flag):
    on_foreign_link(lab)
    if flag:
        call_ok(lab.fa, {"cmd": "set", "flags": "RT" + flag})
    out = via_fa(lab, flags="T" + flag)
    rep = out["reply"]
    assert rep is not None, "no reply through the foreign agent"
    assert (rep["code"], rep["lifetime"], rep["auth_ok"]) == (0, 600, True)
    assert rep["ident"] == out["sent"]["ident"]
    assert rep["from"] == [FA, 434]

    visitors = lab.fa.call({"cmd": "visitors"})["visitors"]
    assert len(visitors) == 1
    v = visitors[0]
    assert (v["home_address"], v["home_agent"], v["mac"]) == (HOME, HA, mac(lab, "mn", "fa0"))
    assert v["reverse_tunnel"] and v["identification"] == out["sent"]["ident"]

    bindings = lab.ha.call({"cmd": "bindings"})["bindings"]
    assert len(bindings) == 1
    b = bindings[0]
    assert (b["home_address"], b["care_of_address"], b["spi"]) == (HOME, FA, 256)
    assert (b["flags"], b["encapsulation"]) == (flag + "T", encap)
    assert b["identification"] == out["sent"]["ident"] and b["lifetime_left"] > 590
    assert HOME in proxy_entries(lab)

    r = ping(lab, "cn", HOME)
    assert r.returncode == 0, r.stdout
    ha, fa = counters(lab.ha)["tunnel"], counters(lab.fa)["tunnel"]
    assert ha["out_" + encap] >= 3 and fa["in_" + encap] >= 3
    # The node's echo replies came back through the reverse tunnel.
    assert fa["out_" + encap] >= 3 and ha["in_" + encap] >= 3
    # The router learnt the home address at the home agent's MAC.
    assert router_neigh(lab, HOME) == mac(lab, "home", "br0")


def test_without_reverse_tunnel_replies_go_straight(lab):
    on_foreign_link(lab)
    assert via_fa(lab, flags="")["reply"]["code"] == 0
    assert ping(lab, "cn", HOME).returncode == 0
    fa = counters(lab.fa)
    assert fa["tunnel"].get("in_ipip", 0) >= 3
    assert fa["tunnel"].get("out_ipip", 0) == 0
    assert lab.ip("vfa", "rule", "show").count(HOME) == 0


@pytest.mark.parametrize("encap,flag", [("ipip", ""), ("gre", "G"), ("minimal", "M")])
def test_colocated_registration_with_keyed_md5_tunnels_both_ways(lab, encap, flag):
    coa = colocated(lab)
    echo = lab.popen("mn", [PY, MNSIM, "tunnel-echo", "--encap", encap, "--bind", coa,
                            "--ha", HA, "--count", "3", "--reply", "--timeout", "15"],
                     stdout=subprocess.PIPE, text=True)
    assert json.loads(echo.stdout.readline())["ready"]
    out = register(lab, coa, spi=257, flags="DT" + flag)
    rep = out["reply"]
    assert (rep["code"], rep["auth_ok"], rep["from"]) == (0, True, [HA, 434])
    b = lab.ha.call({"cmd": "bindings"})["bindings"][0]
    assert (b["care_of_address"], b["spi"], b["algorithm"], b["colocated"]) == \
        (coa, 257, "keyed-md5", True)

    r = ping(lab, "cn", HOME)
    seen = json.loads(echo.stdout.readline())
    echo.wait(10)
    assert r.returncode == 0, r.stdout
    assert seen["replied"] == 3
    for p in seen["packets"]:
        assert (p["outer_src"], p["inner_dst"], p["inner_src"], p["echo_request"]) == \
            (HA, HOME, "203.0.113.10", True)
    t = counters(lab.ha)["tunnel"]
    assert t["out_" + encap] >= 3 and t["in_" + encap] >= 3


@pytest.mark.parametrize("case", ["forged", "no-mhae", "unknown-spi", "reserved-spi"])
def test_bad_authentication_is_denied_131(lab, case):
    coa = colocated(lab)
    if case == "forged":
        out = register(lab, coa, extra=["--forge"])
    elif case == "no-mhae":
        out = register(lab, coa, spi=None)
    elif case == "unknown-spi":
        out = register(lab, coa, spi=300)
    else:
        out = register(lab, coa, spi=7)
    assert out["reply"]["code"] == 131
    if case == "forged":
        # The home agent knows SPI 256: its denial is authenticated.
        assert out["reply"]["auth_ok"] is True
    assert lab.ha.call({"cmd": "bindings"})["bindings"] == []
    assert counters(lab.ha)["auth_failures"] == 1
    assert HOME not in proxy_entries(lab)


def test_replayed_or_stale_identification_is_denied_133_with_home_agent_time(lab):
    coa = colocated(lab)
    first = register(lab, coa)
    assert first["reply"]["code"] == 0
    again = register(lab, coa, ident=first["sent"]["ident"])
    for out in (again, register(lab, coa, ident="now-300")):
        rep = out["reply"]
        assert rep["code"] == 133 and rep["auth_ok"] is True
        sent = int(out["sent"]["ident"], 16)
        assert rep["ident_low"] == sent & 0xFFFFFFFF
        assert abs(rep["ident_high"] - ntp_now()) <= 2
    c = counters(lab.ha)
    assert c["replays"] == 2 and c["denied"]["133"] == 2
    # The binding made by the first request is untouched.
    b = lab.ha.call({"cmd": "bindings"})["bindings"][0]
    assert b["identification"] == first["sent"]["ident"]


def test_deregistration_removes_binding_route_and_proxy_arp(lab):
    coa = colocated(lab)
    assert register(lab, coa, flags="D")["reply"]["code"] == 0
    assert HOME in proxy_entries(lab)
    assert "hatun" in lab.ip("home", "route", "show", HOME)
    out = register(lab, coa, flags="D", lifetime=0)
    assert (out["reply"]["code"], out["reply"]["lifetime"]) == (0, 0)
    assert lab.ha.call({"cmd": "bindings"})["bindings"] == []
    assert HOME not in proxy_entries(lab)
    assert "hatun" not in lab.ip("home", "route", "show", HOME)


def test_simultaneous_bindings_each_get_a_copy(lab):
    coa = colocated(lab)
    on_foreign_link(lab)
    assert register(lab, coa, flags="SD")["reply"]["code"] == 0
    assert via_fa(lab, flags="S")["reply"]["code"] == 0
    coas = sorted(b["care_of_address"] for b in lab.ha.call({"cmd": "bindings"})["bindings"])
    assert coas == sorted([coa, FA])
    echo = lab.popen("mn", [PY, MNSIM, "tunnel-echo", "--bind", coa, "--ha", HA, "--count", "2",
                            "--timeout", "10"], stdout=subprocess.PIPE, text=True)
    assert json.loads(echo.stdout.readline())["ready"]
    assert ping(lab, "cn", HOME, count=2).returncode == 0   # answered via the FA copy
    seen = json.loads(echo.stdout.readline())
    echo.wait(10)
    assert len(seen["packets"]) == 2                      # the co-located copy
    # Deregistering one care-of address keeps the other.
    assert register(lab, coa, flags="SD", lifetime=0)["reply"]["code"] == 0
    assert [b["care_of_address"] for b in lab.ha.call({"cmd": "bindings"})["bindings"]] == [FA]


def test_udp_tunnelling_through_nat(lab):
    coa = colocated(lab, "nat", "nat0")
    p = lab.popen("mn", [PY, MNSIM, "register", "--home", HOME, "--ha", HA, "--coa", coa,
                         "--bind", coa, "--sport", "434", "--flags", "DT", "--spi", "256",
                         "--key", KEYS[256]["key"], "--udp-tunnel", "4", "--serve-echo", "3",
                         "--serve-timeout", "15"], stdout=subprocess.PIPE, text=True)
    rep = json.loads(p.stdout.readline())["reply"]
    assert rep["code"] == 0 and rep["auth_ok"]
    assert {"type": 44, "len": 6, "code": 0, "keepalive": 110} in rep["exts"]
    b = lab.ha.call({"cmd": "bindings"})["bindings"][0]
    assert b["nat_detected"] and b["udp_tunnel"]["address"] == "198.18.103.1"
    assert b["encapsulation"] == "udp-ipip"
    r = ping(lab, "cn", HOME)
    served = json.loads(p.stdout.readline())["served"]
    p.wait(10)
    assert r.returncode == 0, r.stdout
    assert served["echo_replies_sent"] == 3
    t = counters(lab.ha)["tunnel"]
    assert t["out_udp-ipip"] >= 3 and t["in_udp-ipip"] >= 3


def test_return_home_gratuitous_arp_gives_the_address_back(lab):
    coa = colocated(lab)
    assert register(lab, coa, flags="D")["reply"]["code"] == 0
    ping(lab, "router", HOME, count=1)  # the router ARPs: the home agent answers
    ha_mac, mn_mac = mac(lab, "home", "br0"), mac(lab, "mn", "home0")
    wait_for(lambda: router_neigh(lab, HOME) == ha_mac, what="router entry at the HA's MAC")
    # Back home, configured by hand so that only the home agent's gratuitous
    # ARP (not NetworkManager's or the kernel's own ARP) can fix the router.
    lab.nmcli("device", "set", "home0", "managed", "no")
    for c in (["addr", "flush", "dev", "home0"], ["addr", "add", HOME + "/24", "dev", "home0"],
              ["neigh", "replace", HA, "lladdr", ha_mac, "dev", "home0", "nud", "permanent"]):
        lab.ip("mn", *c)
    lab.detach("dhcp")
    lab.attach("home")
    time.sleep(1.1)  # past the router's ARP locktime
    out = register(lab, HOME, bind=HOME, flags="", lifetime=0, extra=["--iface", "home0"])
    assert (out["reply"]["code"], out["reply"]["from"]) == (0, [HA, 434])
    assert HOME not in proxy_entries(lab)
    wait_for(lambda: router_neigh(lab, HOME) == mn_mac, timeout=3,
             what="the router's entry for the home address at the node's own MAC")


def test_home_agent_denials(lab):
    coa = colocated(lab)
    assert register(lab, coa, extra=["--ha", "198.18.0.2"])["reply"]["code"] == 136
    rep = register(lab, coa, extra=["--ha", "198.18.0.2"])["reply"]
    assert rep["ha"] == HA                     # it names itself for the retry
    assert register(lab, coa, flags="DMG")["reply"]["code"] == 139
    assert register(lab, coa, extra=["--raw-ext", "7f00"])["reply"]["code"] == 134
    call_ok(lab.ha, {"cmd": "set", "reverse_tunnel": False})
    assert register(lab, coa, flags="DT")["reply"]["code"] == 137
    call_ok(lab.ha, {"cmd": "set", "reverse_tunnel": True, "max_bindings": 1})
    assert register(lab, coa, flags="SD")["reply"]["code"] == 0
    on_foreign_link(lab)
    assert via_fa(lab, flags="S")["reply"]["code"] == 135
    assert lab.ha.call({"cmd": "bindings"})["bindings"][0]["care_of_address"] == coa


def test_bindings_and_visitors_expire_with_their_lifetime(lab):
    on_foreign_link(lab)
    call_ok(lab.ha, {"cmd": "set", "max_lifetime": 2})
    rep = via_fa(lab)["reply"]
    assert (rep["code"], rep["lifetime"]) == (0, 2)
    assert lab.fa.call({"cmd": "visitors"})["visitors"][0]["lifetime"] == 2
    wait_for(lambda: not lab.ha.call({"cmd": "bindings"})["bindings"]
             and not lab.fa.call({"cmd": "visitors"})["visitors"], timeout=4,
             what="binding and visitor to expire")
    assert HOME not in proxy_entries(lab)
    assert HOME not in lab.ip("vfa", "route", "show", HOME)
    assert counters(lab.ha)["bindings_expired"] == 1


def test_foreign_agent_times_out_a_silent_home_agent_with_78(lab):
    on_foreign_link(lab)
    call_ok(lab.ha, {"cmd": "silent", "on": True})
    call_ok(lab.fa, {"cmd": "set", "pending_timeout": 1.0})
    rep = via_fa(lab, timeout=3)["reply"]
    assert rep["code"] == 78 and 1.0 <= rep["elapsed"] < 2.6
    assert lab.fa.call({"cmd": "visitors"})["pending"] == []


@pytest.mark.parametrize("mode", ["colocated", "foreign-agent"])
def test_broadcasts_are_forwarded_with_b_bit(lab, mode):
    if mode == "colocated":
        coa = colocated(lab)
        assert register(lab, coa, flags="DB")["reply"]["code"] == 0
        bind = coa
    else:
        # The foreign agent delivers the outer packet to the home address;
        # the node finds the broadcast nested inside (RFC 5944 4.3).
        on_foreign_link(lab)
        assert via_fa(lab, flags="B")["reply"]["code"] == 0
        bind = HOME
    echo = lab.popen("mn", [PY, MNSIM, "tunnel-echo", "--bind", bind, "--ha", HA,
                            "--count", "1", "--timeout", "10"], stdout=subprocess.PIPE, text=True)
    assert json.loads(echo.stdout.readline())["ready"]
    r = lab.run("router", [PY, "-c", "import socket; s = socket.socket(2, 2); "
                           "s.setsockopt(1, 6, 1); s.sendto(b'hello', ('198.18.0.255', 9))"])
    assert r.returncode == 0, r.stderr
    seen = json.loads(echo.stdout.readline())
    echo.wait(10)
    assert len(seen["packets"]) == 1
    p = seen["packets"][0]
    # Co-located: tunnelled to the care-of address.  Via the foreign agent:
    # what reaches the node is the inner tunnel, addressed to its home address.
    assert (p["outer_src"], p["outer_dst"]) == (HA, bind)
    assert (p["inner_dst"], p["inner_proto"]) == ("198.18.0.255", 17)
    assert counters(lab.ha)["broadcasts_forwarded"] == 1


# ---------------------------------------------------------------- foreign agent checks

def test_foreign_agent_denies_bad_requests_with_its_own_codes(lab):
    on_foreign_link(lab)
    before = counters(lab.ha).get("requests", 0)
    assert via_fa(lab, lifetime=601)["reply"]["code"] == 69
    assert via_fa(lab, flags="G")["reply"]["code"] == 72
    assert register(lab, "198.51.100.7", dest=FA, bind=HOME)["reply"]["code"] == 77
    assert via_fa(lab, extra=["--raw-ext", "7f00"])["reply"]["code"] == 70
    call_ok(lab.fa, {"cmd": "set", "flags": "R"})       # no longer offers T
    assert via_fa(lab, flags="T")["reply"]["code"] == 74
    call_ok(lab.fa, {"cmd": "set", "flags": "RT", "reverse_tunnel_required": True})
    assert via_fa(lab, flags="")["reply"]["code"] == 75
    # None of them reached the home agent.
    assert counters(lab.ha).get("requests", 0) == before
    assert counters(lab.fa)["denied"] == {"69": 1, "72": 1, "77": 1, "70": 1, "74": 1, "75": 1}


def test_foreign_agent_answers_solicitations(lab):
    on_foreign_link(lab)
    call_ok(lab.fa, {"cmd": "set", "adv_interval": 60})  # only solicited ones from now on
    r = lab.run("mn", [PY, MNSIM, "adverts", "--iface", "fa0", "--seconds", "2", "--count", "1",
                       "--solicit-from", HOME])
    adv = json.loads(r.stdout)["adverts"]
    assert len(adv) == 1
    a = adv[0]
    assert (a["src"], a["dst"], a["ttl"], a["csum_ok"]) == (FA, HOME, 1, True)
    assert a["coas"] == [FA] and a["prefix_lengths"] == [24] and a["flags"] & 0x10
    assert counters(lab.fa)["solicitations_answered"] == 1


def test_foreign_agent_challenges_rfc3012(lab):
    on_foreign_link(lab)
    call_ok(lab.fa, {"cmd": "set", "challenge": True, "challenge_window": 10})
    r = lab.run("mn", [PY, MNSIM, "adverts", "--iface", "fa0", "--seconds", "3", "--count", "1"])
    challenge = json.loads(r.stdout)["adverts"][0]["challenge"]
    assert len(challenge) == 32
    ext = lambda c: "84%02x%s" % (len(c) // 2, c)  # noqa: E731  MN-FA challenge, type 132
    assert via_fa(lab)["reply"]["code"] == 105
    assert via_fa(lab, extra=["--post-ext", ext("00" * 16)])["reply"]["code"] == 104
    assert via_fa(lab, extra=["--post-ext", ext(challenge)])["reply"]["code"] == 0


# ---------------------------------------------------------------- fault knobs

@pytest.mark.parametrize("agent", ["ha", "fa"])
def test_drop_requests_drops_exactly_n(lab, agent):
    if agent == "fa":
        on_foreign_link(lab)
        reg = lambda: via_fa(lab, timeout=1.0)  # noqa: E731
    else:
        coa = colocated(lab)
        reg = lambda: register(lab, coa, timeout=1.0)  # noqa: E731
    call_ok(getattr(lab, agent), {"cmd": "drop_requests", "count": 2})
    results = [reg()["reply"] for _ in range(3)]
    assert results[0] is None and results[1] is None
    assert results[2] is not None and results[2]["code"] == 0
    assert counters(getattr(lab, agent))["dropped_by_fault"] == 2


@pytest.mark.parametrize("agent,code", [("ha", 130), ("fa", 66)])
def test_force_code_answers_with_that_code_then_recovers(lab, agent, code):
    if agent == "fa":
        on_foreign_link(lab)
        reg = lambda: via_fa(lab)  # noqa: E731
    else:
        coa = colocated(lab)
        reg = lambda: register(lab, coa)  # noqa: E731
    call_ok(getattr(lab, agent), {"cmd": "force_code", "code": code, "count": 2})
    assert [reg()["reply"]["code"] for _ in range(3)] == [code, code, 0]


def test_delay_replies_delays_them(lab):
    coa = colocated(lab)
    assert register(lab, coa)["reply"]["elapsed"] < 0.8
    call_ok(lab.ha, {"cmd": "delay_replies", "seconds": 1.0})
    t = register(lab, coa, timeout=4)["reply"]["elapsed"]
    assert 1.0 <= t < 2.5
    call_ok(lab.ha, {"cmd": "delay_replies", "seconds": 0})
    assert register(lab, coa)["reply"]["elapsed"] < 0.8


def test_forget_drops_every_binding_and_visitor(lab):
    on_foreign_link(lab)
    assert via_fa(lab)["reply"]["code"] == 0
    call_ok(lab.ha, {"cmd": "forget"})
    call_ok(lab.fa, {"cmd": "forget"})
    assert lab.ha.call({"cmd": "bindings"})["bindings"] == []
    assert lab.fa.call({"cmd": "visitors"})["visitors"] == []
    assert HOME not in proxy_entries(lab)
    assert HOME not in lab.ip("vfa", "rule", "show") + lab.ip("vfa", "route", "show", HOME)
    assert ping(lab, "cn", HOME, count=1).returncode != 0
    # A rebooted home agent has no replay state: the same Identification passes.
    assert via_fa(lab)["reply"]["code"] == 0


def test_sequence_wraps_to_256_and_reset_restarts_at_0(lab):
    on_foreign_link(lab)
    listen = lab.popen("mn", [PY, MNSIM, "adverts", "--iface", "fa0", "--seconds", "5",
                              "--count", "4", "--ready"], stdout=subprocess.PIPE, text=True)
    assert json.loads(listen.stdout.readline())["ready"]
    call_ok(lab.fa, {"cmd": "reset_sequence", "to": 65534})
    call_ok(lab.fa, {"cmd": "set", "adv_interval": 0.2})
    seqs = [a["seq"] for a in json.loads(listen.stdout.readline())["adverts"]]
    listen.wait(10)
    assert seqs == [65534, 65535, 256, 257], seqs
    call_ok(lab.fa, {"cmd": "reset_sequence"})
    r = lab.run("mn", [PY, MNSIM, "adverts", "--iface", "fa0", "--seconds", "2", "--count", "1"])
    assert json.loads(r.stdout)["adverts"][0]["seq"] < 256


@pytest.mark.parametrize("agent", ["ha", "fa"])
def test_silent_stops_answering_and_advertising(lab, agent):
    if agent == "fa":
        on_foreign_link(lab)
        reg = lambda: via_fa(lab, timeout=1.5)  # noqa: E731
        iface = "fa0"
    else:
        coa = colocated(lab)
        reg = lambda: register(lab, coa, timeout=1.5)  # noqa: E731
        # On the home link as a listener only: an address (not the home
        # address, which is in use elsewhere) so that the reverse-path filter
        # accepts the multicast advertisements on home0.
        lab.nmcli("device", "set", "home0", "managed", "no")
        lab.ip("mn", "addr", "add", "198.18.0.77/32", "dev", "home0")
        lab.attach("home")
        iface = "home0"
    client = getattr(lab, agent)
    r = lab.run("mn", [PY, MNSIM, "adverts", "--iface", iface, "--seconds", "2.5", "--count", "1"])
    assert len(json.loads(r.stdout)["adverts"]) == 1, "no advertisements to begin with"
    call_ok(client, {"cmd": "silent", "on": True})
    r = lab.run("mn", [PY, MNSIM, "adverts", "--iface", iface, "--seconds", "2.5"])
    assert json.loads(r.stdout)["adverts"] == []
    assert reg()["reply"] is None
    call_ok(client, {"cmd": "silent", "on": False})
    r = lab.run("mn", [PY, MNSIM, "adverts", "--iface", iface, "--seconds", "2.5", "--count", "1"])
    assert len(json.loads(r.stdout)["adverts"]) == 1
    assert reg()["reply"]["code"] == 0


def test_set_max_lifetime_caps_granted_lifetime(lab):
    coa = colocated(lab)
    call_ok(lab.ha, {"cmd": "set", "max_lifetime": 30})
    rep = register(lab, coa, lifetime=600)["reply"]
    assert (rep["code"], rep["lifetime"]) == (0, 30)
    assert lab.ha.call({"cmd": "bindings"})["bindings"][0]["lifetime"] == 30


# ---------------------------------------------------------------- wire format, tools, rate

def test_tshark_decodes_agent_traffic_without_malformed_fields(lab):
    on_foreign_link(lab)
    cap = os.path.join(lab.run_dir, "agents.pcapng")
    tsh = capture(lab, "vfa", ["br0", "up"], cap)
    tsh_home = capture(lab, "home", ["br0"], cap + ".home")  # the HA's own adverts too
    time.sleep(1.2)
    assert via_fa(lab, extra=["--nai", "mn@lab.example"])["reply"]["code"] == 0
    assert via_fa(lab, ident="now-300")["reply"]["code"] == 133
    time.sleep(1.2)
    for p in (tsh, tsh_home):
        p.send_signal(signal.SIGINT)
        p.wait(10)
    fields = ["frame.number", "icmp.type", "icmp.mip.seq", "icmp.mip.h", "icmp.mip.coa",
              "icmp.mip.prefixlength", "mip.type", "mip.code", "mip.flags", "mip.homeaddr",
              "mip.haaddr", "mip.coa", "mip.ext.type", "mip.auth.spi", "mip.nai",
              "_ws.malformed", "_ws.expert.severity"]
    rows = []
    for f in (cap, cap + ".home"):
        r = subprocess.run(["tshark", "-r", f, "-Y", "mip or icmp.type == 9", "-T", "fields",
                            "-E", "separator=|"] + sum((["-e", x] for x in fields), []),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        rows += [dict(zip(fields, line.split("|"))) for line in r.stdout.splitlines()]
    assert rows
    for row in rows:
        assert row["_ws.malformed"] == "", row
        assert row["_ws.expert.severity"] == "", row
    adverts = [r for r in rows if r["icmp.type"] == "9"]
    assert any(r["icmp.mip.coa"] == FA and r["icmp.mip.prefixlength"] == "24" for r in adverts)
    assert any(r["icmp.mip.coa"] == "" and r["icmp.mip.h"] in ("1", "True")
               for r in adverts), "no home agent advertisement with H set"
    reqs = [r for r in rows if r["mip.type"] == "1"]
    reps = [r for r in rows if r["mip.type"] == "3"]
    assert any(r["mip.nai"] == "mn@lab.example" and int(r["mip.auth.spi"], 0) == 256
               and r["mip.ext.type"] == "131,32" for r in reqs)
    assert {r["mip.code"] for r in reps} >= {"0", "133"}
    # The home agent echoes the NAI and signs every reply.
    assert all(r["mip.ext.type"] in ("131,32", "32") for r in reps)
    assert any(r["mip.ext.type"] == "131,32" and r["mip.nai"] == "mn@lab.example" for r in reps)


def test_correspondent_tools_hold_tcp_and_echo_udp(lab):
    on_foreign_link(lab)
    assert via_fa(lab)["reply"]["code"] == 0
    srv = lab.popen("mn", [PY, CN, "tcp-hold", "server", "--port", "7001", "--bind", HOME,
                           "--duration", "4"], stdout=subprocess.PIPE, text=True)
    echo = lab.popen("mn", [PY, CN, "udp-echo", "--port", "7002", "--bind", HOME,
                            "--duration", "4"], stdout=subprocess.PIPE, text=True)
    assert json.loads(srv.stdout.readline())["ready"]
    assert json.loads(echo.stdout.readline())["ready"]
    r = lab.run("cn", [PY, CN, "tcp-hold", "client", "--to", HOME, "--port", "7001",
                       "--duration", "1.5", "--stall-ms", "300"], timeout=20)
    rep = json.loads(r.stdout)
    assert r.returncode == 0 and rep["connected"] and rep["reset"] is None, rep
    assert rep["stalls"] == [] and rep["echoed"] >= 25
    r = lab.run("cn", [PY, CN, "udp-ping", "--to", HOME, "--port", "7002", "--count", "3"])
    assert json.loads(r.stdout)["received"] == 3
    srv.wait(10)
    echo.wait(10)


def test_home_agent_to_foreign_agent_carries_1000_pps_without_loss(lab):
    on_foreign_link(lab)
    assert via_fa(lab, flags="T")["reply"]["code"] == 0
    results = {}
    for name, snode, dnode, dst, bind in (("forward", "cn", "mn", HOME, HOME),
                                          ("reverse", "mn", "cn", "203.0.113.10", None)):
        report = os.path.join(lab.run_dir, "sink-%s.json" % name)
        sink = lab.popen(dnode, [PY, CN, "udp-sink", "--port", "9000", "--report", report,
                                 "--exit-on-end", "--duration", "15"]
                         + (["--bind", bind] if bind else []),
                         stdout=subprocess.PIPE, text=True)
        assert json.loads(sink.stdout.readline())["ready"]
        argv = [PY, CN, "udp-stream", "--to", dst, "--port", "9000", "--rate", "1000",
                "--duration", "3", "--size", "64"] + (["--bind", HOME] if snode == "mn" else [])
        s = lab.run(snode, argv, timeout=30)
        assert s.returncode == 0, s.stderr
        sink.wait(20)
        with open(report) as f:
            results[name] = json.load(f)
    for name, rep in results.items():
        print("%s: received %d/%d lost %d dup %d reordered %d longest gap %.1f ms" % (
            name, rep["received"], rep["expected"], rep["lost"], rep["duplicates"],
            rep["reordered"], rep["longest_gap_ms"]))
        assert rep["expected"] == 3000 and rep["expected_from"] == "end-marker"
        assert rep["lost"] == 0 and rep["duplicates"] == 0, rep["missing"]


def test_sigterm_removes_everything_the_agents_added(lab):
    on_foreign_link(lab)
    assert via_fa(lab, flags="T")["reply"]["code"] == 0
    pids = [c.call({"cmd": "ping"})["pid"] for c in (lab.ha, lab.fa)]
    assert "fatun" in lab.ip("vfa", "link") and "hatun" in lab.ip("home", "link")
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    for pid in pids:
        wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                 open("/proc/%d/stat" % pid).read().split()[2] == "Z", what="agent exit")
    assert "hatun" not in lab.ip("home", "link")
    assert "fatun" not in lab.ip("vfa", "link")
    assert proxy_entries(lab).strip() == ""
    assert HOME not in lab.ip("home", "route")
    assert HOME not in lab.ip("vfa", "rule", "show")
    assert HOME not in lab.ip("vfa", "route")
    assert lab.ip("vfa", "route", "show", "table", "434").strip() == ""
    assert lab.run("home", ["cat", "/proc/sys/net/ipv4/conf/br0/proxy_arp"]).stdout.strip() == "0"
