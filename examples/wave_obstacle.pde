# wave_obstacle.pde - a circular pulse meets a rigid circular obstacle (u = 0 on it) in a
#   room whose walls absorb nothing (u = 0 there too): the reflections off the obstacle
#   and the walls. `--animate wave.gif` shows them.
param c = 1
space x in [-1, 1], y in [-1, 1]
time  t in [0, 1.6]
field u(t, x, y)

domain rect(-1, -1, 1, 1) - disk(0.3, 0, 0.25)

pde d(u, t, 2) = c^2*laplace(u)
bc u = 0 on boundary
ic u = exp(-((x + 0.5)^2 + y^2)/0.01) at t = 0
ic d(u, t) = 0 at t = 0
