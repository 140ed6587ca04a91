"""Checkpoints: a run's state written whole or not at all, and read back without pickle.

A checkpoint is a folder holding `checkpoint.npz`: the leaves of the state's pytree
(flattened by `jax.tree_util`) as `leaf_0`, `leaf_1`, ..., named extra arrays as
`extra_<name>`, and a JSON manifest (`manifest`: the tree structure as text, each leaf's
shape and dtype, the options of the run, where it stopped). It is replaced atomically
(a temporary file renamed into place), so an interruption while saving leaves the previous
one intact. Reading a state back needs a template of the same structure, built by the
resuming run from its own options; the leaves must agree in number, shape and dtype.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import OptionError
from ..output.files import write_atomically
from .interrupt import Interrupted, SignalLatch, catching_signals

FILE = "checkpoint.npz"
VERSION = 1
NOT_COMPARED = ("checkpoint", "checkpoint_every", "resume", "strict")  # may change


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often a loop saves its state. `every`: chunks between saves (0: only
    when interrupted); `resume`: start from the checkpoint in `folder`; `identity`: the
    options and system of the run, which a resumed run must match; `latch`: the signal
    latch read between chunks (None: signals are not caught)."""

    folder: Path
    every: int = 1
    resume: bool = False
    identity: Mapping[str, Any] | None = None
    latch: SignalLatch | None = None

    def due(self, chunks: int) -> bool:
        """Whether to save after `chunks` chunks in all."""
        return self.every > 0 and chunks % self.every == 0

    def stop_signal(self) -> int | None:
        return None if self.latch is None else self.latch.signum

    def save(self, state: Any, info: Mapping[str, Any],
             extra: Mapping[str, np.ndarray] = {}) -> Path:
        return save_checkpoint(self.folder, state, dict(info, identity=self.identity), extra)

    def stop(self, state: Any, info: Mapping[str, Any], extra: Mapping[str, np.ndarray],
             where: str) -> Interrupted:
        """Save and return the `Interrupted` to raise."""
        self.save(state, info, extra)
        return Interrupted(self.stop_signal() or 0, self.folder, where)

    def load(self, template: Any) -> tuple[Any, dict, dict[str, np.ndarray]]:
        """The state (in the structure of `template`), the info and the extra arrays."""
        manifest, leaves, extra = load_checkpoint(self.folder)
        check_identity(self.folder, manifest.get("identity"), self.identity)
        return restore(template, manifest, leaves, self.folder), manifest, extra


def check_checkpoint_options(folder: str | None, every: int, resume: bool) -> None:
    if not isinstance(every, int) or every < 0:
        raise OptionError(f"checkpoint_every must be a whole number >= 0, not {every!r}",
                          hint="1 saves after every chunk, 0 only when interrupted")
    if resume and not folder:
        raise OptionError("resume needs the checkpoint folder to resume from",
                          hint="pdelang solve FILE ... --checkpoint DIR --resume")


@contextmanager
def checkpointing(method: str, system: Any, options: Any,
                  meta: Mapping[str, Any]) -> Iterator[Checkpointing | None]:
    """The `Checkpointing` that `options` (checkpoint, checkpoint_every, resume) ask for,
    with SIGINT and SIGTERM caught for the block; None (signals left alone) without a
    checkpoint folder."""
    if not options.checkpoint:
        yield None
        return
    kept = {k: v for k, v in meta.items() if k not in NOT_COMPARED}
    with catching_signals() as latch:
        yield Checkpointing(Path(options.checkpoint), options.checkpoint_every,
                            options.resume, identity_of(method, system, kept), latch)


def identity_of(method: str, system: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """What a resumed run must share with the checkpoint: method, system text, options."""
    text = str(system).encode()
    return json.loads(json.dumps({"method": method,
                                  "system": hashlib.sha256(text).hexdigest()[:16],
                                  "options": dict(options)}, default=str))


def save_checkpoint(folder: str | Path, state: Any, info: Mapping[str, Any],
                    extra: Mapping[str, np.ndarray] = {}) -> Path:
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionError(f"cannot create the checkpoint folder {str(folder)!r}: "
                          f"{exc.strerror}") from None
    leaves, treedef = jax.tree_util.tree_flatten(state)
    arrays = {f"leaf_{i}": np.asarray(x) for i, x in enumerate(leaves)}
    arrays.update({f"extra_{k}": np.asarray(v) for k, v in extra.items()})
    manifest = {"version": VERSION, "tree": str(treedef),
                "leaves": [[list(a.shape), str(a.dtype)] for a in
                           (arrays[f"leaf_{i}"] for i in range(len(leaves)))],
                **info}
    arrays["manifest"] = np.asarray(json.dumps(manifest, default=str))
    return write_atomically(folder / FILE, lambda f: np.savez(f, **arrays))


def load_checkpoint(folder: str | Path) -> tuple[dict, list[np.ndarray], dict[str, np.ndarray]]:
    path = Path(folder) / FILE
    if not path.is_file():
        raise OptionError(f"there is no checkpoint in {str(folder)!r} (no {FILE})",
                          hint="give the folder of --checkpoint that the interrupted run "
                               "used, or leave out --resume to start over")
    try:
        with np.load(path, allow_pickle=False) as data:
            manifest = json.loads(str(data["manifest"]))
            leaves = [data[f"leaf_{i}"] for i in range(len(manifest["leaves"]))]
            extra = {k[len("extra_"):]: data[k] for k in data.files if k.startswith("extra_")}
    except (OSError, ValueError, KeyError) as exc:
        raise OptionError(f"the checkpoint {str(path)!r} cannot be read ({exc})",
                          hint="leave out --resume to start over") from None
    if manifest.get("version") != VERSION:
        raise OptionError(f"the checkpoint {str(path)!r} has version "
                          f"{manifest.get('version')}, this pdelang reads {VERSION}")
    return manifest, leaves, extra


def check_identity(folder: Path, saved: Mapping | None, wanted: Mapping | None) -> None:
    """Refuse a checkpoint of another method, system or options."""
    if saved is None or wanted is None or saved == wanted:
        return
    diffs = []
    for key in ("method", "system"):
        if saved.get(key) != wanted.get(key):
            diffs.append(f"{key}: {saved.get(key)} in the checkpoint, {wanted.get(key)} now")
    old, new = saved.get("options", {}), wanted.get("options", {})
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            diffs.append(f"{key}={old.get(key)!r} in the checkpoint, {new.get(key)!r} now")
    raise OptionError(f"the checkpoint in {str(folder)!r} is from another run: "
                      + "; ".join(diffs),
                      hint="resume with the options of the interrupted run, or give "
                           "another --checkpoint folder (or leave out --resume) to start over")


def restore(template: Any, manifest: Mapping, leaves: list[np.ndarray], folder: Path) -> Any:
    like, treedef = jax.tree_util.tree_flatten(template)
    shapes = [[list(np.shape(x)), str(jnp.asarray(x).dtype)] for x in like]
    if shapes != manifest["leaves"]:
        raise OptionError(f"the checkpoint in {str(folder)!r} does not fit this run (its "
                          "arrays differ in number, shape or type)",
                          hint="leave out --resume to start over")
    return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(x) for x in leaves])
