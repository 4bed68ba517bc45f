"""Empirical games: strategy profiles of any OpenSpiel game, payoffs estimated by simulation, with confidence
intervals, adaptive sampling and serial / process-pool / Ray backends giving identical numbers."""
from solvers.empirical.backends import (BACKENDS, Backend, ProcessPoolBackend, RayBackend, SerialBackend, batch_seed,
                                        make_backend)
from solvers.empirical.game import CellStats, EmpiricalGame
from solvers.empirical.simulate import BatchStats, OpenSpielSimulator, SimulationSpec, Simulator, play_episode
from solvers.empirical.strategies import PreferredActionStrategy, UniformStrategy

__all__ = ["BACKENDS", "Backend", "ProcessPoolBackend", "RayBackend", "SerialBackend", "batch_seed", "make_backend",
           "CellStats", "EmpiricalGame", "BatchStats", "SimulationSpec", "Simulator",
           "OpenSpielSimulator", "play_episode", "PreferredActionStrategy",
           "UniformStrategy"]
