"""Options of the PINN compiler, as one frozen object (no JAX needed to read them: the
command line's options table takes its network defaults from here)."""

from __future__ import annotations

from dataclasses import dataclass

SUBDOMAIN_LAYERS = (16, 16)   # fbpinn's subdomain networks by default (the FBPINN paper's)
ELM_LAYERS = (64,)            # elm's: one random hidden layer per subdomain


@dataclass(frozen=True)
class PINNOptions:
    """Network shape and input features. `layers`: hidden widths; `activation`: tanh, sin,
    gelu, softplus, silu or sigmoid; `initialiser`: glorot, he or lecun; `fourier_features`:
    random Fourier features (0: none) of standard deviation `fourier_scale`; `harmonics`:
    sin/cos pairs for each periodic coordinate; `hard_constraints` (the default): fields
    whose Dirichlet and initial values can be built in meet them exactly and lose those loss
    terms (the others stay penalised); False penalises every condition. `data_scaling`
    (the default): a field with observations is its network's output times the root mean
    square of the observations, so that the network works at unit scale. `architecture`:
    the hidden layers, mlp, modified (modified MLP) or pirate (PirateNet), which read
    `layers` as compiler/pinn/networks/architectures.py says; `weight_factorisation`: every dense
    kernel as W = V * exp(s) (random weight factorisation). `subdomains` (None: one
    network): a finite-basis network (compiler/pinn/networks/decomposition.py), N subdomains along
    every coordinate or ((name, N), ...) per coordinate, neighbours overlapping by `overlap`
    of their width; `layers` is then each subdomain's network; `levels` > 1 adds coarser
    decompositions (multilevel windows), each halving the counts."""

    layers: tuple[int, ...] = (64, 64, 64)
    activation: str = "tanh"
    initialiser: str = "glorot"
    fourier_features: int = 0
    fourier_scale: float = 1.0
    harmonics: int = 1
    hard_constraints: bool = True
    data_scaling: bool = True
    architecture: str = "mlp"
    weight_factorisation: bool = False
    subdomains: int | tuple[tuple[str, int], ...] | None = None
    overlap: float = 0.5
    levels: int = 1
