"""Data files a system names: `.npy` coefficient fields and `.csv` observations."""

import numpy as np
import pytest

import pdelang as pl
from pdelang.data import load_observations, load_samples, observations
from pdelang.errors import Span

SPAN = Span("test.pde", 1, 1, 1, "param c(x) = load(...)")
KNOWN = {"t", "x", "u"}


# -- load("file.npy") -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2,), (5,), (3, 4), (2, 3, 4)])
def test_samples_with_one_axis_per_argument(tmp_path, shape):
    array = np.arange(np.prod(shape), dtype=float).reshape(shape)
    np.save(tmp_path / "c.npy", array)
    samples = load_samples("c.npy", tmp_path, len(shape), SPAN)
    np.testing.assert_array_equal(samples.array, array)
    assert samples.array.dtype == np.float64 and not samples.array.flags.writeable
    assert samples.path == str(tmp_path / "c.npy")


def test_integer_arrays_become_floats(tmp_path):
    np.save(tmp_path / "c.npy", np.arange(4))
    assert load_samples("c.npy", tmp_path, 1, SPAN).array.dtype == np.float64


def test_absolute_path_ignores_the_base(tmp_path):
    np.save(tmp_path / "c.npy", np.ones(3))
    assert load_samples(str(tmp_path / "c.npy"), "/nonexistent", 1, SPAN).array.shape == (3,)


def test_samples_compare_by_content(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((2, 3)))
    np.save(tmp_path / "b.npy", np.ones((2, 3)))
    np.save(tmp_path / "c.npy", np.ones((3, 2)))
    a, b, c = (load_samples(f"{n}.npy", tmp_path, 2, SPAN) for n in "abc")
    assert a == b and hash(a) == hash(b)
    assert a != c                              # same values, other shape
    assert "shape=(2, 3)" in repr(a)


@pytest.mark.parametrize("array, needle", [
    (np.ones((3, 3)), "has 2 axes (shape (3, 3)) but the field has 1 argument(s)"),
    (np.ones(1), "every axis needs at least 2 samples"),
    (np.array([1.0, np.inf, 2.0]), "contains 1 NaN or infinite value(s)"),
    (np.array([np.nan, np.nan]), "contains 2 NaN or infinite value(s)"),
    (np.ones(3, dtype=complex), "a real numeric array is needed"),
    (np.array([True, False]), "a real numeric array is needed"),
    (np.array(["a", "b"]), "a real numeric array is needed"),
])
def test_unusable_arrays(tmp_path, array, needle):
    np.save(tmp_path / "c.npy", array)
    with pytest.raises(pl.PdeDataError) as info:
        load_samples("c.npy", tmp_path, 1, SPAN)
    assert needle in str(info.value)
    assert info.value.span == SPAN


