"""Reading the data files a system names: sampled coefficient fields and observations.

Files are read with NumPy only (`allow_pickle=False`), and checked for what the solvers
need: the right number of axes, real finite values, and CSV headers that name declared
coordinates and fields.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .errors import PdeDataError, Span
from .ir import Observations, Samples


def resolve(path: str, base: str | Path | None) -> Path:
    """`path` as written, relative to the folder of the file that names it."""
    candidate = Path(path).expanduser()
    if not candidate.is_absolute() and base:
        candidate = Path(base) / candidate
    return candidate


def load_samples(path: str, base: str | Path | None, axes: int, span: Span) -> Samples:
    """A `.npy` array with one axis per argument of the coefficient field it defines."""
    file = resolve(path, base)
    if file.suffix.lower() != ".npy":
        raise PdeDataError(f"load() reads .npy files; {path!r} is not one", span,
                           hint="save the array with numpy.save(\"name.npy\", array)")
    if not file.is_file():
        raise PdeDataError(f"the file {str(file)!r} does not exist", span)
    try:
        array = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise PdeDataError(f"cannot read {str(file)!r} as a NumPy array ({exc})", span) from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.number) \
            or np.iscomplexobj(array):
        raise PdeDataError(f"{str(file)!r} holds {getattr(array, 'dtype', type(array))} "
                           "data; a real numeric array is needed", span)
    if array.ndim != axes:
        raise PdeDataError(f"{str(file)!r} has {array.ndim} axes (shape {array.shape}) but "
                           f"the field has {axes} argument(s): one axis per argument", span)
    if min(array.shape, default=0) < 2:
        raise PdeDataError(f"{str(file)!r} has shape {array.shape}; every axis needs at "
                           "least 2 samples (both ends of the interval)", span)
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise PdeDataError(f"{str(file)!r} contains {bad} NaN or infinite value(s)", span)
    return Samples(array, str(file))


def load_observations(path: str, base: str | Path | None, known: set[str],
                      span: Span) -> Observations:
    """A CSV file whose header names coordinates and fields, one observation per row."""
    file = resolve(path, base)
    if not file.is_file():
        raise PdeDataError(f"the data file {str(file)!r} does not exist", span)
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PdeDataError(f"cannot read {str(file)!r} as CSV text ({exc})", span) from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise PdeDataError(f"{str(file)!r} is empty; its first line must name the columns",
                           span)
    columns = tuple(cell.strip() for cell in rows[0])
    return observations(columns, _numbers(rows[1:], columns, file, span), known, span,
                        str(file))


def observations(columns: tuple[str, ...], values: np.ndarray, known: set[str], span: Span,
                 path: str = "") -> Observations:
    """Check observation columns against the declared names and wrap them."""
    where = repr(path) if path else "the observations"
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise PdeDataError(f"{where}: the column(s) {', '.join(map(repr, unknown))} name "
                           f"no coordinate or field", span,
                           hint=f"columns may be: {', '.join(sorted(known))}")
    if len(set(columns)) != len(columns):
        raise PdeDataError(f"{where} names a column twice: {', '.join(columns)}", span)
    if values.ndim != 2 or values.shape[1] != len(columns) or len(values) == 0:
        raise PdeDataError(f"{where} needs one row per observation with {len(columns)} "
                           "values each", span)
    if not np.all(np.isfinite(values)):
        raise PdeDataError(f"{where} contains NaN or infinite values", span)
    return Observations(columns, values, path, span)


def _numbers(rows: list[list[str]], columns: tuple[str, ...], file: Path,
             span: Span) -> np.ndarray:
    values = np.empty((len(rows), len(columns)))
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise PdeDataError(f"{str(file)!r} line {i + 2} has {len(row)} values; the header "
                               f"has {len(columns)} columns", span)
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise PdeDataError(f"{str(file)!r} line {i + 2}, column {columns[j]!r}: "
                                   f"{cell.strip()!r} is not a number", span) from None
    return values
