"""The README's *From Python* example runs as written and prints what the
README shows. Numbers are compared to 1e-9 relative, not by their printed
digits: the last bits of a sum can differ with the SIMD width of the CPU
that runs it, and 1e-9 is far above that and far below any change in what
the example computes."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def example():
    """The first ``python`` block of the section *From Python* and the
    ``text`` block after it."""
    text = README.read_text()
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    printed = section.split("```text\n", 1)[1].split("```", 1)[0]
    return code, printed


def test_the_readme_example_prints_what_the_readme_shows():
    code, expected = example()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    got = out.getvalue()
    assert NUMBER.sub("#", got) == NUMBER.sub("#", expected), got
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(expected), strict=True):
        x, y = float(a), float(b)
        assert abs(x - y) <= 1e-9 * max(1.0, abs(y)), (a, b)


def test_the_readme_cnn_example_prints_what_the_readme_shows(monkeypatch):
    """The convolutional example of *Analyse a PyTorch model*, run from the
    repository root as written, prints the list the README shows."""
    section = README.read_text().split("## Analyse a PyTorch model", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    expected = section.split("prints `", 1)[1].split("`", 1)[0]
    monkeypatch.chdir(README.parent)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    got = out.getvalue().strip()
    assert NUMBER.sub("#", got) == NUMBER.sub("#", expected), got
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(expected), strict=True):
        assert abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b))), (a, b)
