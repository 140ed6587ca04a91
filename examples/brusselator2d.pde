# brusselator2d.pde - the 2-D Brusselator of the SciML stiff benchmarks (periodic square,
#   A = 3.4, B = 1, alpha = 10): diffusion makes it stiff, and a forcing switched on at
#   t = 1.1 in a disc around (0.3, 0.6) starts the pattern. The explicit step limit is
#   about 2.8 h^2 / (4 alpha): 7e-6 at 32 x 32, so `--integrator rodas4` (Rosenbrock, error
#   control, sparse Jacobian from the stencil) takes the run to t = 11.5 in a few hundred
#   steps. benchmarks/stiff_brusselator.py times it against SciPy's BDF.
problem "brusselator 2d"

param A = 3.4
param B = 1
param alpha = 10

space x in [0, 1], y in [0, 1]
time  t in [0, 11.5]
field u(t, x, y), v(t, x, y)

pde d(u, t) = (B + u^2*v - (A + 1)*u + alpha*laplace(u)
               + where(t >= 1.1, where((x - 0.3)^2 + (y - 0.6)^2 <= 0.01, 5, 0), 0))
pde d(v, t) = A*u - u^2*v + alpha*laplace(v)

bc periodic x
bc periodic y
ic u = 22*y*(1 - y)^1.5 at t = 0
ic v = 27*x*(1 - x)^1.5 at t = 0
