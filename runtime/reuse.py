"""Compiled problems kept between calls: the last few values made for hashable keys.

JAX caches a jitted function's compilations by the identity of its static arguments (a
lowered program, a right-hand side closure). Solving an equal problem twice reuses them
only if the second call is handed the same objects, so the runtime keeps what it lowered
and bound, keyed by what it was made from (a system, its options).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Remembered:
    """The values made for the last `size` keys, the oldest dropped first."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        """The value kept for `key`, else `make()` kept for it. A key holding something
        unhashable (a system with an array inside) is made anew each time."""
        try:
            hash(key)
        except TypeError:
            return make()
        if key not in self._values:
            self._values[key] = make()
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        self._values.move_to_end(key)
        return self._values[key]
