# poisson_multiscale.pde - Poisson with a solution of four scales, sin(2^k pi x) sin(2^k pi y)
#   for k = 0..3 (issue 18's multiscale case): one network must fit wavelengths from 2 down
#   to 1/4 at once. Compare --method pinn, fbpinn (--subdomains 4 or 8) and elm.
space x in [0, 1], y in [0, 1]
field u(x, y)

pde -laplace(u) = 2*pi^2*(sin(pi*x)*sin(pi*y) + 4*sin(2*pi*x)*sin(2*pi*y) + 16*sin(4*pi*x)*sin(4*pi*y) + 64*sin(8*pi*x)*sin(8*pi*y))
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1

exact u = sin(pi*x)*sin(pi*y) + sin(2*pi*x)*sin(2*pi*y) + sin(4*pi*x)*sin(4*pi*y) + sin(8*pi*x)*sin(8*pi*y)
