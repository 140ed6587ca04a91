"""A Solution as an xarray Dataset, and netCDF files through xarray (an optional extra).

`pip install "pdelang[netcdf]"` brings xarray and h5netcdf; without them these functions
say how to get them. Coordinates become dimension coordinates, each field a data variable
over its arguments, inferred constants scalar variables (inferred coefficient fields
variables over their arguments), and `meta` a JSON attribute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import OptionError
from .files import write_atomically

INSTALL = 'pip install "pdelang[netcdf]"'


def to_xarray(solution):
    try:
        import xarray as xr
    except ImportError:
        raise OptionError(f"to_xarray() needs xarray, which is not installed ({INSTALL})") \
            from None
    variables = {}
    member = _member_dimension(solution)
    for name, values in solution.values.items():
        args = member + solution.system.field(name).args
        variables[name] = (args, np.asarray(values))
    for name, values in solution.sweep.items():
        variables[name] = (member, np.asarray(values))
    for name, value in solution.params.items():
        value = np.asarray(value)
        dims = solution.system.param(name).args if value.ndim else ()
        variables[name] = (dims, value)
    attrs = {"method": solution.method, "problem": solution.system.name,
             "meta": json.dumps(dict(solution.meta), default=str)}
    coords = {name: np.asarray(v) for name, v in solution.grid.items()}
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _member_dimension(solution) -> tuple[str, ...]:
    """A sweep's first dimension: the swept constant's name when it is one (its values are
    then the dimension's coordinate), `member` when several go together; () otherwise."""
    if not solution.sweep:
        return ()
    return (next(iter(solution.sweep)),) if len(solution.sweep) == 1 else ("member",)


def save_netcdf(solution, path: str | Path) -> Path:
    """Write `solution` as netCDF-4 (HDF5) through xarray, whole or not at all."""
    dataset = to_xarray(solution)
    engine = _engine()
    return write_atomically(path, lambda f: dataset.to_netcdf(f, engine=engine))


def check_netcdf() -> None:
    """An OptionError, before any work, when the packages that write .nc files are absent
    (found without importing them: xarray alone takes about a second)."""
    from importlib.util import find_spec

    missing = [name for name in ("xarray", "h5netcdf", "h5py") if find_spec(name) is None]
    if missing:
        raise OptionError(f"writing .nc files needs {', '.join(missing)}, which "
                          f"{'is' if len(missing) == 1 else 'are'} not installed",
                          hint=f"{INSTALL}, or write a .npz file")


def _engine() -> str:
    try:
        import h5netcdf  # noqa: F401
        import h5py  # noqa: F401
    except ImportError:
        raise OptionError(f"writing .nc files needs h5netcdf and h5py ({INSTALL})") from None
    return "h5netcdf"
