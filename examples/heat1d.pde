# heat1d.pde - heat equation, insulated ends
problem "heat 1d"                    # optional name

param alpha = 0.1                    # a known constant

space x in [0, 1]                    # spatial coordinates
time  t in [0, 0.5]                  # at most one time coordinate; absent = steady

field u(t, x)                        # unknowns; arguments name coordinates, in this order

pde  d(u, t) = alpha * d(u, x, 2)    # `pde` lines: one equation each

bc   d(u, x) = 0 at x = 0            # Neumann: insulated ends
bc   d(u, x) = 0 at x = 1
ic   u = cos(pi*x) at t = 0          # initial condition

exact u = cos(pi*x)*exp(-alpha*pi^2*t)
