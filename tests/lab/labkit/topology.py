"""The lab's fixed topology (tests/lab/TOPOLOGY.md) as data, and the command
scripts that build it: one `ip -batch` for the root namespace, one shell script
per lab namespace."""

import ipaddress
import re

NODES = ("home", "router", "cn", "vfa", "vdhcp", "vnat", "mn")
# Namespaces that can hold wlan0's far end (each has a bridge br0).
WLAN_NETS = ("home", "vfa", "vdhcp", "vnat")
DEFAULT_WLAN_NET = "vdhcp"

PREFIX_RE = re.compile(r"^mipl[0-9a-f]{6}$")
NS_RE = re.compile(r"^(mipl[0-9a-f]{6})-(%s)$" % "|".join(NODES))
# Temporary names of veth ends while they sit in the root namespace.
TEMP_LINK_RE = re.compile(r"^mipl[0-9a-f]{6}[0-9]{2}[ab]$")

# Veth pairs: (node, name), (node, name). "wlan" is placed at build time.
VETHS = (
    (("router", "r-home"), ("home", "up")),
    (("router", "r-cn"), ("cn", "cn0")),
    (("router", "r-vfa"), ("vfa", "up")),
    (("router", "r-vdhcp"), ("vdhcp", "up")),
    (("router", "r-vnat"), ("vnat", "up")),
    (("home", "mn"), ("mn", "home0")),
    (("vfa", "mn"), ("mn", "fa0")),
    (("vdhcp", "mn"), ("mn", "dhcp0")),
    (("vnat", "mn"), ("mn", "nat0")),
    (("wlan", "wl"), ("mn", "wlan0")),
)

# Attachable links: name -> (node holding the far end, far end name, mn device).
# The wlan link's node is wherever its far end currently is.
LINKS = {
    "home": ("home", "mn", "home0"),
    "fa": ("vfa", "mn", "fa0"),
    "dhcp": ("vdhcp", "mn", "dhcp0"),
    "nat": ("vnat", "mn", "nat0"),
    "wlan": (None, "wl", "wlan0"),
}
# Other spellings people use for a link.
LINK_ALIASES = {
    "home0": "home", "fa0": "fa", "vfa": "fa", "dhcp0": "dhcp", "vdhcp": "dhcp",
    "nat0": "nat", "vnat": "nat", "wlan0": "wlan", "wl": "wlan",
}

# Each bridged network: br0 address, LAN prefix, uplink address, gateway.
NETS = {
    "home": {"br0": "198.18.0.1/24", "lan": "198.18.0.0/24",
             "uplink": None, "gw": "198.18.0.254", "dhcp": None},
    "vfa": {"br0": "198.51.100.1/24", "lan": "198.51.100.0/24",
            "uplink": "198.18.101.1/24", "gw": "198.18.101.254",
            "dhcp": ("198.51.100.100", "198.51.100.199")},
    "vdhcp": {"br0": "192.0.2.1/24", "lan": "192.0.2.0/24",
              "uplink": "198.18.102.1/24", "gw": "198.18.102.254",
              "dhcp": ("192.0.2.100", "192.0.2.199")},
    "vnat": {"br0": "198.19.3.1/24", "lan": "198.19.3.0/24",
             "uplink": "198.18.103.1/24", "gw": "198.18.103.254",
             "dhcp": ("198.19.3.100", "198.19.3.199")},
}

ROUTER_ADDRS = {
    "r-home": "198.18.0.254/24", "r-cn": "203.0.113.1/24",
    "r-vfa": "198.18.101.254/24", "r-vdhcp": "198.18.102.254/24",
    "r-vnat": "198.18.103.254/24",
}
ROUTER_ROUTES = (("198.51.100.0/24", "198.18.101.1"),
                 ("192.0.2.0/24", "198.18.102.1"))
CN_ADDR, CN_GW = "203.0.113.10/24", "203.0.113.1"

HOME_ADDRESS = "198.18.0.50"
HOME_AGENT = "198.18.0.1"
FOREIGN_AGENT = "198.51.100.1"

# Subnet a device's address must lie in to count as "the lease" of its network.
DEVICE_NET = {"home0": "home", "fa0": "vfa", "dhcp0": "vdhcp", "nat0": "vnat"}

KEYS = (
    {"spi": 256, "algorithm": "hmac-md5", "key": "6d6970642d6c61622d6b65792d303031"},
    {"spi": 257, "algorithm": "keyed-md5", "key": "6d6970642d6c61622d6b65792d303032"},
)


def ns_name(prefix, node):
    return "%s-%s" % (prefix, node)


def namespaces(prefix):
    return [ns_name(prefix, n) for n in NODES]


def temp_links(prefix):
    """Root-namespace names of every veth end, in VETHS order (a, b)."""
    return [(("%s%02da" % (prefix, i)), ("%s%02db" % (prefix, i)))
            for i in range(len(VETHS))]


def canonical_link(link):
    link = LINK_ALIASES.get(link, link)
    if link not in LINKS:
        raise ValueError("unknown link %r (links: %s)" % (link, ", ".join(LINKS)))
    return link


def canonical_net(net, prefix=None):
    """'vdhcp', 'P-vdhcp', 'dhcp' -> 'vdhcp'."""
    if prefix and net.startswith(prefix + "-"):
        net = net[len(prefix) + 1:]
    m = NS_RE.match(net)
    if m:
        net = m.group(2)
    net = {"fa": "vfa", "dhcp": "vdhcp", "nat": "vnat"}.get(net, net)
    if net not in WLAN_NETS:
        raise ValueError("wlan0 can move to %s, not %r" % (", ".join(WLAN_NETS), net))
    return net


