"""Learners for any OpenSpiel game, all following :class:`solvers.learners.base.Solver`: ``step()`` and
``policy()``."""
from solvers.learners.base import Solver
from solvers.learners.fictitious_play import XFP, SampledFSP
from solvers.learners.learned_psro import GreedyPolicy, LearnedPSRO, MixturePolicy
from solvers.learners.nfsp import NFSP, NFSPConfig
from solvers.learners.psro import PSRO

__all__ = ["GreedyPolicy", "LearnedPSRO", "MixturePolicy", "NFSP", "NFSPConfig", "PSRO", "SampledFSP", "Solver", "XFP"]
