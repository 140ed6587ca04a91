"""Algebraic solvers the methods share: sparse Jacobians of stencil residuals by colouring,
Newton and sparse direct solves of steady systems, Levenberg-Marquardt and L-BFGS for
least-squares fits, and the flat vector of unknowns they work on."""

OPTIMIZERS = ("auto", "lm", "lbfgs")   # of fits: Levenberg-Marquardt (least_squares), L-BFGS
                                       # (lbfgs); auto: the fit picks by its number of unknowns
