# helmholtz2d.pde - Helmholtz equation -laplace(u) - k^2 u = f, a manufactured solution
#   u = sin(2 pi x) sin(pi y) + x y  gives  f = (5 pi^2 - k^2) sin(2 pi x) sin(pi y) - k^2 x y,
#   and the Dirichlet data on the edges follow from u. With k = 5, k^2 lies between the first
#   two eigenvalues of -laplace (2 pi^2 and 5 pi^2): the operator is indefinite.
problem "helmholtz 2d"

param k = 5                          # wavenumber

space x in [0, 1], y in [0, 1]
field u(x, y)

pde -laplace(u) - k^2*u = (5*pi^2 - k^2)*sin(2*pi*x)*sin(pi*y) - k^2*x*y

bc u = 0 at x = 0
bc u = y at x = 1
bc u = 0 at y = 0
bc u = x at y = 1

exact u = sin(2*pi*x)*sin(pi*y) + x*y
