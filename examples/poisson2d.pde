# poisson2d.pde - the NeuralPDE.jl showcase: Poisson's equation on the unit square
#   u_xx + u_yy = -sin(pi x) sin(pi y),  u = 0 on the edges
problem "poisson 2d"

space x in [0, 1], y in [0, 1]
field u(x, y)

pde d(u, x, 2) + d(u, y, 2) = -sin(pi*x)*sin(pi*y)

bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1

exact u = sin(pi*x)*sin(pi*y)/(2*pi^2)