def in_subnet(addr, subnet):
    return ipaddress.ip_address(addr.split("/")[0]) in ipaddress.ip_network(subnet)


def root_batch(prefix, wlan_net, move=False):
    """`ip -batch` lines for the root namespace: namespaces and veths.

    Each veth is created by this root-namespace `ip` with both ends placed in
    their namespaces at once (IFLA_NET_NS_FD), under prefixed temporary names
    that the node scripts rename. move=True instead creates them in the root
    namespace and moves them: same result, but each move costs ~27 ms of
    kernel time (0.55 s for the lab's 20 ends) against ~4 ms for all of them."""
    lines = ["netns add %s" % ns for ns in namespaces(prefix)]
    for i, ((ta, tb), ((na, _), (nb, _))) in enumerate(zip(temp_links(prefix), VETHS)):
        nsa = ns_name(prefix, wlan_net if na == "wlan" else na)
        nsb = ns_name(prefix, nb)
        if move:
            lines.append("link add %s type veth peer name %s" % (ta, tb))
            lines.append("link set dev %s netns %s" % (ta, nsa))
            lines.append("link set dev %s netns %s" % (tb, nsb))
        else:
            # Distinct ifindexes on the two ends: when a veth's ifindex equals
            # its peer's (likely with per-namespace numbering), the kernel's
            # linkwatch treats its carrier changes as non-urgent and reports
            # them up to 1 s late, and NM sees a detach 0.2-1 s late.
            lines.append("link add %s netns %s index %d type veth peer name %s netns %s index %d"
                         % (ta, nsa, 10 + 2 * i, tb, nsb, 11 + 2 * i))
    return lines


def _renames(prefix, node, wlan_net):
    out = []
    for (ta, tb), ((na, a), (nb, b)) in zip(temp_links(prefix), VETHS):
        na = wlan_net if na == "wlan" else na
        if na == node:
            out.append((ta, a))
        if nb == node:
            out.append((tb, b))
    return out


def _sysctl(path, value):
    return "echo %s > /proc/sys/%s" % (value, path)


def node_script(prefix, node, wlan_net, attach, run_dir):
    """Shell script run inside the node's namespace (`ip netns exec`).

    Returns (script, batch_lines); the script reads the batch from
    RUN/ip-NODE.batch, which the caller writes."""
    b = ["link set dev lo up"]
    for tmp, name in _renames(prefix, node, wlan_net):
        b.append("link set dev %s name %s" % (tmp, name))
    sh = [_sysctl("net/ipv6/conf/all/disable_ipv6", 1),
          _sysctl("net/ipv6/conf/default/disable_ipv6", 1)]
    forward = node in ("router", "home", "vfa", "vdhcp", "vnat")
    if node == "mn":
        # Like a Debian laptop (systemd's default): loose reverse-path filter.
        sh += [_sysctl("net/ipv4/conf/all/rp_filter", 2),
               _sysctl("net/ipv4/conf/default/rp_filter", 2)]
    else:
        sh += [_sysctl("net/ipv4/conf/all/rp_filter", 0),
               _sysctl("net/ipv4/conf/default/rp_filter", 0)]
    if forward:
        sh += [_sysctl("net/ipv4/ip_forward", 1),
               _sysctl("net/ipv4/conf/all/send_redirects", 0),
               _sysctl("net/ipv4/conf/default/send_redirects", 0)]

    if node == "router":
        for dev, addr in ROUTER_ADDRS.items():
            b += ["addr add %s dev %s" % (addr, dev), "link set dev %s up" % dev]
        for net, via in ROUTER_ROUTES:
            b.append("route add %s via %s" % (net, via))
    elif node == "cn":
        b += ["addr add %s dev cn0" % CN_ADDR, "link set dev cn0 up",
              "route add default via %s" % CN_GW]
    elif node == "mn":
        for dev in ("home0", "fa0", "dhcp0", "nat0", "wlan0"):
            b.append("link set dev %s up" % dev)
    else:
        net = NETS[node]
        b += ["link add br0 type bridge forward_delay 0 mcast_snooping 0",
              "addr add %s dev br0" % net["br0"], "link set dev br0 up"]
        ports = ["mn"] + (["wl"] if wlan_net == node else [])
        for port in ports:
            link = "wlan" if port == "wl" else _link_of_node(node)
            b.append("link set dev %s master br0" % port)
            if link in attach:
                b.append("link set dev %s up" % port)
        if net["uplink"]:
            b += ["addr add %s dev up" % net["uplink"], "link set dev up up"]
        else:  # home: the uplink port is a bridge port
            b += ["link set dev up master br0", "link set dev up up"]
        b.append("route add default via %s" % net["gw"])
        if node == "home":
            sh.append(_sysctl("net/ipv4/neigh/br0/proxy_delay", 0))
    script = ["set -e", "ip -batch %s/ip-%s.batch" % (run_dir, node)] + sh
    if node == "vnat":
        script.append("nft -f %s/vnat.nft" % run_dir)
    return "\n".join(script) + "\n", b


def _link_of_node(node):
    for link, (n, _, _) in LINKS.items():
        if n == node:
            return link
    raise KeyError(node)


VNAT_NFT = """\
table ip mipdlab {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "up" ip saddr 198.19.3.0/24 counter masquerade
    }
}
"""
