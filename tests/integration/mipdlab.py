"""Runs the real mipd (and mipc) inside a lab's mobile node: writes its
configuration and key, starts it on the lab's private system bus, reads its
state through mipc --json, and stops it, checking it left nothing behind."""

import json
import os
import re
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

LAB_KEY_HEX = "6d6970642d6c61622d6b65792d303031"     # SPI 256, hmac-md5 (TOPOLOGY.md)
LAB_KEY2_HEX = "6d6970642d6c61622d6b65792d303032"    # SPI 257, keyed-md5

TUNNEL_BACKENDS = ("tun", "kernel", "auto")


def tunnel_backend():
    """The [tunnel] back end the scenarios give mipd: $MIPD_LAB_TUNNEL
    (tun, kernel or auto), default tun (the user-space TUN tunnel, which needs
    no ipip/gre in the kernel). tests/qemu/test-integration-kernel sets
    kernel inside a qemu-booted kernel that has them."""
    name = os.environ.get("MIPD_LAB_TUNNEL") or "tun"
    if name not in TUNNEL_BACKENDS:
        raise ValueError("MIPD_LAB_TUNNEL=%s: expected one of %s" % (name, ", ".join(TUNNEL_BACKENDS)))
    return name


BUILT = {"mipd": ("mipd",), "mipc": ("ui-cli", "mipc")}


def binary(name):
    """The built binary: $MIPD_BIN / $MIPC_BIN (meson test sets them), else build/."""
    path = os.environ.get(name.upper() + "_BIN") or os.path.join(ROOT, "build", *BUILT[name])
    if not os.access(path, os.X_OK):
        raise FileNotFoundError("%s not built (%s); run ninja -C build" % (name, path))
    return path


# Two things the lab's user-space home agent (raw sockets) cannot cope with
# once the mobile node's tunnel is the kernel's, none of them mipd's doing; a
# real network (a NIC, a kernel home agent) has neither:
#
# - Checksums. A packet the node sends into mip0 leaves with its inner TCP/UDP
#   checksum left to the "hardware" (CHECKSUM_PARTIAL); veths and the router
#   keep it so, the home agent's raw socket reads it unfinished and the
#   correspondent drops it (InCsumErrors: TCP through a reverse tunnel
#   stalls). So the node's links get tx checksum offload off: its kernel
#   fills the checksum in before they send (SIOCETHTOOL, ETHTOOL_STXCSUM; no
#   ethtool(8) needed).
# - ICMP. With ipip and ip_gre loaded (in every namespace), the home agent's
#   kernel answers every tunnelled packet its raw socket takes with ICMP port
#   unreachable (no kernel tunnel matches). ip_gre ignores those; ipip counts
#   them as tunnel errors for 30 s, during which mip0 reports "host
#   unreachable" to the node's own sockets for every packet it sends, which
#   aborts TCP handshakes in SYN_RECV (ListenDrops, then RSTs). So the home
#   node drops the ICMP errors it would send about IPIP (4) and GRE (47)
#   packets (th,136,8: the protocol of the packet an ICMP error quotes).
_CSUM_OFF = r"""
import ctypes, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for name in sys.argv[1:]:
    val = ctypes.create_string_buffer(struct.pack("II", 0x17, 0))
    fcntl.ioctl(s, 0x8946, struct.pack("16sP", name.encode(), ctypes.addressof(val)).ljust(40, b"\0"))
"""
MN_LINKS = ("home0", "fa0", "dhcp0", "nat0", "wlan0")
_HA_NO_TUNNEL_ICMP = """table ip mipd_lab_tunnel
delete table ip mipd_lab_tunnel
table ip mipd_lab_tunnel {
    chain output {
        type filter hook output priority 0; policy accept;
        icmp type destination-unreachable icmp code port-unreachable @th,136,8 { 4, 47 } counter drop
    }
}
"""


