"""Exit statuses of `pdelang`: an internal error (a bug of ours) exits 3, apart from bad
input (1) and a wrong command line (2), with one line on stderr and the traceback in a file."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from runtime.cli import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, main
from runtime.fd import forward


def test_the_statuses_are_distinct():
    assert (EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL) == (0, 1, 2, 3)


def test_an_internal_error_exits_3_with_one_line_and_the_traceback_in_a_file(
        examples_dir, tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug inside the solve")

    monkeypatch.setattr(forward, "lowered", broken)   # called by every solve (lower_fd is
    #                                                  not, once a worker cached this problem)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))     # where the traceback goes
    status = main(["solve", f"{examples_dir}/poisson2d.pde", "--grid", "9", "--quiet"])
    assert status == EXIT_INTERNAL == 3
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pdelang: internal error (RuntimeError: a bug inside the solve)")
    assert "this is a bug in pdelang, not in your input" in lines[0]
    assert "Traceback" not in err
    named = Path(re.search(r"The details are in (\S+)$", lines[0]).group(1))
    assert named.parent == tmp_path and named.name.startswith("pdelang-error-")
    logged = named.read_text()
    assert logged.startswith("Traceback (most recent call last):")
    assert "in broken" in logged and "RuntimeError: a bug inside the solve" in logged
