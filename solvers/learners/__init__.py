"""Learners for any OpenSpiel game, all following :class:`solvers.learners.base.Solver`: ``step()`` and
``policy()``."""
from solvers.learners.base import Solver
from solvers.learners.fictitious_play import XFP, SampledFSP
from solvers.learners.psro import PSRO

__all__ = ["PSRO", "SampledFSP", "Solver", "XFP"]