def test_pickled_objects_are_not_loaded(tmp_path):
    np.save(tmp_path / "c.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(pl.PdeDataError, match="cannot read .* as a NumPy array"):
        load_samples("c.npy", tmp_path, 1, SPAN)


def test_not_a_numpy_file(tmp_path):
    (tmp_path / "c.npy").write_bytes(b"this is not an array")
    with pytest.raises(pl.PdeDataError, match="cannot read"):
        load_samples("c.npy", tmp_path, 1, SPAN)
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(pl.PdeDataError, match="cannot read"):
        load_samples("empty.npy", tmp_path, 1, SPAN)


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(pl.PdeDataError, match="does not exist"):
        load_samples("nope.npy", tmp_path, 1, SPAN)
    with pytest.raises(pl.PdeDataError, match=r"load\(\) reads .npy files"):
        load_samples("c.npz", tmp_path, 1, SPAN)
    (tmp_path / "dir.npy").mkdir()
    with pytest.raises(pl.PdeDataError, match="does not exist"):
        load_samples("dir.npy", tmp_path, 1, SPAN)


# -- data "obs.csv" ----------------------------------------------------------------------


def test_observations_from_csv(tmp_path):
    (tmp_path / "obs.csv").write_text(" t , x ,u\n0,0.5,1\n\n0.1, 0.25 ,-2e-3\n")
    obs = load_observations("obs.csv", tmp_path, KNOWN, SPAN)
    assert obs.columns == ("t", "x", "u")
    np.testing.assert_array_equal(obs.values, [[0, 0.5, 1], [0.1, 0.25, -2e-3]])
    np.testing.assert_array_equal(obs.column("x"), [0.5, 0.25])
    assert not obs.values.flags.writeable
    assert "rows=2" in repr(obs)


def test_columns_may_be_a_subset_in_any_order(tmp_path):
    (tmp_path / "obs.csv").write_text("u,x\n1,0.5\n")
    assert load_observations("obs.csv", tmp_path, KNOWN, SPAN).columns == ("u", "x")


def test_observations_compare_by_content(tmp_path):
    (tmp_path / "a.csv").write_text("x,u\n0.5,1\n")
    (tmp_path / "b.csv").write_text("x,u\n0.50,1.0\n")
    a = load_observations("a.csv", tmp_path, KNOWN, SPAN)
    b = load_observations("b.csv", tmp_path, KNOWN, SPAN)
    assert a == b and hash(a) == hash(b)
    assert a == observations(("x", "u"), np.array([[0.5, 1.0]]), KNOWN, SPAN)
    assert a != observations(("u", "x"), np.array([[1.0, 0.5]]), KNOWN, SPAN)


@pytest.mark.parametrize("text, needle", [
    ("x,w\n0.5,1\n", "the column(s) 'w' name no coordinate or field"),
    ("x,u\n0.5,abc\n", "line 2, column 'u': 'abc' is not a number"),
    ("x,u\n0.5,1\n0.5\n", "line 3 has 1 values; the header has 2 columns"),
    ("x,u\n0.5,1,2\n", "line 2 has 3 values"),
    ("", "is empty; its first line must name the columns"),
    ("\n\n", "is empty"),
    ("x,u\n", "needs one row per observation"),
    ("x,x\n0.5,1\n", "names a column twice"),
    ("x,u\n0.5,nan\n", "contains NaN or infinite values"),
    ("x,u\n0.5,inf\n", "contains NaN or infinite values"),
])
def test_unusable_csv(tmp_path, text, needle):
    (tmp_path / "obs.csv").write_text(text)
    with pytest.raises(pl.PdeDataError) as info:
        load_observations("obs.csv", tmp_path, KNOWN, SPAN)
    assert needle in str(info.value)


def test_csv_that_is_not_text(tmp_path):
    (tmp_path / "obs.csv").write_bytes(b"x,u\n0.5,\xff\xfe\n")
    with pytest.raises(pl.PdeDataError, match="cannot read .* as CSV text"):
        load_observations("obs.csv", tmp_path, KNOWN, SPAN)


def test_missing_csv_and_hint(tmp_path):
    with pytest.raises(pl.PdeDataError, match="does not exist"):
        load_observations("nope.csv", tmp_path, KNOWN, SPAN)
    (tmp_path / "obs.csv").write_text("x,w\n0.5,1\n")
    with pytest.raises(pl.PdeDataError) as info:
        load_observations("obs.csv", tmp_path, KNOWN, SPAN)
    assert info.value.hint == "columns may be: t, u, x"


def test_parameters_are_not_observation_columns(tmp_path):
    (tmp_path / "obs.csv").write_text("x,k\n0.5,1\n")
    with pytest.raises(pl.PdeDataError, match="'k' name no coordinate or field"):
        pl.parse('param k ~ 1\nspace x in [0, 1]\nfield u(x)\npde d(u, x, 2) = k\n'
                 'data "obs.csv"\n', base=tmp_path)


# -- observations checked against the system, before any work ----------------------------

HEAT_WITH_DATA = """param k ~ 1
space x in [0, 1]
time t in [0, 0.5]
field u(t, x)
pde d(u, t) = k*d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
data "obs.csv"
"""


def test_a_point_outside_the_domain_names_the_data_line_and_the_csv_line(tmp_path):
    (tmp_path / "obs.csv").write_text("t,x,u\n0.1,0.5,1\n\n0.2,0.25,1\n0.3,1.5,1\n")
    with pytest.raises(pl.PdeDataError) as info:
        pl.parse(HEAT_WITH_DATA, "heat.pde", base=tmp_path)
    text = str(info.value)
    assert text.startswith("heat.pde:9:1: data error:")                # the `data` line
    assert "line 5, row 3: x = 1.5 lies outside [0, 1]" in text        # blank line 3 counted
    assert 'data "obs.csv"' in text                                    # the caret excerpt


def test_a_time_outside_the_interval_is_caught_too(tmp_path):
    (tmp_path / "obs.csv").write_text("t,x,u\n0.7,0.5,1\n")
    with pytest.raises(pl.PdeDataError, match=r"line 2, row 1: t = 0.7 lies outside \[0, 0.5\]"):
        pl.parse(HEAT_WITH_DATA, "heat.pde", base=tmp_path)


def test_points_on_a_face_within_rounding_are_inside(tmp_path):
    (tmp_path / "obs.csv").write_text("t,x,u\n0.5,1.0000000000001,0\n0,0,0\n")
    assert len(pl.parse(HEAT_WITH_DATA, "heat.pde", base=tmp_path).data[0].values) == 2


def test_a_table_that_names_no_field_is_an_error_at_its_data_line(tmp_path):
    (tmp_path / "obs.csv").write_text("t,x\n0.1,0.5\n")
    with pytest.raises(pl.PdeDataError) as info:
        pl.parse(HEAT_WITH_DATA, "heat.pde", base=tmp_path)
    assert str(info.value).startswith("heat.pde:9:1: data error:")
    assert "gives no field" in str(info.value) and info.value.hint.endswith(": u")


def test_a_field_without_its_coordinates_is_an_error_at_parse_time(tmp_path):
    (tmp_path / "obs.csv").write_text("x,u\n0.5,1\n")
    with pytest.raises(pl.PdeDataError, match="no column for its argument.*t"):
        pl.parse(HEAT_WITH_DATA, "heat.pde", base=tmp_path)


def test_observations_from_python_are_checked_the_same_way():
    import sympy as sp

    t, x = sp.symbols("t x")
    u, k = sp.Function("u"), sp.Symbol("k")
    with pytest.raises(pl.PdeDataError, match=r"row 2: x = -0.5 lies outside \[0, 1\]"):
        pl.PDESystem(equations=[sp.Eq(u(t, x).diff(t), k * u(t, x).diff(x, 2))],
                     conditions=[sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0),
                                 sp.Eq(u(0, x), sp.sin(sp.pi * x))],
                     domain={x: (0, 1), t: (0, 0.5)}, params={k: pl.Unknown(1.0)},
                     data={"t": [0.1, 0.2], "x": [0.5, -0.5], "u": [1.0, 1.0]})
