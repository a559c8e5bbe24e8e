"""The Tracker against the command line: a plain PyTorch training script
(``examples/track_digits.py``: SGD with momentum on the shipped digits, a
bias-free ReLU MLP as in BMA24's code) tracks every epoch and saves a
checkpoint per epoch; ``analyze --weights 'DIR/epoch_*.pt'`` then analyses
the saved checkpoints. Both compute in the same Rust code from the same
float32 weights, so their records agree to round-off (1e-12 is far above
the f64 rounding of these O(1) quantities and far below any change of the
weights between epochs). Runs where torch is installed (``.ci/run``
installs it)."""

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import feature_learning_checks as flc

torch = pytest.importorskip("torch")
from feature_learning_checks.torch import METRICS, Tracker  # noqa: E402

from test_inputs import ROOT, cli_binary  # noqa: E402

EXAMPLE = ROOT / "crates" / "python" / "examples" / "track_digits.py"
EPOCHS = 3


def values(record):
    """Every number of a record's layers and NTK metrics, by path."""
    out = {}

    def walk(v, path):
        if isinstance(v, dict):
            for k, w in v.items():
                walk(w, f"{path}.{k}")
        elif isinstance(v, list):
            for i, w in enumerate(v):
                walk(w, f"{path}[{i}]")
        else:
            out[path] = v

    walk(record["layers"], "layers")
    walk(record["ntk"], "ntk")
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("track")
    subprocess.run(
        [sys.executable, str(EXAMPLE), "--out", str(out), "--epochs", str(EPOCHS),
         "--samples", "256", "--depth", "4", "--width", "32"],
        check=True, cwd=ROOT,
    )
    series = out / "series"
    run = subprocess.run(
        [str(cli_binary()), "analyze", "--weights", str(out / "epoch_*.pt"), "--data",
         str(out / "x.npy"), "--labels", str(out / "y.npy"), "--init",
         str(out / "epoch_000.pt"), "--activation", "relu", "--out", str(series), "--quiet"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    return out, series


def test_tracker_records_equal_the_series_of_saved_checkpoints(trained):
    out, series = trained
    tracked = json.loads((out / "tracker.json").read_text())
    analysed = json.loads((series / "series.json").read_text())
    assert [p["step"] for p in analysed["points"]] == list(range(EPOCHS + 1))
    assert [p["step"] for p in tracked["points"]] == list(range(1, EPOCHS + 1))
    by_step = {p["step"]: p for p in analysed["points"]}
    for point in tracked["points"]:
        a, b = values(point), values(by_step[point["step"]])
        assert a.keys() == b.keys()
        for path, v in a.items():
            w = b[path]
            if isinstance(v, float):
                assert abs(v - w) <= 1e-12, (point["step"], path, v, w)
            else:
                assert v == w, (point["step"], path)
    assert analysed["skipped"] == []


def test_csv_has_a_row_per_checkpoint_and_an_empty_cell_for_undefined(trained):
    out, series = trained
    rows = list(csv.DictReader((series / "series.csv").open()))
    assert [r["step"] for r in rows] == [str(s) for s in range(EPOCHS + 1)]
    # At the initial weights ΔW = 0: the C-NFA is undefined, an empty cell.
    assert rows[0]["c_nfa_1"] == ""
    assert 0.0 < float(rows[1]["c_nfa_1"]) <= 1.0
    tracked = list(csv.DictReader((out / "tracker.csv").open()))
    assert tracked[0].keys() == rows[0].keys()
    for t, r in zip(tracked, rows[1:]):
        for k in ("uc_nfa_1", "c_nfa_2", "alpha_hat_1", "ntk_alignment"):
            assert abs(float(t[k]) - float(r[k])) <= 1e-12


def test_pandas_reads_the_csv_with_undefined_cells_as_nan(trained):
    """``to_pandas`` and ``pandas.read_csv`` of ``series.csv`` give numeric
    columns: an undefined value (the C-NFA at init) is NaN, not text."""
    import pandas as pd

    out, series = trained
    frame = pd.read_csv(series / "series.csv")
    assert frame["c_nfa_1"].dtype.kind == "f" and np.isnan(frame["c_nfa_1"][0])
    assert frame["step"].tolist() == list(range(EPOCHS + 1))
    torch.manual_seed(6)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tracker = Tracker(model, torch.randn(8, 3))
    tracker.step(0)
    tracker.step(1)
    tracked = tracker.to_pandas()
    assert tracked["step"].tolist() == [0, 1]
    assert np.isnan(tracked["c_nfa_1"][0]) and tracked["uc_nfa_1"].dtype.kind == "f"


def test_plots_are_svg_documents(trained):
    out, series = trained
    for path in (out / "tracker.svg", series / "series.svg"):
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        text = "".join(root.itertext())
        assert "UC-NFA" in text and "NTK" in text


def test_unreadable_checkpoint_is_skipped_and_the_status_says_so(trained, tmp_path):
    out, _ = trained
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    for name in ("epoch_000.pt", "epoch_001.pt"):
        (ckpt / name).write_bytes((out / name).read_bytes())
    (ckpt / "epoch_002.pt").write_bytes(b"not a checkpoint")
    run = subprocess.run(
        [str(cli_binary()), "analyze", "--weights", str(ckpt), "--data", str(out / "x.npy"),
         "--activation", "relu", "--out", str(tmp_path / "s"), "--quiet"],
        capture_output=True, text=True,
    )
    assert run.returncode == 1
    assert "epoch_002.pt" in run.stderr
    written = json.loads((tmp_path / "s" / "series.json").read_text())
    assert [p["step"] for p in written["points"]] == [0, 1]
    assert written["skipped"][0]["checkpoint"].endswith("epoch_002.pt")


def test_measurement_does_not_change_the_model():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(20, 5)
    tracker = Tracker(model, x, labels=torch.randn(20, 3))
    tracker.step(0)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert tracker.history[0]["step"] == 0
    # At init ΔW = 0, so the C-NFA is undefined, with its reason.
    assert set(tracker.history[0]["layers"][0]["c_nfa"][0]["value"]) == {"undefined"}


def test_tracker_equals_analyze_of_the_same_weights():
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6, bias=False), torch.nn.ReLU(),
                                torch.nn.Linear(6, 2, bias=False))
    x, y = torch.randn(30, 4), torch.randn(30, 2)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    tracker = Tracker(model, x, labels=y)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    record = tracker.step(1)
    direct = flc.analyze(model, x.numpy(), labels=y.numpy(), init=init)
    for layer in direct["layers"]:
        for m in ("nfm", "agop", "ptk"):
            layer.pop(m)
    a, b = values(record), values(direct)
    assert a == b


