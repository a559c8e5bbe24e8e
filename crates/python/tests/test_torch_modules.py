"""``analyze(model, x)`` and ``describe(model)`` on real ``torch.nn``
modules. PyTorch is not a test requirement (its PyPI wheel carries GBs of
CUDA libraries), so this file runs where torch is installed and is skipped
elsewhere; the convolutional computation itself is checked against
PyTorch's autodiff without torch, on the committed fixture
``fixtures/checkpoints/torch_cnn`` (crates/cli/tests/cli/analyze_torch_cnn.rs)."""

from pathlib import Path

import numpy as np
import pytest

import feature_learning_checks as flc

torch = pytest.importorskip("torch")
nn = torch.nn

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "checkpoints" / "torch_cnn"


def fixture_model():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3),
        nn.Tanh(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3),
    ).double()
    model.load_state_dict(torch.load(FIXTURE / "model_f64.pt"))
    return model


def strip(record):
    for layer in record["layers"]:
        for m in ("nfm", "agop", "ptk"):
            del layer[m]
    return {k: record[k] for k in ("layers", "ntk", "input", "network", "samples")}


def test_a_module_is_analysed_as_its_checkpoint_and_arch_file():
    model = fixture_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = np.load(FIXTURE / "x.npy"), np.load(FIXTURE / "y.npy")
    record = flc.analyze(model, x, labels=y)
    want = flc.analyze(FIXTURE / "model_f64.pt", x, labels=y, arch=(FIXTURE / "arch.toml").read_text())
    assert strip(record) == strip(want)
    # Measuring never changes the model.
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    toml = flc.describe(model, [1, 8, 8])
    assert 'type = "conv2d", channels = 4, kernel = [3, 3], stride = [1, 1], padding = [1, 1]' in toml


def test_nested_sequentials_keep_module_order():
    torch.manual_seed(1)
    features = nn.Sequential(nn.Conv2d(2, 3, 3), nn.GELU(approximate="tanh"), nn.AvgPool2d(2))
    classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(12, 2))
    nested = nn.Sequential()
    nested.add_module("features", features)
    nested.add_module("classifier", classifier)
    nested.eval().double()
    flat = nn.Sequential(*features, *classifier).eval().double()
    x = np.random.default_rng(0).standard_normal((5, 2, 6, 6))
    a, b = flc.analyze(nested, x), flc.analyze(flat, x)
    assert [l["tensor"] for l in a["layers"]] == ["features.0.weight", "classifier.2.weight"]
    for la, lb in zip(a["layers"], b["layers"]):
        assert la["uc_nfa"] == lb["uc_nfa"] and la["nfa"] == lb["nfa"]


@pytest.mark.parametrize(
    "module, needle",
    [
        (nn.BatchNorm2d(4), "BatchNorm2d"),
        (nn.Dropout(0.1), "train mode"),
        (nn.GELU(), "approximate='tanh'"),
        (nn.Conv2d(4, 4, 3, dilation=2), "dilation"),
    ],
)
def test_unsupported_modules_are_named(module, needle):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), module, nn.Flatten(), nn.Linear(4 * 4, 2))
    with pytest.raises(ValueError, match=needle) as e:
        flc.describe(model, [1, 8, 8])
    assert "module `1`" in str(e.value) and "supported:" in str(e.value)
