"""The networks of the pinn, fbpinn and elm methods: an MLP of one of the architectures
(`mlp`, `architectures`), or a finite-basis network of small ones on overlapping subdomains
(`decomposition`); each spec has `init(key, dtype)` and `apply(params, x)`."""