def test_every_and_metrics():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    x = torch.randn(16, 4)
    tracker = Tracker(model, x, labels=torch.randn(16, 2), every=2, metrics=("uc_nfa", "alpha"))
    measured = [tracker.step(e) is not None for e in range(5)]
    assert measured == [True, False, True, False, True]
    assert [r["step"] for r in tracker.history] == [0, 2, 4]
    # Without "ntk" the kernel pass is skipped; without "c_nfa" the init.
    assert tracker.history[0]["ntk"] is None
    assert tracker.history[0]["layers"][0]["c_nfa"] is None
    header = next(csv.reader(tracker._series.csv().splitlines()))
    assert header == ["step", "checkpoint", "alpha_hat_1", "alpha_hat_2", "uc_nfa_1", "uc_nfa_2"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"every": 0}, "every"),
        ({"metrics": ("nfa", "agop")}, "unknown metric `agop`"),
        ({"metrics": "nfa"}, "metrics"),
        ({"labels": np.zeros((3, 2))}, "labels"),
        ({"similarity": "spearman"}, "spearman"),
        ({"layers": ["0"]}, "layers"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, message):
    model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    with pytest.raises((ValueError, TypeError), match=message):
        Tracker(model, np.zeros((5, 4)), **kwargs)


def test_metrics_names_are_the_documented_ones():
    assert METRICS == ("nfa", "uc_nfa", "c_nfa", "alpha", "ntk")


