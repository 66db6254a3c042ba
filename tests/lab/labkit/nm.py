"""The private system bus and the real NetworkManager in P-mn: configuration
files, connection profiles (keyfiles) and the launch script."""

import os
import uuid

BUS_SOCKET = "system_bus_socket"

DBUS_CONF = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow send_type="signal"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
"""

# [device-mip] comes first: within one file NM uses the first matching section.
NM_CONF = """\
[main]
plugins=keyfile
no-auto-default=*
dhcp=internal
dns=none
rc-manager=unmanaged
systemd-resolved=false
hostname-mode=none
auth-polkit=false

[keyfile]
path={keyfiles}
unmanaged-devices=interface-name:mip*

[connectivity]
enabled=false

[logging]
level=INFO

[device-mip]
match-device=interface-name:mip*
managed=0

[device-all]
match-device=*
managed=1
carrier-wait-timeout=0
"""

DHCP_PROFILES = (("vfa", "fa0"), ("vdhcp", "dhcp0"), ("vnat", "nat0"), ("wlan", "wlan0"))


def _keyfile(con_id, ifname, ipv4):
    return ("[connection]\nid={id}\nuuid={uuid}\ntype=ethernet\ninterface-name={ifname}\n"
            "autoconnect=true\n\n[ethernet]\n\n[ipv4]\n{ipv4}\n[ipv6]\nmethod=disabled\n"
            ).format(id=con_id, uuid=uuid.uuid4(), ifname=ifname, ipv4=ipv4)


def write_config(run_dir):
    """Write bus and NM configuration plus the profiles of TOPOLOGY.md."""
    nmdir = os.path.join(run_dir, "nm")
    keyfiles = os.path.join(nmdir, "connections")
    for d in ("conf.d", "system-conf.d", "run", "lib", "connections"):
        os.makedirs(os.path.join(nmdir, d), mode=0o700, exist_ok=True)
    with open(os.path.join(run_dir, "dbus.conf"), "w") as f:
        f.write(DBUS_CONF.format(sock=os.path.join(run_dir, BUS_SOCKET)))
    with open(os.path.join(nmdir, "NetworkManager.conf"), "w") as f:
        f.write(NM_CONF.format(keyfiles=keyfiles))
    profiles = [(cid, dev, "method=auto\nmay-fail=false\n") for cid, dev in DHCP_PROFILES]
    profiles.append(("home", "home0",
                     "method=manual\naddress1=198.18.0.50/24,198.18.0.254\n"))
    for cid, dev, ipv4 in profiles:
        path = os.path.join(keyfiles, cid + ".nmconnection")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(_keyfile(cid, dev, ipv4))


def bus_address(run_dir):
    return "unix:path=" + os.path.join(run_dir, BUS_SOCKET)


def dbus_argv(run_dir):
    return ["dbus-daemon", "--config-file=" + os.path.join(run_dir, "dbus.conf"),
            "--nofork", "--nopidfile"]


def nm_argv(run_dir):
    """NetworkManager, launched through sh inside `ip netns exec`'s private mount
    namespace. NM hard-codes /run/NetworkManager and /var/lib/NetworkManager:
    rather than create directories on the host, cover /run with a tmpfs (after
    keeping the run dir visible through an fd bind) and bind run-dir
    directories over both paths. The read-only /sys stops NM waiting for udev."""
    nmdir = os.path.join(run_dir, "nm")
    script = r"""set -e
exec 3<"$RUN"
mount -t tmpfs -o mode=0755,size=8m mipd-lab /run
mkdir -p "$RUN" /run/NetworkManager
mount --no-canonicalize --bind /proc/self/fd/3 "$RUN"
exec 3<&-
mount --bind "$NMDIR/run" /run/NetworkManager
mount --bind "$NMDIR/lib" /var/lib/NetworkManager
mount -o remount,bind,ro /sys
exec NetworkManager --debug --log-level=INFO \
  --config="$NMDIR/NetworkManager.conf" --config-dir="$NMDIR/conf.d" \
  --system-config-dir="$NMDIR/system-conf.d" \
  --intern-config="$NMDIR/NetworkManager-intern.conf" \
  --state-file="$NMDIR/NetworkManager.state" --pid-file="$NMDIR/NetworkManager.pid"
"""
    return ["/bin/sh", "-c", script, "nm-launch"], {"RUN": run_dir, "NMDIR": nmdir}


def dnsmasq_argv(run_dir, node, net, lease_time):
    lo, hi = net["dhcp"]
    gw = net["br0"].split("/")[0]
    base = os.path.join(run_dir, "dnsmasq-" + node)
    return ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
            "--no-ping", "--bind-interfaces", "--interface=br0",
            "--except-interface=lo",
            "--dhcp-range=%s,%s,255.255.255.0,%s" % (lo, hi, lease_time),
            "--dhcp-option=option:router,%s" % gw, "--dhcp-authoritative",
            "--dhcp-leasefile=%s.leases" % base, "--pid-file=%s.pid" % base,
            "--log-dhcp", "--log-facility=%s.log" % base]
