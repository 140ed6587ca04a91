# allen_cahn_periodic.pde - the Allen-Cahn benchmark of the PINN literature (Raissi et al.
#   2019's appendix; Wight & Zhao 2020; Wang, Sankaran & Perdikaris's causal training and
#   JAXPI/PirateNets): u_t = 1e-4 u_xx + 5 (u - u^3), periodic in x.
#   Hard because the diffusion is tiny and the reaction fast: the smooth start splits within
#   t ~ 0.2 into flat phases u = +-1 joined by fronts of width ~0.005, which a network trained
#   on all times at once tends to miss (it settles on a wrong, smooth solution).
#   Reference: benchmarks/data/allen_cahn_reference.npz (Fourier pseudo-spectral, 512 modes,
#   ETDRK4; made by benchmarks/data/make_allen_cahn_reference.py). Published PINN errors:
#   relative L2 ~5e-3 (causal training), ~5e-5 (PirateNet).
problem "allen-cahn periodic"

param eps2 = 1e-4                    # diffusion coefficient (the interface width squared)
param k = 5                          # reaction rate

space x in [-1, 1]
time  t in [0, 1]
field u(t, x)

pde d(u, t) = eps2*d(u, x, 2) + k*(u - u^3)

bc periodic x
ic u = x^2*cos(pi*x) at t = 0
