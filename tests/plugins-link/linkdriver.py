"""Runs tests/plugins-link/link-driver and collects its JSON lines (events
stamped with CLOCK_MONOTONIC, comparable with time.monotonic())."""

import json
import os
import subprocess
import threading
import time


def driver_path():
    """The built driver: $MIP_LINK_DRIVER (meson sets it), else None."""
    path = os.environ.get("MIP_LINK_DRIVER")
    return path if path and os.access(path, os.X_OK) else None


class LinkDriver:
    def __init__(self, argv, popen=subprocess.Popen, **kw):
        self.events = []
        self._cond = threading.Condition()
        self.proc = popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True, bufsize=1, **kw)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"t": time.monotonic(), "event": "garbage", "line": line}
            with self._cond:
                self.events.append(ev)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def mark(self):
        with self._cond:
            return len(self.events)

    def wait(self, pred, timeout=5.0, since=0):
        """The first event from index `since` matching pred, or None."""
        deadline = time.monotonic() + timeout
        i = since
        with self._cond:
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        return self.events[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and i >= len(self.events)):
                    return None
                self._cond.wait(min(left, 0.05))

    def link(self, name, since=0, timeout=5.0, **want):
        """The first 'changed' event of link `name` whose fields match want
        (a value may be a callable predicate)."""
        def match(ev):
            if ev.get("event") != "changed" or ev.get("name") != name:
                return False
            for k, v in want.items():
                if callable(v) and not v(ev.get(k)):
                    return False
                if not callable(v) and ev.get(k) != v:
                    return False
            return True
        return self.wait(match, timeout, since)

    def last(self, name):
        """The latest snapshot of link `name` (None if never reported)."""
        with self._cond:
            for ev in reversed(self.events):
                if ev.get("name") == name and ev.get("event") in ("changed", "removed"):
                    return ev
        return None

    def names(self, since=0):
        with self._cond:
            return {e["name"] for e in self.events[since:] if "name" in e}

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def reactivate(self, ifname, timeout=5.0):
        since = self.mark()
        self.send("reactivate " + ifname)
        return self.wait(lambda e: e.get("event") == "reactivate", timeout, since)

    def close(self, timeout=5.0):
        """Stops the driver (EOF on stdin) and returns its exit status."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self._thread.join(2)

    def assert_deduped(self):
        """No snapshot repeats the one before it for the same link."""
        prev = {}
        for ev in self.events:
            if ev.get("event") == "removed":
                prev.pop(ev["ifindex"], None)
            if ev.get("event") != "changed":
                continue
            body = {k: v for k, v in ev.items() if k != "t"}
            assert prev.get(ev["ifindex"]) != body, "duplicate snapshot: %r" % ev
            prev[ev["ifindex"]] = body
