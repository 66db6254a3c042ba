"""link-netlink against the kernel: a namespace with a veth to a peer
namespace; every change must reach the driver's output within 100 ms."""

import json
import os
import secrets
import subprocess
import time

import pytest

from linkdriver import LinkDriver

DEADLINE = 0.100  # seconds from the command to the driver's report
ADDR, PEER, NET_GW = "198.18.77.2", "198.18.77.1", "198.18.77.1"


def ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


class Net:
    """Namespaces P-a (the driver's, device lan0) and P-b (peer0), P unique."""

    def __init__(self):
        hexid = secrets.token_hex(3)
        self.a, self.b = "mipln-%s-a" % hexid, "mipln-%s-b" % hexid
        ta, tb = "mln%sa" % hexid, "mln%sb" % hexid
        ip("netns", "add", self.a)
        ip("netns", "add", self.b)
        ip("link", "add", ta, "type", "veth", "peer", "name", tb)
        ip("link", "set", ta, "netns", self.a)
        ip("link", "set", tb, "netns", self.b)
        ip("-n", self.a, "link", "set", ta, "name", "lan0")
        ip("-n", self.b, "link", "set", tb, "name", "peer0")
        ip("-n", self.a, "link", "set", "lan0", "up")

    def in_a(self, *args):
        return ip("-n", self.a, *args)

    def in_b(self, *args):
        return ip("-n", self.b, *args)

    def down(self):
        for ns in (self.a, self.b):
            ip("netns", "del", ns, check=False)


@pytest.fixture
def net(driver_bin):
    n = Net()
    yield n
    n.down()


@pytest.fixture
def start(net, driver_bin):
    drivers = []

    def run(*extra):
        d = LinkDriver(["ip", "netns", "exec", net.a, driver_bin, "netlink"] + list(extra))
        drivers.append(d)
        assert d.wait(lambda e: e["event"] == "started", 5), "driver did not start"
        assert d.link("lan0", timeout=2), "lan0 was not reported at start"
        return d

    yield run
    for d in drivers:
        assert d.close() == 0
        d.assert_deduped()


def timed(drv, timing, what, action, name="lan0", **want):
    """Runs action() and waits for the matching report; returns the event."""
    since = drv.mark()
    t0 = time.monotonic()
    action()
    ev = drv.link(name, since=since, timeout=2, **want)
    assert ev, "%s: no report matching %r; last %r" % (what, want, drv.last(name))
    timing(what, ev["t"] - t0)
    assert ev["t"] - t0 < DEADLINE, "%s took %.1f ms" % (what, (ev["t"] - t0) * 1000)
    return ev


def test_reports_existing_link_with_type_and_hwaddr(net, start):
    net.in_a("addr", "add", ADDR + "/24", "dev", "lan0")
    net.in_a("route", "add", "default", "via", NET_GW)
    drv = start()
    ev = drv.last("lan0")
    hw = json.loads(net.in_a("-j", "link", "show", "dev", "lan0"))[0]["address"]
    assert ev["type"] == "ethernet" and ev["hwaddr"] == hw
    assert (ev["address"], ev["prefix"], ev["gateway"]) == (ADDR, 24, NET_GW)
    assert ev["carrier"] is False and ev["active"] is False  # peer0 is down
    assert "lo" not in drv.names()


def test_carrier_follows_peer_within_100ms(net, start, timing):
    drv = start()
    timed(drv, timing, "carrier up", lambda: net.in_b("link", "set", "peer0", "up"), carrier=True)
    timed(drv, timing, "carrier down", lambda: net.in_b("link", "set", "peer0", "down"),
          carrier=False)


def test_address_makes_link_active_and_removal_inactive_within_100ms(net, start, timing):
    net.in_b("link", "set", "peer0", "up")
    drv = start()
    assert drv.link("lan0", carrier=True, timeout=2)
    ev = timed(drv, timing, "address added",
               lambda: net.in_a("addr", "add", ADDR + "/24", "dev", "lan0"), address=ADDR)
    assert ev["active"] is True and ev["prefix"] == 24
    ev = timed(drv, timing, "address removed",
               lambda: net.in_a("addr", "del", ADDR + "/24", "dev", "lan0"), address="0.0.0.0")
    assert ev["active"] is False


