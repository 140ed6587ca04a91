# lshape.pde - Poisson on an L-shaped plate: the square minus its upper right quarter.
#   The re-entrant corner at the origin makes the solution singular there (like r^(2/3)),
#   which slows the convergence of any uniform grid to order 4/3 near it.
space x in [-1, 1], y in [-1, 1]
field u(x, y)

domain rect(-1, -1, 1, 1) - rect(0, 0, 1, 1)

pde -laplace(u) = 1
bc u = 0 on boundary
