#!/usr/bin/python3
"""Prints NetworkManager's device events (state changes, IPv4 addresses) as JSON
lines stamped with CLOCK_MONOTONIC, as libnm delivers them. Run it with the
lab's DBUS_SYSTEM_BUS_ADDRESS; labkit.Lab.nm_watch() wraps it."""

import json
import sys
import time

import gi

gi.require_version("NM", "1.0")
from gi.repository import GLib, NM  # noqa: E402


def emit(**kw):
    kw["t"] = time.monotonic()
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def addrs(dev):
    cfg = dev.get_ip4_config()
    if cfg is None:
        return []
    return ["%s/%d" % (a.get_address(), a.get_prefix()) for a in cfg.get_addresses()]


def state_name(state):
    try:
        return NM.DeviceState(state).value_nick
    except ValueError:
        return str(state)


class Watched:
    def __init__(self, dev):
        self.dev, self.iface, self.cfg, self.cfg_handler = dev, dev.get_iface(), None, None
        self.last_addrs = None
        dev.connect("state-changed", self.on_state)
        dev.connect("notify::ip4-config", self.on_config)
        self.on_config()
        emit(ev="initial", dev=self.iface, state=int(dev.get_state()),
             name=state_name(dev.get_state()), addrs=addrs(dev))

    def on_state(self, dev, new, old, reason):
        emit(ev="state", dev=self.iface, state=int(new), old=int(old), reason=int(reason),
             name=state_name(new))

    def on_config(self, *args):
        if self.cfg is not None and self.cfg_handler is not None:
            self.cfg.disconnect(self.cfg_handler)
        self.cfg = self.dev.get_ip4_config()
        self.cfg_handler = (self.cfg.connect("notify::addresses", self.on_addrs)
                            if self.cfg is not None else None)
        self.on_addrs()

    def on_addrs(self, *args):
        now = addrs(self.dev)
        if now != self.last_addrs:
            if self.last_addrs is not None:
                emit(ev="ip4", dev=self.iface, addrs=now)
            self.last_addrs = now


def main():
    client = NM.Client.new(None)
    watched = [Watched(d) for d in client.get_devices()]
    client.connect("device-added", lambda c, d: watched.append(Watched(d)))
    emit(ev="ready")
    GLib.MainLoop().run()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
