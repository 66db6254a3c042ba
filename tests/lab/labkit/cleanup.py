"""Tear a run down from its state.json alone (or, if that is missing, from the
names its prefix implies): stop processes by PID, delete namespaces and
leftover root-namespace veths, remove the run directory."""

import os
import shutil
import subprocess

from . import procs, state, topology

# Processes under test first (they may want the network and NM while they
# shut down), then the lab's own services.
_FIRST = ("popen", "agent")
GRACE_FIRST = 3.0
GRACE_SERVICES = 0.5


def _say(log, msg):
    if log:
        log(msg)


def teardown(prefix, children=None, log=None, say=None):
    """Remove everything of run `prefix`. Returns a list of problems (empty when
    all is gone). `log` gets warnings, `say` a line per step done."""
    st = state.State.load(prefix)
    recs = st.data.get("procs", [])
    problems = []
    if os.path.exists(st.path):
        try:
            st.update(phase="down")
        except OSError:
            pass

    first = [r for r in recs if r.get("kind") in _FIRST]
    rest = [r for r in recs if r.get("kind") not in _FIRST]
    live = [r for r in recs if procs.alive(r.get("pid") or 0, r.get("start"))]
    if live:
        _say(say, "stopping %s" % ", ".join("%s (%d)" % (r["name"], r["pid"]) for r in live))
    for group, grace in ((first, GRACE_FIRST), (rest, GRACE_SERVICES)):
        left = procs.stop(group, grace, children, log)
        problems += ["%s (pid %d) survived SIGKILL" % (r["name"], r["pid"]) for r in left]

    # Safety net: anything still running inside the lab's namespaces belongs to
    # the lab (started before its PID was recorded, or by a test by hand).
    nss = [ns for ns in st.data.get("namespaces") or topology.namespaces(prefix)
           if os.path.exists("/run/netns/" + ns)]
    stray = []
    for ns in nss:
        for pid in procs.netns_pids(ns):
            stray.append(procs.record("pid %d in %s" % (pid, ns), pid))
    if stray:
        _say(say, "stopping %d unrecorded process(es) in the lab's namespaces: %s"
             % (len(stray), " ".join(str(r["pid"]) for r in stray)))
        left = procs.stop(stray, GRACE_SERVICES, children, log)
        problems += ["%s survived SIGKILL" % r["name"] for r in left]

    cmds = ["link del dev %s" % dev for dev in st.data.get("temp_links", [])
            if os.path.exists("/sys/class/net/" + dev)]
    cmds += ["netns del %s" % ns for ns in nss]
    if cmds:
        _say(say, "deleting %s" % ", ".join(c.split()[-1] for c in cmds))
        # Own session: a second Ctrl-C at the terminal must not kill the clean-up.
        # Errors are expected (a veth moved or went with its peer meanwhile):
        # what counts is the check below.
        subprocess.run(["ip", "-force", "-batch", "-"], input="\n".join(cmds) + "\n",
                       capture_output=True, text=True, start_new_session=True)
    for ns in nss:
        if os.path.exists("/run/netns/" + ns):
            problems.append("namespace %s still exists" % ns)
    for dev in st.data.get("temp_links", []):
        if os.path.exists("/sys/class/net/" + dev):
            problems.append("veth %s still in the root namespace" % dev)

    if os.path.exists(st.dir):
        _say(say, "removing " + st.dir)
    shutil.rmtree(st.dir, ignore_errors=True)
    if os.path.exists(st.dir):
        problems.append("cannot remove " + st.dir)
    try:
        os.rmdir(state.BASE)
    except OSError:
        pass  # other runs still there, or already gone
    return problems


def leftovers(prefix):
    """What of run `prefix` still exists (for tests and `lab status`)."""
    found = []
    found += ["namespace " + ns for ns in state.ip_netns_list() if ns.startswith(prefix + "-")]
    try:
        found += ["root link " + d for d in os.listdir("/sys/class/net") if d.startswith(prefix)]
    except FileNotFoundError:
        pass
    if os.path.exists(state.run_dir(prefix)):
        found.append("run dir " + state.run_dir(prefix))
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if prefix in line:
                found.append("mount " + line.split()[4])
    return found
