# clamped_plate.pde - a clamped plate: the biharmonic equation with u = 0 and zero slope
#   laplace(laplace(u)) = f on the unit square, u = d(u, n) = 0 on every edge
# Two conditions per edge, as a fourth-order equation needs; f is made from the exact
# solution u = sin(pi x)^2 sin(pi y)^2 (manufactured).
problem "clamped plate"

space x in [0, 1], y in [0, 1]
field u(x, y)

pde laplace(laplace(u)) = 4*pi^4*(4*cos(2*pi*x)*cos(2*pi*y) - cos(2*pi*x) - cos(2*pi*y))

bc u = 0 at x = 0
bc d(u, x) = 0 at x = 0
bc u = 0 at x = 1
bc d(u, x) = 0 at x = 1
bc u = 0 at y = 0
bc d(u, y) = 0 at y = 0
bc u = 0 at y = 1
bc d(u, y) = 0 at y = 1

exact u = sin(pi*x)^2*sin(pi*y)^2
