"""labkit: the mipd network lab (tests/lab/TOPOLOGY.md) as a Python API."""

from .agents import AgentClient, AgentError
from .lab import Lab, LabError, NMWatch, missing_prerequisites

__all__ = ["Lab", "LabError", "NMWatch", "AgentClient", "AgentError",
           "missing_prerequisites"]
