# lid_driven_cavity.pde - the lid-driven cavity in stream function-vorticity form
#   w = -laplace(psi),  psi_y w_x - psi_x w_y = laplace(w)/Re,  u = psi_y, v = -psi_x
# The lid (y = 1) moves in +x with speed 1; the other walls are at rest. Both wall
# conditions are written for psi (psi = 0 and its normal derivative); w has none: the
# second condition on psi closes w at the wall (pdelang/faces.py). Compare with Ghia,
# Ghia and Shin (1982), J. Comput. Phys. 48, 387-411: their centreline velocity comes from
#   pdelang solve examples/lid_driven_cavity.pde --probe "d(psi, y) at x = 0.5" --out r.npz
problem "lid-driven cavity"

space x in [0, 1], y in [0, 1]
field psi(x, y)
field w(x, y)
param Re = 100

pde w = -laplace(psi)
pde d(psi, y)*d(w, x) - d(psi, x)*d(w, y) = laplace(w)/Re

bc psi = 0 at x = 0
bc d(psi, x) = 0 at x = 0
bc psi = 0 at x = 1
bc d(psi, x) = 0 at x = 1
bc psi = 0 at y = 0
bc d(psi, y) = 0 at y = 0
bc psi = 0 at y = 1
bc d(psi, y) = 1 at y = 1
