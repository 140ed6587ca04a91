"""Results: the `Solution` object, its `meta` record, and the files made from it (.npz,
netCDF, plots, animations), each written whole or not at all."""