def prepare_for_kernel_tunnel(lab):
    """Adapts a lab to a mobile node using the kernel's tunnels (see above);
    idempotent. Mipd.start() calls it unless the back end is tun."""
    r = lab.run("mn", ["/usr/bin/python3", "-c", _CSUM_OFF] + list(MN_LINKS), timeout=60)
    if r.returncode != 0:
        raise MipdError("cannot turn tx checksum offload off in the mobile node: " + r.stderr)
    r = lab.run("home", ["nft", "-f", "-"], input=_HA_NO_TUNNEL_ICMP, timeout=60)
    if r.returncode != 0:
        raise MipdError("cannot stop the home node's ICMP errors about tunnelled packets: "
                        + r.stderr)


class MipdError(Exception):
    pass


class Mipd:
    """One mipd process in the lab's mobile node."""

    def __init__(self, lab, name="mipd", **options):
        self.lab = lab
        self.dir = os.path.join(lab.run_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "mipd.conf")
        self.log_path = os.path.join(self.dir, "mipd.log")
        self.write_config(**options)
        self.proc = None

    def write_config(self, lifetime=600, reverse_tunnel=True, encapsulation="ipip",
                     care_of_mode="auto", spi=256, algorithm="hmac-md5", key=LAB_KEY_HEX,
                     prefer="fa0;dhcp0;nat0;wlan0", ignore="lo", backend=None,
                     make_before_break=True, extra=""):
        if backend is None:
            backend = tunnel_backend()
        self.backend = backend
        key_path = os.path.join(self.dir, "mn.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        os.chmod(key_path, 0o600)
        with open(self.conf, "w") as f:
            f.write(f"""[mobile-node]
home-address=198.18.0.50
home-prefix-length=24
home-agent=198.18.0.1
spi={spi}
algorithm={algorithm}
key-file={key_path}
lifetime={lifetime}
reverse-tunnel={'true' if reverse_tunnel else 'false'}
encapsulation={encapsulation}
care-of-mode={care_of_mode}
[links]
prefer={prefer}
ignore={ignore}
monitor=nm
[tunnel]
backend={backend}
[handover]
make-before-break={'true' if make_before_break else 'false'}
{extra}""")

    def start(self, wait_bus=True, timeout=10.0):
        if self.backend != "tun":
            prepare_for_kernel_tunnel(self.lab)
        self.logf = open(self.log_path, "ab")
        self.proc = self.lab.popen("mn", [binary("mipd"), "--foreground", "--debug",
                                          "--config", self.conf],
                                   stdout=self.logf, stderr=subprocess.STDOUT, name="mipd")
        if wait_bus:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise MipdError("mipd exited with %s:\n%s" % (self.proc.returncode,
                                                                  self.log_tail()))
                r = self.mipc("status", check=False)
                if r.returncode == 0:
                    return self
                time.sleep(0.05)
            raise MipdError("mipd did not appear on the bus:\n" + self.log_tail())
        return self

    def mipc(self, *args, check=True, json_out=False, timeout=10):
        argv = [binary("mipc")] + (["--json"] if json_out else []) + list(args)
        r = self.lab.run("mn", argv, timeout=timeout)
        if check and r.returncode != 0:
            raise MipdError("mipc %s failed (%d): %s%s" % (" ".join(args), r.returncode,
                                                            r.stdout, r.stderr))
        return r

    def status(self):
        return json.loads(self.mipc("status", json_out=True).stdout)

    def links(self):
        return json.loads(self.mipc("links", json_out=True).stdout)

    def agents(self):
        return json.loads(self.mipc("agents", json_out=True).stdout)

    def wait(self, pred, timeout=10.0, what="condition"):
        """Polls mipc status until pred(status) holds; returns (status, seconds)."""
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < timeout:
            if self.proc and self.proc.poll() is not None:
                raise MipdError("mipd died (%s):\n%s" % (self.proc.returncode, self.log_tail()))
            last = self.status()
            if pred(last):
                return last, time.monotonic() - t0
            time.sleep(0.02)
        raise MipdError("timed out after %.1f s waiting for %s; last status %s\n%s"
                        % (timeout, what, json.dumps(last), self.log_tail()))

    def wait_state(self, state, timeout=10.0, **fields):
        def pred(st):
            return st["state"] == state and all(st.get(k) == v for k, v in fields.items())
        return self.wait(pred, timeout, "state %s %s" % (state, fields or ""))

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def tunnel_backend_used(self):
        """The back end mipd says it opened ("tunnel: NAME back end"), or None."""
        m = re.search(r"tunnel: (\S+) back end$", self.log_text(), re.M)
        return m.group(1) if m else None

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def stop(self, timeout=5.0):
        """SIGTERM, wait; returns mipd's exit code."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise MipdError("mipd did not stop within %.0f s:\n%s" % (timeout, self.log_tail()))
        finally:
            self.logf.close()
        return self.proc.returncode

    def leftovers(self):
        """What mipd installed and should have removed: tunnel devices, rules,
        routes in table 434, its routes in main (protocol 'mipd' is ours)."""
        found = []
        links = self.lab.run("mn", ["ip", "-o", "link", "show"]).stdout
        for line in links.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            if name.startswith("mip"):
                found.append("link " + name)
        rules = self.lab.run("mn", ["ip", "rule", "show"]).stdout
        for line in rules.splitlines():
            if "434" in line or "mipd" in line:
                found.append("rule " + line.strip())
        t = self.lab.run("mn", ["ip", "route", "show", "table", "434"]).stdout.strip()
        if t:
            found.append("table 434: " + t)
        return found


def tunnel_link(lab, dev="mip0"):
    """The kernel's view of a tunnel device in the mobile node, from
    `ip -d -j link show DEV`: {"kind": "ipip"|"gre"|..., "local", "remote",
    "link", "up", "text": `ip -d link show DEV`}; None when there is no DEV."""
    r = lab.run("mn", ["ip", "-d", "-j", "link", "show", "dev", dev])
    if r.returncode != 0 or not r.stdout.strip():
        return None
    info = json.loads(r.stdout)[0]
    linkinfo = info.get("linkinfo") or {}
    data = linkinfo.get("info_data") or {}
    return {"kind": linkinfo.get("info_kind"), "local": data.get("local"),
            "remote": data.get("remote"), "link": info.get("link"),
            "up": "UP" in info.get("flags", []),
            "text": lab.run("mn", ["ip", "-d", "link", "show", "dev", dev]).stdout.strip()}


def link_stats(lab, dev="mip0"):
    """`ip -s -j link show DEV`'s stats64 (rx/tx packets, bytes, errors...)."""
    r = lab.run("mn", ["ip", "-s", "-j", "link", "show", "dev", dev], check=True)
    return json.loads(r.stdout)[0].get("stats64", {})


def check_kernel_tunnel(lab, mipd, care_of, home_agent="198.18.0.1", encapsulation="ipip"):
    """Under MIPD_LAB_TUNNEL=kernel (else a no-op returning None): mipd opened
    the kernel back end and mip0 is the kernel's ipip/gre link from the
    care-of address to the home agent, up. Returns tunnel_link()'s answer."""
    if tunnel_backend() != "kernel":
        return None
    used = mipd.tunnel_backend_used()
    assert used == "kernel", "mipd opened the %s tunnel back end, not kernel:\n%s" % (
        used, mipd.log_tail())
    link = tunnel_link(lab)
    assert link is not None, "no mip0 in the mobile node"
    assert (link["kind"], link["local"], link["remote"]) == (encapsulation, care_of, home_agent), \
        "mip0 is not %s from %s to %s:\n%s" % (encapsulation, care_of, home_agent, link["text"])
    assert link["up"], "mip0 is down:\n" + link["text"]
    print("mipd: tunnel: %s back end; ip -d link show mip0:\n%s" % (used, link["text"]))
    return link


def ping(lab, node, dst, count=3, timeout=10, interval=0.2):
    r = lab.run(node, ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1", dst],
                timeout=timeout)
    return r.returncode == 0, r.stdout + r.stderr
