# poisson_ball.pde - Laplace's equation in a ball, the value of a harmonic function given on
#   its sphere: fd on the box grid with cut cells at the sphere, second order.
space x in [-1, 1], y in [-1, 1], z in [-1, 1]
field u(x, y, z)

domain ball(0, 0, 0, 0.9)

pde laplace(u) = 0
bc u = x*y*z + exp(x + y)*sin(sqrt(2)*z) on boundary

exact u = x*y*z + exp(x + y)*sin(sqrt(2)*z)
