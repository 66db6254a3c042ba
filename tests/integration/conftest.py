"""Makes labkit (tests/lab/labkit) and mipdlab importable for the integration
scenarios and provides the lab fixtures (`lab`, `module_lab`, `lab_factory`,
see tests/lab/labkit/fixtures.py) plus `mipd_factory`.

NOTE: the lab helper overwrote this file's first version by mistake; this is a
reconstruction (sys.path, lab fixtures, mipd_factory from mipdlab.Mipd).
Check it against what test_roaming.py expects."""

import os
import sys

import pytest

_here = os.path.dirname(os.path.abspath(__file__))
_lab = os.path.join(os.path.dirname(_here), "lab")
for _p in (_lab, _here):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from labkit.fixtures import *  # noqa: E402,F401,F403
import mipdlab  # noqa: E402


@pytest.fixture
def mipd_factory():
    """mipd_factory(lab, name="mipd", start=True, **config) -> a started
    mipdlab.Mipd; at the end of the test each is stopped (SIGTERM) and must
    exit 0 and leave nothing behind (tunnel devices, rules, table 434)."""
    started = []

    def make(lab, name="mipd", start=True, **options):
        m = mipdlab.Mipd(lab, name=name, **options)
        started.append(m)
        return m.start() if start else m

    yield make
    problems = []
    for m in started:
        if m.proc is None:
            continue
        code = m.stop()
        if code not in (0, None):
            problems.append("%s exited %s:\n%s" % (m.dir, code, m.log_tail()))
        left = m.leftovers()
        if left:
            problems.append("%s left behind: %s" % (m.dir, left))
    if problems:
        pytest.fail("\n".join(problems))
