# robertson.pde - Robertson's chemical kinetics (1966), the classic stiff test: three species,
#   A -> B (k1), B + B -> C + B (k2), B + C -> A + C (k3), rates spread over nine decades.
#   B stays near 1e-5 while A turns into C over t = 1e5; an explicit integrator needs steps
#   below 1e-4 throughout. `auto` takes rodas4 (Rosenbrock, error control) for ODE systems:
#   about 200 steps here (tests/runtime/time/test_rosenbrock.py checks it against SciPy's
#   Radau at rtol 1e-10).
problem "robertson kinetics"

param k1 = 0.04
param k2 = 3e7
param k3 = 1e4

time  t in [0, 1e5]
field a(t), b(t), c(t)

pde d(a, t) = -k1*a + k3*b*c
pde d(b, t) = k1*a - k3*b*c - k2*b^2
pde d(c, t) = k2*b^2

ic a = 1 at t = 0
ic b = 0 at t = 0
ic c = 0 at t = 0
