"""Writing result files whole or not at all: a temporary file beside the target, renamed."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import OptionError


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call `write` on a temporary file in the target's folder, then rename it into place.

    A failure at any point leaves an existing file at `path` untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OptionError(f"cannot write {str(path)!r}: the folder {str(folder)!r} does not "
                          "exist")
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".part",
                                         delete=False)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def save_npz(path: str | Path, arrays: Mapping[str, np.ndarray], meta: Mapping) -> Path:
    """An `.npz` with `arrays` and `meta` as a JSON string (README.md, "Output files")."""
    if "meta" in arrays:
        raise OptionError("a coordinate, field or parameter is named `meta`, which the output "
                          "file reserves; rename it")
    if Path(path).suffix != ".npz":
        raise OptionError(f"the output file {str(path)!r} must end in .npz")
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload["meta"] = np.asarray(json.dumps(meta, default=_jsonable))
    return write_atomically(path, lambda f: np.savez(f, **payload))


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
