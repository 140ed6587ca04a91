"""Lowering of the pdelang IR to pure JAX functions: FD stencils, PINN residuals."""