def test_the_readme_tracker_example_runs_as_written(monkeypatch):
    """*Measure while training* of the README: its loop, then its command
    (``cargo xtask X`` is the program ``feature-learning-checks X``), run
    from the repository root as written; the command's records of the
    saved checkpoints equal the tracker's."""
    import shlex

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Measure while training", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    command = section.split("```sh\n", 1)[1].split("```", 1)[0].strip()
    monkeypatch.chdir(ROOT)
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    args = shlex.split(command)
    assert args[:2] == ["cargo", "xtask"]
    run = subprocess.run([str(cli_binary()), *args[2:], "--quiet"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = ROOT / "target" / "track"
    series = json.loads((out / "series" / "series.json").read_text())
    assert [p["step"] for p in series["points"]] == list(range(11))
    by_step = {p["step"]: p for p in series["points"]}
    for record in scope["tracker"].history:
        a, b = values(record), values(by_step[record["step"]])
        assert a.keys() == b.keys()
        for path, v in a.items():
            assert v == b[path] if not isinstance(v, float) else abs(v - b[path]) <= 1e-12
    assert (out / "tracker.svg").exists() and (out / "tracker.csv").exists()


def test_a_cnn_is_tracked_as_analyze_and_the_series_measure_it(tmp_path):
    """A convolutional nn.Sequential: each record equals ``analyze`` of
    the module at that step, and the command line's series of the saved
    checkpoints with the module's ``--arch`` equals the tracker's."""
    torch.manual_seed(4)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16, 3),
    )
    x, y = torch.randn(12, 1, 4, 4), torch.randn(12, 3)
    torch.save(model.state_dict(), tmp_path / "epoch_0.pt")
    init = {k: v.clone() for k, v in model.state_dict().items()}
    tracker = Tracker(model, x, labels=y)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in (1, 2):
        opt.zero_grad()
        ((model(x) - y) ** 2).sum().backward()
        opt.step()
        record = tracker.step(epoch)
        torch.save(model.state_dict(), tmp_path / f"epoch_{epoch}.pt")
        direct = flc.analyze(model, x.numpy(), labels=y.numpy(), init=init)
        for layer in direct["layers"]:
            for m in ("nfm", "agop", "ptk"):
                layer.pop(m)
        assert values(record) == values(direct)
    assert [layer["kind"] for layer in tracker.history[0]["layers"]] == ["conv2d", "linear"]
    (tmp_path / "arch.toml").write_text(flc.describe(model, [1, 4, 4]))
    np.save(tmp_path / "x.npy", x.numpy())
    np.save(tmp_path / "y.npy", y.numpy())
    run = subprocess.run(
        [str(cli_binary()), "analyze", "--arch", str(tmp_path / "arch.toml"), "--weights",
         str(tmp_path / "epoch_*.pt"), "--init", str(tmp_path / "epoch_0.pt"), "--data",
         str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"), "--out",
         str(tmp_path / "series"), "--quiet"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    series = json.loads((tmp_path / "series" / "series.json").read_text())
    by_step = {p["step"]: p for p in series["points"]}
    for record in tracker.history:
        a, b = values(record), values(by_step[record["step"]])
        assert a.keys() == b.keys()
        for path, v in a.items():
            assert abs(v - b[path]) <= 1e-12 if isinstance(v, float) else v == b[path]


def test_a_module_that_is_not_sequential_is_read_through_its_state_dict():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(6, 2, bias=False)
            self.body = torch.nn.Linear(4, 6, bias=False)

        def forward(self, x):
            return self.head(torch.tanh(self.body(x)))

    torch.manual_seed(5)
    model, x = Net(), torch.randn(10, 4)
    tracker = Tracker(model, x, activation="tanh", layers=["body", "head"])
    record = tracker.step(0)
    assert [layer["tensor"] for layer in record["layers"]] == ["body.weight", "head.weight"]
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    direct = flc.analyze(state, x.numpy(), activation="tanh", layers=["body", "head"])
    assert record["layers"][0]["uc_nfa"] == direct["layers"][0]["uc_nfa"]
