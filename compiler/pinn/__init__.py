"""Physics-informed networks: the IR lowered to residual functions of MLPs, in JAX."""

from .lower import PINNOptions, PINNProgram, Term, lower_pinn
from .network import ACTIVATIONS, MLPSpec, apply_mlp, init_mlp

__all__ = ["ACTIVATIONS", "MLPSpec", "PINNOptions", "PINNProgram", "Term", "apply_mlp",
           "init_mlp", "lower_pinn"]
