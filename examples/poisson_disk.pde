# poisson_disk.pde - Poisson on the unit disk, u = 0 on the circle
#   -laplace(u) = 1 has the exact solution (1 - x^2 - y^2)/4, a quadratic: the cut-cell
#   (Shortley-Weller) stencils at the circle differentiate quadratics exactly, so fd
#   reproduces it to rounding on any grid.
space x in [-1, 1], y in [-1, 1]        # the box the grid covers
field u(x, y)

domain disk(0, 0, 1)                     # the region inside the box

pde -laplace(u) = 1
bc u = 0 on boundary

exact u = (1 - x^2 - y^2)/4
