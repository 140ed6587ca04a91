"""Reading the data files a system names: sampled coefficient fields and observations.

Files are read with NumPy only (`allow_pickle=False`), and checked for what the solvers
need: the right number of axes, real finite values, and CSV headers that name declared
coordinates and fields. A column `run` (unless a declared name is `run`) labels the rows of
several experiments, each from its own initial state, fitted at once (whole-number labels).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .errors import PdeDataError, Span
from .ir import RUN, Coordinate, Field, Observations, Samples


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
            reader = csv.reader(handle)
            numbered = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PdeDataError(f"cannot read {str(file)!r} as CSV text ({exc})", span) from None
    numbered = [(n, r) for n, r in numbered if any(cell.strip() for cell in r)]
    if not numbered:
        raise PdeDataError(f"{str(file)!r} is empty; its first line must name the columns",
                           span)
    columns = tuple(cell.strip() for cell in numbered[0][1])
    lines = tuple(n for n, _ in numbered[1:])
    values = _numbers([r for _, r in numbered[1:]], lines, columns, file, span)
    return observations(columns, values, known, span, str(file), lines)


def observations(columns: tuple[str, ...], values: np.ndarray, known: set[str], span: Span,
                 path: str = "", lines: tuple[int, ...] = ()) -> Observations:
    """Check observation columns against the declared names and wrap them."""
    where = repr(path) if path else "the observations"
    unknown = [c for c in columns if c not in known | {RUN}]
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
    if RUN in columns and RUN not in known:
        labels = values[:, columns.index(RUN)]
        odd = np.flatnonzero(labels != np.round(labels))
        if len(odd):
            line = f"line {lines[odd[0]]}, " if lines else ""
            raise PdeDataError(f"{where} {line}row {odd[0] + 1}: run = {labels[odd[0]]:g} is "
                               "not a whole number", span,
                               hint="the `run` column labels each row's experiment: 1, 2, ...")
    return Observations(columns, values, path, span, lines)


def _numbers(rows: list[list[str]], lines: tuple[int, ...], columns: tuple[str, ...],
             file: Path, span: Span) -> np.ndarray:
    values = np.empty((len(rows), len(columns)))
    for i, (line, row) in enumerate(zip(lines, rows)):
        if len(row) != len(columns):
            raise PdeDataError(f"{str(file)!r} line {line} has {len(row)} values; the header "
                               f"has {len(columns)} columns", span)
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise PdeDataError(f"{str(file)!r} line {line}, column {columns[j]!r}: "
                                   f"{cell.strip()!r} is not a number", span) from None
    return values


_TOLERANCE = 1e-9  # relative to the interval: points this close outside count as on the face


def check_observations(data: tuple[Observations, ...], coordinates: tuple[Coordinate, ...],
                       fields: tuple[Field, ...]) -> None:
    """What can be checked of the observations before any work: every table gives a field,
    with a column for each of its arguments, at points inside the box of the domain. The
    error names the `data` statement and the CSV line (or row) of the first bad point."""
    bounds = {c.name: c.bounds for c in coordinates}
    declared = {c.name for c in coordinates} | {f.name for f in fields}
    with_runs = [t for t in data if RUN in t.columns and RUN not in declared]
    if with_runs and len(with_runs) != len(data):
        table = next(t for t in data if t not in with_runs)
        raise PdeDataError(f"{table.path or 'these observations'!r} has no `run` column, and "
                           f"{with_runs[0].path or 'other observations'!r} has one: which run "
                           "would its rows belong to?", table.span,
                           hint="give every data table a `run` column, or none")
    for table in data:
        where = repr(table.path) if table.path else "the observations"
        observed = [f for f in fields if f.name in table.columns]
        if not observed:
            raise PdeDataError(f"{where} gives no field: its columns "
                               f"({', '.join(table.columns)}) are all coordinates", table.span,
                               hint="a data table needs a column named after a field: "
                                    f"{', '.join(f.name for f in fields)}")
        for f in observed:
            missing = [a for a in f.args if a not in table.columns]
            if missing:
                raise PdeDataError(
                    f"{where} gives `{f.name}` but no column for its argument(s) "
                    f"{', '.join(missing)}", table.span,
                    hint=f"`{f.name}` is {f.name}({', '.join(f.args)}): every observation "
                         "needs all of its coordinates")
        for name in table.columns:
            if name in bounds:
                _check_inside(table, name, bounds[name], where)


def _check_inside(table: Observations, name: str, bounds: tuple[float, float],
                  where: str) -> None:
    lo, hi = bounds
    column = table.column(name)
    slack = _TOLERANCE * (hi - lo)
    outside = (column < lo - slack) | (column > hi + slack)
    if np.any(outside):
        row = int(np.argmax(outside))
        line = f"line {table.lines[row]}, " if table.lines else ""
        raise PdeDataError(f"{where} {line}row {row + 1}: {name} = {column[row]:g} lies "
                           f"outside [{lo:g}, {hi:g}]", table.span,
                           hint=f"every observation must lie in the domain; {name} is in "
                                f"[{lo:g}, {hi:g}]")