def test_gateway_appears_and_goes_within_100ms(net, start, timing):
    net.in_b("link", "set", "peer0", "up")
    net.in_a("addr", "add", ADDR + "/24", "dev", "lan0")
    drv = start()
    timed(drv, timing, "default route added",
          lambda: net.in_a("route", "add", "default", "via", NET_GW), gateway=NET_GW)
    timed(drv, timing, "default route deleted",
          lambda: net.in_a("route", "del", "default", "via", NET_GW), gateway="0.0.0.0")


def test_lowest_metric_default_route_wins(net, start):
    net.in_a("addr", "add", ADDR + "/24", "dev", "lan0")
    net.in_a("route", "add", "default", "via", "198.18.77.9", "metric", "200")
    net.in_a("route", "add", "default", "via", NET_GW, "metric", "100")
    drv = start()
    assert drv.last("lan0")["gateway"] == NET_GW


def test_gateway_flushed_silently_by_kernel_is_reported(net, start, timing):
    # Deleting the address makes the kernel drop the route through it without
    # a netlink notification; the plugin must re-read the routes.
    net.in_a("addr", "add", ADDR + "/24", "dev", "lan0")
    net.in_a("route", "add", "default", "via", NET_GW)
    drv = start()
    timed(drv, timing, "route flushed with its address",
          lambda: net.in_a("addr", "flush", "dev", "lan0"), address="0.0.0.0", gateway="0.0.0.0")
    net.in_a("addr", "add", ADDR + "/24", "dev", "lan0")
    net.in_a("route", "add", "default", "via", NET_GW)
    assert drv.link("lan0", gateway=NET_GW, timeout=1)
    timed(drv, timing, "route flushed by link down",
          lambda: net.in_a("link", "set", "lan0", "down"), gateway="0.0.0.0")


def test_slash32_and_secondary_and_link_scope_addresses_are_skipped(net, start):
    net.in_b("link", "set", "peer0", "up")
    drv = start()
    since = drv.mark()
    net.in_a("addr", "add", "198.18.0.50/32", "dev", "lan0")   # a home address as mipd adds it
    net.in_a("addr", "add", "198.18.78.2/24", "dev", "lan0", "scope", "link")
    time.sleep(0.2)
    assert drv.link("lan0", since=since, timeout=0, address=lambda a: a != "0.0.0.0") is None
    net.in_a("addr", "add", ADDR + "/24", "dev", "lan0")
    net.in_a("addr", "add", "198.18.77.3/24", "dev", "lan0")   # secondary
    assert drv.link("lan0", since=since, timeout=1, address=ADDR, active=True)
    time.sleep(0.2)
    assert drv.last("lan0")["address"] == ADDR


def test_new_renamed_and_removed_links(net, start, timing):
    drv = start()
    since = drv.mark()
    t0 = time.monotonic()
    net.in_a("link", "add", "hot0", "type", "veth", "peer", "name", "hot1")
    ev = drv.link("hot1", since=since, timeout=1)
    assert ev and drv.link("hot0", since=since, timeout=1)
    timing("link added", ev["t"] - t0)
    since = drv.mark()
    net.in_a("link", "set", "hot1", "name", "hot2")
    assert drv.wait(lambda e: e == dict(e, event="removed", name="hot1"), 1, since)
    assert drv.link("hot2", since=since, timeout=1, ifindex=ev["ifindex"])
    since = drv.mark()
    t0 = time.monotonic()
    net.in_a("link", "del", "hot0")
    gone = drv.wait(lambda e: e.get("event") == "removed" and e["name"] == "hot0", 1, since)
    assert gone and drv.wait(lambda e: e.get("event") == "removed" and e["name"] == "hot2", 1,
                             since)
    timing("link removed", gone["t"] - t0)


def test_ignored_and_own_links_are_never_reported(net, start):
    drv = start("--ignore", "skip*", "--ignore", "dock?")
    net.in_a("link", "add", "skip0", "type", "veth", "peer", "name", "mipt0")
    net.in_a("link", "add", "dock1", "type", "veth", "peer", "name", "seen0")
    assert drv.link("seen0", timeout=1)
    time.sleep(0.1)
    assert not {"skip0", "mipt0", "dock1", "lo"} & drv.names()


def test_back_end_is_always_available(driver_bin):
    drv = LinkDriver([driver_bin, "netlink"], stderr=subprocess.DEVNULL)
    ev = drv.wait(lambda e: e["event"] == "available", 5)
    assert ev and ev["ok"] is True
    assert drv.close() == 0
