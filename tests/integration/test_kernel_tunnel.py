"""mipd's kernel tunnel back end (plugins/tunnel-kernel.c) in the lab: the
co-located visit with and without reverse tunnelling, over IPIP (test_roaming's
scenario itself, then a look at mip0) and over GRE (RFC 2784, the G flag).
Each checks that mipd opened the kernel back end ("tunnel: kernel back end"),
that mip0 is the kernel's ipip/gre link from the care-of address to the home
agent (198.18.0.1), and that it carried the traffic.

Needs a kernel with ipip and ip_gre and MIPD_LAB_TUNNEL=kernel:
tests/qemu/test-integration-kernel runs it under qemu; skipped otherwise."""

import pytest

import test_roaming
from mipdlab import check_kernel_tunnel, link_stats, ping, tunnel_backend

HOME = "198.18.0.50"
HA = "198.18.0.1"

pytestmark = [
    pytest.mark.skipif(tunnel_backend() != "kernel",
                       reason="MIPD_LAB_TUNNEL=kernel only (needs ipip/gre: "
                              "tests/qemu/test-integration-kernel runs it under qemu)"),
    pytest.mark.lab(attach=()),
]

REVERSE = pytest.mark.parametrize("reverse", [True, False],
                                  ids=["reverse-tunnel", "no-reverse-tunnel"])


def check_mip0_carried(lab, reverse):
    """mip0's kernel counters: tunnelled packets came in (the home agent's
    tunnel ends there), and went out only when reverse tunnelled."""
    stats = link_stats(lab)
    assert stats["rx"]["packets"] > 0, stats
    assert (stats["tx"]["packets"] > 0) is reverse, stats


@REVERSE
def test_colocated_ipip(lab, mipd_factory, reverse):
    # test_roaming's scenario as it is (registration, ping, TCP, the home
    # agent's IPIP counters), with this run's back end...
    started = []

    def factory(lab, **options):
        started.append(mipd_factory(lab, **options))
        return started[-1]

    test_roaming.test_visit_dhcp_registers_colocated(lab, factory, reverse)
    # ...which must have been the kernel's.
    (m,) = started
    lease = m.status()["care_of_address"]
    link = check_kernel_tunnel(lab, m, lease, home_agent=HA, encapsulation="ipip")
    assert link["link"] == "dhcp0", link["text"]  # bound to the physical link
    check_mip0_carried(lab, reverse)


@REVERSE
def test_colocated_gre(lab, mipd_factory, reverse):
    m = mipd_factory(lab, encapsulation="gre", reverse_tunnel=reverse)
    lab.attach("dhcp")
    lease = lab.wait_lease("dhcp0", timeout=10)
    st, _ = m.wait_state("registered", timeout=10, care_of_mode="co-located")
    assert st["care_of_address"] == lease
    assert st["reverse_tunnel"] is reverse
    (b,) = lab.ha.call({"cmd": "bindings"})["bindings"]
    assert b["encapsulation"] == "gre", b
    assert b["care_of_address"] == lease, b
    assert "G" in b["flags"] and ("T" in b["flags"]) is reverse, b
    link = check_kernel_tunnel(lab, m, lease, home_agent=HA, encapsulation="gre")
    assert link["link"] == "dhcp0", link["text"]
    ok, out = ping(lab, "cn", HOME)
    assert ok, out
    ok, out = test_roaming.tcp_exchange(lab)
    assert ok, out
    tunnel = lab.ha.call({"cmd": "counters"})["counters"]["tunnel"]
    assert tunnel.get("out_gre", 0) > 0, tunnel
    assert tunnel.get("out_ipip", 0) == 0 and tunnel.get("in_ipip", 0) == 0, tunnel
    assert (tunnel.get("in_gre", 0) > 0) is reverse, tunnel
    check_mip0_carried(lab, reverse)
