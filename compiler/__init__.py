"""Lowering of the pdelang IR to pure JAX functions.

    common/   stencil weights, operators, grids, coefficients, observations (shared)
    fd/       finite differences: stencils on uniform grids (method of lines, steady)
    pinn/     physics-informed networks: residual functions of MLPs
    odil/     the fd residual on the space-time grid (built on fd)
"""
