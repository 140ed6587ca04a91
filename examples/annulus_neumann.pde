# annulus_neumann.pde - Poisson in an annulus: the value on the outer circle, the outward
#   normal derivative d(u, n) on the inner one (the domain's outward normal there points to
#   the centre). Manufactured from u = exp(x) sin(2y) + x y; fd is second order in the
#   maximum norm (tests/runtime/fd/test_shaped.py).
space x in [-1, 1], y in [-1, 1]
field u(x, y)

domain disk(0, 0, 1) - disk(0, 0, 0.4)

pde -laplace(u) = 3*exp(x)*sin(2*y)
bc u = exp(x)*sin(2*y) + x*y on boundary where x^2 + y^2 > 0.5
bc d(u, n) = -(x*(exp(x)*sin(2*y) + y) + y*(2*exp(x)*cos(2*y) + x))/0.4 on boundary

exact u = exp(x)*sin(2*y) + x*y
