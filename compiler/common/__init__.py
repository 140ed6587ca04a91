"""What every lowering target shares: exact stencil weights and their application to
arrays, uniform grids, parameter values (constants and coefficient fields on grids), and
observations of the fields regrouped for the solvers that fit them."""
