# schrodinger1d.pde - the free Schrodinger equation i psi_t = -psi_xx/2 + V psi (hbar = m = 1)
#   written for psi = a + i b as two real fields. With V = 0 on a periodic interval the plane
#   wave psi = exp(i (k x - k^2 t/2)) is exact: a = cos(k x - k^2 t/2), b = sin(...).
problem "schrodinger 1d"

param k = 2                          # wavenumber
param V = 0                          # potential

space x in [0, 2*pi]
time  t in [0, 2]
field a(t, x), b(t, x)

pde d(a, t) = -d(b, x, 2)/2 + V*b
pde d(b, t) = d(a, x, 2)/2 - V*a

bc periodic x
ic a = cos(k*x) at t = 0
ic b = sin(k*x) at t = 0

exact a = cos(k*x - k^2*t/2)
exact b = sin(k*x - k^2*t/2)
