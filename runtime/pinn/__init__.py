"""Training physics-informed networks: sampling, loss weights, Adam then L-BFGS."""

from .train import TrainOptions, TrainResult, train

__all__ = ["TrainOptions", "TrainResult", "train"]
