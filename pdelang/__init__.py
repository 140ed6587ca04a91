"""pdelang: write a PDE system once, as SymPy expressions or a `.pde` file.

    import pdelang as pl
    system = pl.load("examples/heat1d.pde")        # or pl.PDESystem(...) from SymPy
    print(system)                                   # the validated system, as math

The result is the IR (`System`) that the compilers in `compiler/` lower.
"""

from .api import At, Differential, OnBoundary, PDESystem, Periodic, Sampled, Unknown
from .errors import (
    PdeDataError,
    PdeError,
    PdeLimitError,
    PdeSemanticError,
    PdeSyntaxError,
    PdeWarning,
    Span,
)
from .expressions import Mean, NormalDerivative
from .geometry import Shape, ball, box, cylinder, disk, ellipse, polygon, rect
from .ir import (
    Condition,
    Coordinate,
    Equation,
    Exact,
    Field,
    FieldInfo,
    Net,
    Observations,
    Param,
    Samples,
    System,
)
from .printing import expression_to_pde
from .text import load, parse

__version__ = "0.1.0"

__all__ = [
    "At", "Condition", "Coordinate", "Differential", "Equation", "Exact", "Field", "FieldInfo",
    "Mean", "Net", "Observations", "Param", "PDESystem", "PdeDataError", "PdeError",
    "PdeLimitError",
    "PdeSemanticError", "PdeSyntaxError", "PdeWarning", "Periodic", "Samples", "Sampled",
    "Span", "System", "Unknown", "expression_to_pde", "load", "parse",
    "NormalDerivative", "OnBoundary", "Shape", "ball", "box", "cylinder", "disk", "ellipse",
    "polygon", "rect",
]
