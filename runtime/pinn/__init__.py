"""`method="pinn"` (`solve`): lower to residuals of networks, train them (`train`: sampling,
loss weights, Adam then L-BFGS, over one or several devices), evaluate on a grid."""

from .solve import PINNSolveOptions, solve_pinn
from .train import TrainOptions, TrainResult, train

__all__ = ["PINNSolveOptions", "TrainOptions", "TrainResult", "solve_pinn", "train"]
