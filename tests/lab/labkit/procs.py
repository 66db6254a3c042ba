"""Processes the lab starts: identified by PID plus kernel start time (so a
recycled PID is never mistaken for ours), stopped by PID only."""

import os
import signal
import subprocess
import time


def start_time(pid):
    """The process's start time in clock ticks since boot, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    if fields[0] == b"Z":  # a zombie has finished; only its parent's wait is missing
        return None
    return int(fields[19])


def alive(pid, start):
    return start is not None and start_time(pid) == start


def record(name, pid, **extra):
    rec = {"name": name, "pid": pid, "start": start_time(pid)}
    rec.update(extra)
    return rec


def _reap(pid, children):
    p = children.get(pid)
    if p is not None:
        p.poll()
    else:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def stop(records, grace, children=None, log=None):
    """SIGTERM every recorded process that is still ours, wait up to `grace`
    seconds, then SIGKILL the rest. `children` maps PID -> Popen for processes
    this Python started (reaped so they do not linger as zombies)."""
    children = children or {}
    live = []
    for r in records:
        pid, start = r.get("pid"), r.get("start")
        if not pid or not alive(pid, start):
            _reap(pid or 0, children)
            continue
        try:
            os.kill(pid, signal.SIGTERM)
            live.append(r)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while live:
        for r in live:
            _reap(r["pid"], children)
        live = [r for r in live if alive(r["pid"], r["start"])]
        if not live or time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    for r in live:
        if log:
            log("%s (pid %d) ignored SIGTERM for %.1f s: SIGKILL" % (r["name"], r["pid"], grace))
        try:
            os.kill(r["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.monotonic() + 2.0
    while live and time.monotonic() < end:
        for r in live:
            _reap(r["pid"], children)
        live = [r for r in live if alive(r["pid"], r["start"])]
        if live:
            time.sleep(0.01)
    return [r for r in live]


def netns_pids(ns):
    """PIDs of processes whose network namespace is `ns` (all of them belong to
    the lab: nothing else runs inside its namespaces)."""
    try:
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                             text=True, timeout=10, start_new_session=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    me = os.getpid()
    return [int(x) for x in out.split() if x.isdigit() and int(x) != me]
