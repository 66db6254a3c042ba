"""Makes labkit importable for tests under tests/lab/ and provides the lab
fixtures (`lab`, `module_lab`, `lab_factory`; see labkit/fixtures.py)."""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

from labkit.fixtures import *  # noqa: E402,F401,F403
