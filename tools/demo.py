#!/usr/bin/python3
"""The README's main job: brings up the lab, runs mipd in the mobile node,
and walks it home -> foreign agent -> Wi-Fi (co-located) -> dock Ethernet
(make-before-break) -> home while the correspondent pings the home address, printing `mipc monitor` as it
goes and `mipc status` at each stop. Leaves nothing behind."""

import argparse
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from labkit import Lab  # noqa: E402
from mipdlab import Mipd, ping  # noqa: E402

HOME = "198.18.0.50"


def say(text):
    print("\n\033[1m== %s\033[0m" % text if sys.stdout.isatty() else "\n== %s" % text,
          flush=True)


def pump(stream, prefix):
    for line in iter(stream.readline, ""):
        print(prefix + line.rstrip(), flush=True)


def show_status(m):
    print(m.mipc("status").stdout.rstrip(), flush=True)


def reach(lab):
    ok, _ = ping(lab, "cn", HOME, count=3, interval=0.2)
    print("correspondent 203.0.113.10 -> %s: %s" % (HOME, "reachable" if ok else "NOT reachable"),
          flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pause", type=float, default=1.0, help="seconds to stay at each stop")
    args = ap.parse_args()
    os.environ.setdefault("MIPD_BIN", os.path.join(ROOT, "build", "mipd"))
    os.environ.setdefault("MIPC_BIN", os.path.join(ROOT, "build", "ui-cli", "mipc"))

    say("Bringing up the lab (namespaces, NetworkManager, dnsmasq, home and foreign agents)")
    failures = 0
    with Lab.up(attach=("home",)) as lab:
        print("lab %s up in %.2f s" % (lab.prefix, lab.timings.get("up", 0)))
        # Dock Ethernet over Wi-Fi (design card); the FA network first of all.
        m = Mipd(lab, lifetime=60, prefer="fa0;dhcp0;wlan0;nat0")
        say("Starting mipd in the mobile node (%s)" % lab.ns("mn"))
        m.start()
        mon = lab.popen("mn", [os.environ["MIPC_BIN"], "monitor"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, name="mipc-monitor")
        threading.Thread(target=pump, args=(mon.stdout, "  monitor | "), daemon=True).start()

        stops = [
            ("At home on home0", None, {"state": "at-home"}),
            ("Unplug home, plug into the foreign agent's network (fa0)",
             lambda: (lab.detach("home"), lab.attach("fa")),
             {"state": "registered", "interface": "fa0"}),
            ("Leave the foreign agent; Wi-Fi (wlan0) joins a DHCP-only network (co-located)",
             lambda: (lab.detach("fa"), lab.move_wlan("vdhcp"), lab.attach("wlan")),
             {"state": "registered", "interface": "wlan0"}),
            ("Dock: Ethernet (dhcp0) comes up, preferred over Wi-Fi: make-before-break",
             lambda: lab.attach("dhcp"),
             {"state": "registered", "interface": "dhcp0"}),
            ("Walk home: undock, Wi-Fi leaves, home0 is plugged in again",
             lambda: (lab.detach("dhcp"), lab.detach("wlan"), lab.attach("home")),
             {"state": "at-home"}),
        ]
        for title, action, want in stops:
            say(title)
            if action:
                action()
            try:
                m.wait(lambda st: all(st.get(k) == v for k, v in want.items()), timeout=15,
                       what=str(want))
            except Exception as e:
                print("did not reach %s: %s" % (want, e))
                failures += 1
            time.sleep(args.pause)
            show_status(m)
            if not reach(lab):
                failures += 1

        say("mipc links / agents")
        print(m.mipc("links").stdout.rstrip())
        print(m.mipc("agents").stdout.rstrip())
        say("Stopping mipd (it deregisters and removes everything it installed)")
        mon.terminate()
        rc = m.stop()
        print("mipd exited with %d" % rc)
        left = m.leftovers()
        print("left behind by mipd: %s" % (left or "nothing"))
        failures += bool(left) + (rc != 0)
    say("Lab down; %s" % ("all stops worked" if not failures else "%d problems" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
