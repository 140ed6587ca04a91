# layered_medium.pde - steady conduction through two layers, conductivities 1 and 10
#   d(k*d(u, x), x) is kept in flux form: differenced at cell faces with k there by the
#   harmonic mean (--face-mean), so the flux k u_x is the same on every face and the
#   piecewise-linear solution is exact, the jump on a node or between nodes
problem "layered medium"

space x in [0, 1]
param k(x) = where(x < 0.5, 1, 10)   # a jump at x = 0.5
field u(x)

pde d(k*d(u, x), x) = 0              # conservation form: no product rule

bc u = 0 at x = 0
bc u = 1 at x = 1

exact u = where(x < 0.5, 20*x/11, (2*x + 9)/11)   # k u_x = 20/11 throughout
