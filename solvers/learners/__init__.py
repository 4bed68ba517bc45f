"""Learners for any OpenSpiel game, all following :class:`solvers.learners.base.Solver`: ``step()`` and
``policy()``."""
from solvers.learners.base import Solver
from solvers.learners.fictitious_play import XFP, SampledFSP
from solvers.learners.nfsp import NFSP, NFSPConfig
from solvers.learners.psro import PSRO

__all__ = ["NFSP", "NFSPConfig", "PSRO", "SampledFSP", "Solver", "XFP"]
