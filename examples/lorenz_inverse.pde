# lorenz_inverse.pde - the Lorenz system's three parameters from one trajectory
# (the DeepXDE inverse benchmark: start from sigma = rho = beta = 1, truth 10, 15, 8/3)
problem "Lorenz parameters from a trajectory"

param sigma ~ 1
param rho ~ 1
param beta ~ 1

time t in [0, 3]

field x(t)
field y(t)
field z(t)

pde d(x, t) = sigma * (y - x)
pde d(y, t) = x * (rho - z) - y
pde d(z, t) = x * y - beta * z

ic x = -8 at t = 0
ic y = 7 at t = 0
ic z = 27 at t = 0

data "data/lorenz.csv"               # t, x, y, z at 25 times; see data/make_inverse_data.py
