"""Physics-informed networks: the IR lowered to residual functions of MLPs, in JAX."""

from .lower import PINNOptions, PINNProgram, lower_pinn
from .network import ACTIVATIONS, MLPSpec, apply_mlp, init_mlp
from .residuals import CONSTANTS, Term

__all__ = ["ACTIVATIONS", "CONSTANTS", "MLPSpec", "PINNOptions", "PINNProgram", "Term",
           "apply_mlp", "init_mlp", "lower_pinn"]
