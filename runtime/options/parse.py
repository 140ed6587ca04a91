"""How the command line reads an option's text (`Option.parse`): an argparse type each,
raising `argparse.ArgumentTypeError` with what to give instead."""

from __future__ import annotations

import argparse

import numpy as np


def grid_option(text: str) -> int | dict[str, int]:
    """`65` (every space coordinate) or `x=65,y=33`."""
    return _per_coordinate(text, 3, f"{text!r} is not a grid: give points per coordinate, "
                           "e.g. --grid 65 or --grid x=65,y=33 (at least 3 each)")


def subdomains_option(text: str) -> int | dict[str, int]:
    """`8` (along every coordinate) or `x=8,t=4`."""
    return _per_coordinate(text, 1, f"{text!r} is not a subdomain count: give one for every "
                           "coordinate, e.g. --subdomains 8, or one per coordinate, "
                           "--subdomains x=8,y=4 (at least 1 each)")


def _per_coordinate(text: str, least: int, message: str) -> int | dict[str, int]:
    """An int for every coordinate, or `name=int,...` per coordinate, each >= least."""
    def count(value: str) -> int:
        n = int(value)
        if n < least:
            raise ValueError
        return n

    try:
        if "=" not in text:
            return count(text)
        out = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            if not name.strip().isidentifier():
                raise ValueError
            out[name.strip()] = count(value)
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(message) from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def nonnegative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return int(text)


def switch_option(text: str) -> bool | None:
    """on, off or auto (None: the method decides)."""
    choices = {"on": True, "off": False, "auto": None}
    if text not in choices:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of on, off, auto")
    return choices[text]


def mesh_option(text: str) -> dict[str, int]:
    """`x=2,y=2`: devices along each space coordinate."""
    try:
        out = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            if not name.strip().isidentifier():
                raise ValueError
            out[name.strip()] = positive_int(value.strip())
        return out
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a mesh: give devices per coordinate, e.g. --mesh x=2,y=2") from None


def layers_option(text: str) -> tuple[int, ...]:
    try:
        return tuple(positive_int(part.strip()) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of layer widths, e.g. "
                                         "64,64,64") from None


def sweep_option(text: str) -> dict[str, tuple[float, ...]]:
    """`k=0.1:2:32`: COUNT evenly spaced values from START to STOP (both included); several,
    comma separated and of equal counts, are swept together (member i takes value i of
    each)."""
    try:
        out = {}
        for part in text.split(","):
            name, _, spread = part.partition("=")
            start, stop, count = spread.split(":")
            if not name.strip().isidentifier() or name.strip() in out:
                raise ValueError
            count = positive_int(count.strip())
            values = np.linspace(float(start), float(stop), count)
            if not np.all(np.isfinite(values)):
                raise ValueError
            out[name.strip()] = tuple(float(v) for v in values)
        if len({len(v) for v in out.values()}) != 1:
            raise ValueError
        return out
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a sweep: give NAME=START:STOP:COUNT, e.g. --sweep k=0.1:2:32 "
            "(several, comma separated, with equal counts, are swept together)") from None
