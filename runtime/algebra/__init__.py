"""Algebraic solvers the methods share: sparse Jacobians of stencil residuals by colouring,
Newton and sparse direct solves of steady systems, Levenberg-Marquardt and L-BFGS for
least-squares fits, and the flat vector of unknowns they work on."""
