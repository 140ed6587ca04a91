# poisson3d.pde - Poisson's equation in the unit cube, manufactured solution
#   u = sin(pi x) sin(pi y) sin(pi z) + x y z, zero on three faces, x y z on the others;
#   large grids (65^3, 129^3) go to the geometric multigrid solver (--linear-solver).
problem "poisson 3d"

space x in [0, 1]
space y in [0, 1]
space z in [0, 1]
field u(x, y, z)

pde laplace(u) = -3*pi^2*sin(pi*x)*sin(pi*y)*sin(pi*z)

bc u = 0 at x = 0
bc u = y*z at x = 1
bc u = 0 at y = 0
bc u = x*z at y = 1
bc u = 0 at z = 0
bc u = x*y at z = 1

exact u = sin(pi*x)*sin(pi*y)*sin(pi*z) + x*y*z
