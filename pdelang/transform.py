"""Parse tree to declarations: the `.pde` front end.

Two passes over the statements. The first collects what every name is (coordinate, field,
parameter) so that the second can turn expressions into SymPy objects with each name
checked where it is used: an unknown name, a field called with the wrong arguments or a
derivative by a non-coordinate is reported at its own line and column. Nothing here
evaluates text: every SymPy object is built from a tree node by our own code.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import sympy as sp
from lark import Token, Tree
from sympy.core.function import AppliedUndef

from . import expressions as ex
from .data import load_observations, load_samples
from .declarations import ConditionDecl, Declarations, EquationDecl
from .errors import PdeSemanticError, Span
from .ir import NET_OPTIONS, Coordinate, Exact, Field, Net, Param
from .limits import MAX_DERIVATIVE_ORDER
from .normalize import part_of_boundary
from .printing import expression_to_pde as show
from .regions import RegionReader
from .scope import Scope
from .validate import (
    check_coordinates,
    check_field_args,
    check_names,
    check_net,
    numeric,
    shorthand_suffix,
    split_coordinates,
)

COMPARISONS = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}


class TextFrontEnd:
    """Turns the statements of one `.pde` text into `Declarations`."""

    def __init__(self, text: str, file: str, base: str | Path | None) -> None:
        self.lines = text.splitlines()
        self.file = file
        self.base = base
        self.scope = Scope((), (), ())

    # -- positions ------------------------------------------------------------------------
    def span(self, node: Tree | Token) -> Span:
        if isinstance(node, Token):
            line, column = node.line or 1, node.column or 1
            end_line, end_column = node.end_line or line, node.end_column or column + 1
        else:
            meta = node.meta
            line, column = getattr(meta, "line", 1), getattr(meta, "column", 1)
            end_line = getattr(meta, "end_line", line)
            end_column = getattr(meta, "end_column", column + 1)
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        length = end_column - column if end_line == line else len(source) - column + 1
        return Span(self.file, line, column, max(length, 1), source)

    def _system_span(self, statements: list[Tree]) -> Span:
        """Where errors about the whole system point: the first statement, else line 1."""
        if statements:
            span = self.span(statements[0])
            return Span(self.file, span.line, span.column, 1, span.source)
        return Span(self.file, 1, 1, 1, self.lines[0] if self.lines else "")

    def error(self, message: str, node: Tree | Token, hint: str = "") -> PdeSemanticError:
        return PdeSemanticError(message, self.span(node), hint)

    # -- the two passes -----------------------------------------------------------------
    def read(self, tree: Tree) -> tuple[Declarations, Scope]:
        statements = [s for s in tree.children if isinstance(s, Tree)]
        decls = Declarations(file=self.file, span=self._system_span(statements))
        pending_params: list[Tree] = []
        pending_intervals: list[tuple[Tree, bool]] = []
        pending_nets: list[Tree] = []
        named = False
        for st in statements:
            if st.data == "problem":
                if named:
                    raise self.error("the problem is named twice", st)
                decls.name, named = _string(st.children[0]), True
            elif st.data in ("space", "time"):
                pending_intervals += [(i, st.data == "time") for i in st.children]
            elif st.data == "field":
                decls.fields += [Field(str(s.children[0]), _names(s.children[1]), self.span(s))
                                 for s in st.children]
            elif st.data in ("param_known", "param_unknown"):
                pending_params.append(st)
            elif st.data == "net":
                pending_nets.append(st)
        placeholders = [self._param_name(st) for st in pending_params]
        coordinates = [Coordinate(str(i.children[0]), sp.S.Zero, sp.S.One, is_time,
                                  self.span(i)) for i, is_time in pending_intervals]
        named_nets = [Net(str(st.children[0]), (), span=self.span(st)) for st in pending_nets]
        check_names(coordinates, decls.fields, placeholders, named_nets)
        check_coordinates(coordinates, decls.span)  # one time at most, before any value
        check_field_args(decls.fields, tuple(coordinates), "field")
        check_field_args([p for p in placeholders if p.is_field], tuple(coordinates),
                         "parameter")
        self.scope = Scope(tuple(coordinates), tuple(decls.fields), tuple(placeholders))
        decls.params = self._params(pending_params)
        self.scope = Scope(tuple(coordinates), tuple(decls.fields), tuple(decls.params))
        intervals = [self._interval(i, t) for i, t in pending_intervals]
        decls.coordinates = list(check_coordinates(intervals, decls.span))  # time first
        self.scope = Scope(tuple(decls.coordinates), tuple(decls.fields), tuple(decls.params))
        decls.nets = [self._net(st) for st in pending_nets]
        self.scope = replace(self.scope, nets=tuple(decls.nets))
        for st in statements:
            self._statement(st, decls)
        return decls, self.scope

    def _net(self, st: Tree) -> Net:
        """A `net` line: its inputs (checked by `check_net`), outputs and options."""
        name, args, *rest = st.children
        inputs = tuple(self.expr(a) for a in args.children)
        values: dict[str, object] = {"outputs": 1}
        for node in rest:
            if node.data == "net_outputs":
                values["outputs"] = self._whole(node.children[0], "outputs")
                continue
            for option in node.children:
                key, value = (str(c) for c in option.children)
                if key not in NET_OPTIONS:
                    raise self.error(f"unknown option `{key}` of a net; its options are "
                                     f"{', '.join(NET_OPTIONS)}", option)
                if key in values:
                    raise self.error(f"the option `{key}` is given twice", option)
                values[key] = value if key == "activation" else \
                    self._whole(option.children[1], key)
        net = Net(str(name), inputs, span=self.span(st), **values)
        check_net(net, self.scope)
        return net

    def _whole(self, token: Token, what: str) -> int:
        text = str(token)
        if token.type != "NUMBER" or not text.isdigit() or int(text) < 1:
            raise self.error(f"a net's {what} is a positive whole number, not {text}", token)
        return int(text)

    def _param_name(self, st: Tree) -> Param:
        name, args = _param_head(st)
        guess = sp.S.Zero if st.data == "param_unknown" else None
        return Param(name, args, guess=guess, span=self.span(st))

    def _params(self, statements: list[Tree]) -> list[Param]:
        """Parameter values in order; a constant may use the constants declared before it."""
        params: list[Param] = []
        values: dict[sp.Symbol, sp.Expr] = {}
        for st in statements:
            name, args = _param_head(st)
            body, bounds_node = _param_body(st)
            span = self.span(st)
            if _is_load(body):
                if st.data == "param_unknown" or not args:
                    raise self.error("load() defines a coefficient field: write "
                                     f"`param {name}(x, ...) = load(\"file.npy\")`", body)
                path = _string(body.children[1].children[0].children[0])
                params.append(Param(name, args, samples=load_samples(
                    path, self.base, len(args), self.span(body)), span=span))
                continue
            expr = self.expr(body)
            if not args:
                expr = ex.substitute(expr, values, self.span(body))
                if numeric(expr) is None:
                    used = ", ".join(sorted(str(s) for s in expr.free_symbols))
                    raise self.error(f"the value of `{name}` must be a number" +
                                     (f"; it uses {used}" if used else ""), body,
                                     hint="constants may use constants declared above them")
            if st.data == "param_known":
                params.append(Param(name, args, value=expr, span=span))
                if not args:
                    values[sp.Symbol(name)] = expr
            else:
                bounds = self._bounds(bounds_node, name, args) if bounds_node else None
                params.append(Param(name, args, guess=expr, span=span, bounds=bounds))
        return params

    def _bounds(self, node: Tree, name: str, args: tuple[str, ...]) -> tuple[sp.Expr, sp.Expr]:
        """`in [lower, upper]` of an unknown constant: two numbers (checked in order by
        `validate.check_bounds`, which the SymPy front end shares)."""
        if args:
            raise self.error(f"bounds apply to an unknown constant; `{name}` is a coefficient "
                             "field", node)
        ends = []
        for end in node.children:
            value = ex.substitute(self.expr(end), self.scope.constants(), self.span(end))
            if numeric(value) is None:
                raise self.error(f"the bounds of `{name}` must be numbers", end)
            ends.append(value)
        return ends[0], ends[1]

    def _interval(self, node: Tree, is_time: bool) -> Coordinate:
        name, lower, upper = node.children
        constants = self.scope.constants()
        ends = []
        for end in (lower, upper):
            value = ex.substitute(self.expr(end), constants, self.span(end))
            if numeric(value) is None:
                raise self.error(f"the end of the interval of `{name}` must be a number", end)
            ends.append(value)
        return Coordinate(str(name), ends[0], ends[1], is_time, self.span(node))

    def _statement(self, st: Tree, decls: Declarations) -> None:
        span = self.span(st)
        if st.data == "pde":
            lhs, rhs = self._equation(st.children[0])
            decls.equations.append(EquationDecl(lhs, rhs, span))
        elif st.data == "domain":
            if decls.domain is not None:
                raise self.error("the domain is given twice", st)
            reader = RegionReader(self.expr, self.span, self.scope.constants(),
                                  tuple(c for c in self.scope.coordinates if not c.is_time))
            decls.domain, decls.domain_span = reader.statement(st), span
        elif st.data == "bc" and len(st.children) > 1 and st.children[1].data == "on_boundary":
            lhs, rhs = self._equation(st.children[0])
            decls.conditions.append(ConditionDecl(lhs, rhs, span, keyword="bc",
                                                  on_boundary=True,
                                                  where=self._part(st.children[1])))
        elif st.data in ("bc", "ic"):
            lhs, rhs = self._equation(st.children[0])
            places = self._location(st.children[1]) if len(st.children) > 1 else []
            at = places[0] if len(places) == 1 else None
            point = tuple(places) if len(places) > 1 else None
            decls.conditions.append(ConditionDecl(lhs, rhs, span, at, st.data, point=point))
        elif st.data == "periodic":
            decls.conditions += [ConditionDecl(sp.S.Zero, sp.S.Zero, self.span(n),
                                               periodic=str(n)) for n in st.children]
        elif st.data == "exact":
            name, body = st.children
            decls.exact.append(Exact(str(name), self.expr(body), span))
        elif st.data == "data":
            known = set(self.scope.names()) - {p.name for p in self.scope.params}
            decls.data.append(load_observations(_string(st.children[0]), self.base, known, span))

    def _part(self, node: Tree) -> sp.Expr | None:
        """`where LEFT < RIGHT` of an `on boundary` condition (None: the whole boundary)."""
        if not node.children:
            return None
        left, compare, right = node.children
        relation = COMPARISONS[str(compare)](self.expr(left), self.expr(right))
        return part_of_boundary(relation, self.scope, self.span(node))

    def _equation(self, node: Tree) -> tuple[sp.Expr, sp.Expr]:
        lhs, rhs = node.children
        return self.expr(lhs), self.expr(rhs)

    def _location(self, node: Tree) -> list[tuple[str, sp.Expr]]:
        """`at x = 0` (a face), or `at x = 0, y = 0` (a point): (coordinate, value) pairs."""
        places = [self._place(p) for p in node.children]
        names = [n for n, _ in places]
        for i, place in enumerate(node.children):
            if names[i] in names[:i]:
                raise self.error(f"`{names[i]}` is named twice in `at`", place)
        return places

    def _place(self, node: Tree) -> tuple[str, sp.Expr]:
        name, value = node.children
        if self.scope.kind(str(name)) != "coordinate":
            if self.scope.kind(str(name)) is None:
                raise self.scope.unknown_name(str(name), self.span(name))
            raise self.error(f"`at` names a coordinate, and `{name}` is a "
                             f"{self.scope.kind(str(name))}", name)
        number = self.expr(value)
        if number.free_symbols - set(self.scope.constants()):
            raise self.error("the face of a condition is a number, e.g. `at x = 0`", value)
        return str(name), number

    # -- expressions ----------------------------------------------------------------------
    def expr(self, node: Tree | Token) -> sp.Expr:
        """The SymPy expression of an expression node, checked as it is built."""
        if isinstance(node, Token):
            raise self.error(f"unexpected {node!s}", node)
        rule = node.data
        if rule == "number":
            return ex.number(str(node.children[0]), self.span(node))
        if rule == "name":
            return self.name(node.children[0])
        if rule == "call":
            return self.call(node)
        if rule == "output":
            return self.output(node)
        if rule == "call_output":
            return self.output(node, list(node.children[1].children))
        if rule == "intersection":
            raise self.error("`&` intersects shapes in a `domain` line; it is not an "
                             "operator of expressions", node)
        if rule == "pair":
            raise self.error("a point (a, b) is an argument of polygon() in a `domain` line",
                             node)
        if rule in ("comparison", "string"):
            what = "a comparison" if rule == "comparison" else "a string"
            raise self.error(f"{what} is only allowed as the first argument of where()"
                             if rule == "comparison" else
                             f"{what} is only allowed in load(\"file.npy\")", node)
        span = self.span(node)
        if rule == "neg":
            return -self.expr(node.children[0])
        if rule == "pos":
            return self.expr(node.children[0])
        if rule == "pow":
            base, _, exponent = node.children
            return ex.power(self.expr(base), self.expr(exponent), span)
        if rule in ("add", "sub", "mul", "div"):
            return self._chain(node)
        raise self.error(f"unexpected expression ({rule})", node)

    def _chain(self, node: Tree) -> sp.Expr:
        """`a + b - c + ...` (or `a * b / c ...`) along its left spine, without recursion
        on the spine, so that long sums and products do not hit the nesting limit."""
        group = {"add", "sub"} if node.data in ("add", "sub") else {"mul", "div"}
        spine = []
        while isinstance(node, Tree) and node.data in group:
            spine.append(node)
            node = node.children[0]
        value = self.expr(node)
        for link in reversed(spine):
            b = self.expr(link.children[1])
            span = self.span(link)
            if link.data == "add":
                value = value + b
            elif link.data == "sub":
                value = value - b
            elif link.data == "mul":
                value = ex.real(value * b, span)
            else:
                if b.is_Number and b.is_zero:  # 0 or 0.0 (SymPy: Float(0) == 0 is False)
                    raise PdeSemanticError("division by zero", span)
                value = ex.real(value / b, span)
        return value

    def name(self, token: Token) -> sp.Expr:
        name = str(token)
        kind = self.scope.kind(name)
        if kind in ("coordinate", "constant"):
            return sp.Symbol(name)
        if kind in ("field", "coefficient"):
            return sp.Function(name)(*(sp.Symbol(a) for a in self.scope.args_of(name)))
        if kind == "net":
            return self._net_output(token, name, 0, None, bare=True)
        if name == "pi":
            return sp.pi
        if name in ex.FUNCTIONS or name in ("d", "laplace", "where", "load", "mean"):
            raise self.error(f"`{name}` is a function: call it as {name}(...)", token)
        derivative = self._shorthand(name)
        if derivative is not None:
            return derivative
        raise self.scope.unknown_name(name, self.span(token))

    def _shorthand(self, name: str) -> sp.Expr | None:
        for f in self.scope.fields:
            suffix = shorthand_suffix(name, f)
            if suffix is None:
                continue
            variables = split_coordinates(suffix, set(f.args))
            if variables:
                return sp.diff(f.applied, *(sp.Symbol(v) for v in variables))
        return None

    def call(self, node: Tree) -> sp.Expr:
        token, args_node = node.children
        name = str(token)
        args = list(args_node.children)
        if name == "d":
            return self._derivative(node, args)
        if name == "laplace":
            return self._laplace(node, args)
        if name == "where":
            return self._where(node, args)
        if name == "mean":
            if len(args) != 1:
                raise self.error(f"mean() takes 1 argument, got {len(args)}", node)
            return ex.Mean(self.expr(args[0]))
        if name == "load":
            raise self.error('load() only defines a coefficient field: '
                             '`param c(x, y) = load("c.npy")`', node)
        if name in ex.FUNCTIONS:
            return ex.call(name, [self.expr(a) for a in args], self.span(node))
        kind = self.scope.kind(name)
        if kind in ("field", "coefficient"):
            return self._application(node, name, args)
        if kind == "net":
            return self._net_output(node, name, 0, args, bare=True)
        if kind is not None:
            raise self.error(f"`{name}` is a {kind}, not a function", token)
        raise self.scope.unknown_name(name, self.span(token), extra=tuple(ex.FUNCTIONS))

    def output(self, node: Tree, args: list[Tree] | None = None) -> sp.Expr:
        """`G[k]` (at the declared inputs) or `G(a, b)[k]`: output k of a net."""
        name, *_, index = node.children
        if self.scope.kind(str(name)) != "net":
            what = self.scope.kind(str(name))
            raise self.error(f"`{name}[...]` takes an output of a net, and `{name}` is "
                             + (f"a {what}" if what else "not declared"), node)
        return self._net_output(node, str(name), int(self._whole_index(index)), args)

    def _show(self, expr: sp.Expr) -> str:
        return show(expr, {f.name: f.args for f in self.scope.fields}, shorthand=False)

    def _whole_index(self, token: Token) -> int:
        text = str(token)
        if not text.isdigit():
            raise self.error(f"an output of a net is numbered 0, 1, ..., not {text}", token)
        return int(text)

    def _net_output(self, node: Tree | Token, name: str, index: int,
                    args: list[Tree] | None, bare: bool = False) -> sp.Expr:
        net = self.scope.net(name)
        if bare and net.outputs != 1:
            raise self.error(f"the net `{name}` has {net.outputs} outputs: take one, "
                             f"{name}[0] to {name}[{net.outputs - 1}]", node)
        if index >= net.outputs:
            raise self.error(f"the net `{name}` has {net.outputs} output(s), numbered 0 to "
                             f"{net.outputs - 1}, not {index}", node)
        if args is None:
            return net.output(index)
        if len(args) != len(net.inputs):
            raise self.error(f"`{name}` is declared as {net.signature(self._show)} but is called "
                             f"with {len(args)} argument(s)", node)
        return net.output(index, *(self.expr(a) for a in args))

    def _application(self, node: Tree, name: str, args: list[Tree]) -> sp.Expr:
        declared = self.scope.args_of(name)
        signature = f"{name}({', '.join(declared)})"
        if len(args) != len(declared):
            raise self.error(f"`{name}` is declared as {signature} but is called with "
                             f"{len(args)} argument(s)", node)
        values = []
        constants = self.scope.constants()
        for arg, expected in zip(args, declared):
            value = self.expr(arg)
            if value != sp.Symbol(expected):
                value = ex.substitute(value, constants, self.span(arg))
                if numeric(value) is None:
                    raise self.error(f"argument {len(values) + 1} of `{name}` must be `{expected}` "
                                     f"or a number (the face {expected} = ...), as in "
                                     f"{signature}", arg)
            values.append(value)
        return sp.Function(name)(*values)

    def _derivative(self, node: Tree, args: list[Tree]) -> sp.Expr:
        if len(args) < 2:
            raise self.error("d() needs an expression and a coordinate, e.g. d(u, x) or "
                             "d(u, x, 2)", node)
        target = self.expr(args[0])
        if (len(args) == 2 and args[1].data == "name" and str(args[1].children[0]) == "n"
                and self.scope.kind("n") is None):
            if not (isinstance(target, AppliedUndef) and
                    self.scope.kind(target.func.__name__) == "field"):
                raise self.error("d(u, n), the outward normal derivative, takes a field", node)
            return ex.NormalDerivative(target)
        variables: list[tuple[sp.Symbol, int]] = []
        for arg in args[1:]:
            if arg.data == "number" and variables:
                count = ex.number(str(arg.children[0]), self.span(arg))
                if not (count.is_Integer and 1 <= int(count) <= MAX_DERIVATIVE_ORDER):
                    raise self.error(f"a derivative order is a whole number from 1 to "
                                     f"{MAX_DERIVATIVE_ORDER}", arg)
                variables[-1] = (variables[-1][0], int(count))
            elif arg.data == "name" and self.scope.kind(str(arg.children[0])) == "coordinate":
                variables.append((sp.Symbol(str(arg.children[0])), 1))
            else:
                raise self.error("the arguments after the first of d() are coordinates, each "
                                 "optionally followed by its order: d(u, x, 2), d(u, x, y)", arg)
        return self._differentiate(target, variables, node)

    def _differentiate(self, target: sp.Expr, variables: list[tuple[sp.Symbol, int]],
                       node: Tree) -> sp.Expr:
        faces: dict[sp.Symbol, sp.Expr] = {}
        full: dict[sp.Expr, sp.Expr] = {}
        for app in ex.applied_functions(target):
            declared = self.scope.args_of(app.func.__name__)
            for variable, _ in variables:
                if variable.name not in declared:
                    raise self.error(
                        f"`{app.func.__name__}` is declared {app.func.__name__}"
                        f"({', '.join(declared)}) and does not depend on `{variable}`", node)
            for arg, expected in zip(app.args, declared):
                if arg != sp.Symbol(expected):
                    faces[sp.Symbol(expected)] = arg
                    full[app] = app.func(*(sp.Symbol(a) for a in declared))
        if not faces and self._keeps_flux(target, variables):
            return sp.Derivative(target, variables[0][0])
        result = sp.diff(target.xreplace(full), *variables)
        if faces:
            result = sp.Subs(result, tuple(faces), tuple(faces.values()))
        return result

    def _keeps_flux(self, target: sp.Expr, variables: list[tuple[sp.Symbol, int]]) -> bool:
        """`d(expr, x)` of an expression with a field in it, once along a space coordinate,
        stays a flux (pdelang.flux); the compilers that difference fluxes at faces use it."""
        if isinstance(target, AppliedUndef) or len(variables) != 1 or variables[0][1] != 1:
            return False
        time = self.scope.time
        if time is not None and variables[0][0].name == time.name:
            return False
        return any(self.scope.kind(a.func.__name__) == "field"
                   for a in ex.applied_functions(target))

    def _laplace(self, node: Tree, args: list[Tree]) -> sp.Expr:
        if len(args) != 1:
            raise self.error(f"laplace() takes 1 argument, got {len(args)}", node)
        target = self.expr(args[0])
        space = [c.name for c in self.scope.coordinates if not c.is_time]
        apps = ex.applied_functions(target)
        if apps:
            used = {a for app in apps for a in self.scope.args_of(app.func.__name__)}
            space = [c for c in space if c in used]
        if not space:
            raise self.error("laplace() of an expression that depends on no space coordinate",
                             node)
        return sp.Add(*(self._differentiate(target, [(sp.Symbol(c), 2)], node) for c in space))

    def _where(self, node: Tree, args: list[Tree]) -> sp.Expr:
        if len(args) != 3 or args[0].data != "comparison":
            raise self.error("where() takes a comparison and two values: "
                             "where(x < 0.5, 1, 0)", node)
        left, operator, right = args[0].children
        sides = [self.expr(left), self.expr(right)]
        if any(side.has(sp.Piecewise) for side in sides):
            # SymPy would turn the comparison into a boolean ITE(...), which is no comparison
            raise self.error("a where() inside the comparison of a where() is not supported",
                             args[0], hint="compare each branch: where(c, where(a < y, ...), "
                             "where(b < y, ...))")
        condition = COMPARISONS[str(operator)](*sides)
        return sp.Piecewise((self.expr(args[1]), condition), (self.expr(args[2]), True))


def _string(token: Token) -> str:
    return str(token)[1:-1]


def _names(node: Tree) -> tuple[str, ...]:
    return tuple(str(t) for t in node.children)


def _param_head(st: Tree) -> tuple[str, tuple[str, ...]]:
    name = str(st.children[0])
    second = st.children[1]
    args = _names(second) if isinstance(second, Tree) and second.data == "arguments" else ()
    return name, args


def _param_body(st: Tree) -> tuple[Tree, Tree | None]:
    """The value (or guess) of a parameter statement, and its `in [a, b]` node if any."""
    last = st.children[-1]
    if isinstance(last, Tree) and last.data == "bounds":
        return st.children[-2], last
    return last, None


def _is_load(node: Tree) -> bool:
    return (isinstance(node, Tree) and node.data == "call" and str(node.children[0]) == "load"
            and len(node.children[1].children) == 1
            and node.children[1].children[0].data == "string")
