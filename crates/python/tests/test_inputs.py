"""What the package accepts and refuses: float32 and Fortran-ordered input,
state dicts and files (safetensors, PyTorch .pt), one-line errors of the
right type for bad input, the GIL released while computing, and the same
record as the command line's ``analyze``."""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import feature_learning_checks as flc
from conftest import random_network

ROOT = Path(__file__).resolve().parents[3]
TORCH = ROOT / "fixtures" / "checkpoints" / "torch"
DIGITS = ROOT / "fixtures" / "checkpoints" / "relu_digits"


def f32_network():
    """Weights and inputs exactly representable in float32."""
    weights, biases, rng = random_network(11, [4, 6, 2], True)
    weights = [w.astype(np.float32).astype(np.float64) for w in weights]
    biases = [b.astype(np.float32).astype(np.float64) for b in biases]
    x = rng.standard_normal((9, 4)).astype(np.float32).astype(np.float64)
    return weights, biases, x


def test_float32_and_fortran_order_give_the_float64_result_exactly():
    weights, biases, x = f32_network()
    want = flc.ptk(weights, x, "gelu", biases=biases)
    as_f32 = flc.ptk(
        [w.astype(np.float32) for w in weights],
        x.astype(np.float32),
        "gelu",
        biases=[b.astype(np.float32) for b in biases],
    )
    fortran = flc.ptk([np.asfortranarray(w) for w in weights], np.asfortranarray(x), "gelu", biases=biases)
    strided = flc.ptk(weights, np.ascontiguousarray(np.repeat(x, 2, axis=0))[::2], "gelu", biases=biases)
    for got in (as_f32, fortran, strided):
        for a, b in zip(got, want):
            assert a.dtype == np.float64
            np.testing.assert_array_equal(a, b)
    state = {"0.weight": weights[0].astype(np.float32), "0.bias": biases[0], "2.weight": weights[1].T.T, "2.bias": biases[1]}
    record = flc.analyze(state, np.asfortranarray(x.astype(np.float32)), activation="gelu")
    np.testing.assert_array_equal(record["layers"][0]["ptk"], want[0])


def test_measurement_leaves_its_inputs_unchanged():
    weights, biases, x = f32_network()
    copies = [w.copy() for w in weights], [b.copy() for b in biases], x.copy()
    flc.analyze({"a.weight": weights[0], "a.bias": biases[0], "b.weight": weights[1], "b.bias": biases[1]}, x)
    flc.ntk(weights, x, biases=biases)
    for got, want in zip((weights, biases, [x]), (copies[0], copies[1], [copies[2]])):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


def one_line(excinfo, *needles):
    message = str(excinfo.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)


def test_bad_input_raises_one_line_errors_of_the_right_type():
    weights, biases, x = f32_network()
    with pytest.raises(TypeError) as e:
        flc.nfm("not an array")
    one_line(e, "weight")
    with pytest.raises(TypeError) as e:
        flc.agop(weights, x.astype(np.complex128))
    one_line(e, "x", "complex128")
    with pytest.raises(TypeError) as e:
        flc.agop(weights, [["a", "b"]])
    one_line(e, "x")
    with pytest.raises(ValueError) as e:
        flc.agop(weights, x[0])
    one_line(e, "x", "1 dimensions", "expected 2")
    bad = x.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError) as e:
        flc.ptk(weights, bad)
    one_line(e, "x", "non-finite", "[2, 3]")
    with pytest.raises(ValueError) as e:
        flc.agop(weights, x[:, :3])
    one_line(e, "x", "3 features", "`0.weight`", "4 inputs")
    with pytest.raises(ValueError) as e:
        flc.agop([weights[0], weights[0]], x)
    one_line(e, "`1.weight`", "previous layer")
    with pytest.raises(ValueError) as e:
        flc.ntk(weights, x, activation="sigmoid")
    one_line(e, "unknown activation `sigmoid`")
    with pytest.raises(ValueError) as e:
        flc.similarity(np.eye(2), np.eye(2), "spearman")
    one_line(e, "unknown similarity `spearman`")
    with pytest.raises(ValueError) as e:
        flc.estimate_alpha(np.eye(2), np.eye(2), "best")
    one_line(e, "unknown estimator `best`")
    with pytest.raises(ValueError) as e:
        flc.similarity(np.eye(2), np.eye(3))
    one_line(e, "shape mismatch")
    with pytest.raises(ValueError) as e:
        flc.analyze({"0.weight": weights[0], "0.bias": biases[0], "norm.running_mean": np.zeros(2)}, x)
    one_line(e, "`norm.running_mean`", "explicitly")
    bn = {"0.weight": weights[0], "bn.num_batches_tracked": np.array(3)}
    with pytest.raises(ValueError) as e:
        flc.analyze(bn, x)
    one_line(e, "`bn.num_batches_tracked`", "explicitly")
    # With the layers given, the other entries are ignored, as by the CLI.
    assert flc.analyze(bn, x, layers=["0"])["widths"] == [4, 6]
    with pytest.raises(ValueError) as e:
        flc.analyze({"0.weight": weights[0][0]}, x)
    one_line(e, "`0.weight`", "2-dimensional")
    with pytest.raises(ValueError) as e:
        flc.analyze({"0.weight": weights[0]}, x, labels=np.zeros((9, 2)))
    one_line(e, "labels", "2 columns", "6 outputs")
    with pytest.raises(ValueError) as e:
        flc.analyze({"0.weight": weights[0]}, x, memory=-1)
    one_line(e, "memory")
    with pytest.raises(ValueError) as e:
        flc.analyze({"0.weight": weights[0]}, x, labels=np.zeros((9, 6)), memory=1e-9)
    one_line(e, "budget")
    with pytest.raises(FileNotFoundError) as e:
        flc.analyze("/nonexistent/model.pt", x)
    one_line(e, "/nonexistent/model.pt")


def test_pytorch_checkpoints_and_safetensors_files_are_read():
    x = np.load(TORCH / "x.npy")
    net = flc.load_network(TORCH / "checkpoint.pt")
    assert net["names"] == ["0.weight", "2.weight", "4.weight"]
    assert net["bias_names"] == ["0.bias", "2.bias", "4.bias"]
    assert [w.shape for w in net["weights"]] == [(16, 8), (16, 16), (3, 16)]
    plain = flc.load_network(str(TORCH / "model.pt"))
    for a, b in zip(net["weights"] + net["biases"], plain["weights"] + plain["biases"]):
        np.testing.assert_array_equal(a, b)
    from_file = flc.analyze(TORCH / "checkpoint.pt", x)
    state = dict(zip(net["names"] + net["bias_names"], net["weights"] + net["biases"]))
    from_dict = flc.analyze(state, x)
    assert from_file["weights"] == str(TORCH / "checkpoint.pt") and from_dict["weights"] is None
    for a, b in zip(from_file["layers"], from_dict["layers"]):
        np.testing.assert_array_equal(a["agop"], b["agop"])
        assert a["nfa"] == b["nfa"] and a["uc_nfa"] == b["uc_nfa"]
    st = flc.load_network(DIGITS / "weights.safetensors", layers=["0", "2", "4"])
    assert [w.shape for w in st["weights"]] == [(24, 64), (24, 24), (10, 24)]


class FakeTensor:
    """What a torch tensor offers the package: detach().cpu().numpy()."""

    def __init__(self, a):
        self.a = a

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.a


def test_tensors_with_a_numpy_method_are_accepted():
    weights, biases, x = f32_network()
    want = flc.agop(weights, x, biases=biases)
    got = flc.agop([FakeTensor(w) for w in weights], FakeTensor(x), biases=[FakeTensor(b) for b in biases])
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_the_gil_is_released_while_computing():
    weights, _, rng = random_network(12, [30, 200, 200, 10], False)
    x = rng.standard_normal((1500, 30))
    start = time.perf_counter()
    flc.ntk(weights, x)
    alone = time.perf_counter() - start
    # Long enough that a held GIL would show as a stall of this length.
    assert alone > 0.1, alone
    done = threading.Event()

    def work():
        flc.ntk(weights, x)
        done.set()

    worker = threading.Thread(target=work)
    gaps, last = [], time.perf_counter()
    worker.start()
    # This thread runs Python byte code only while the worker does not hold
    # the GIL: had the call kept it, one gap would span the whole
    # computation. Released, the gaps are scheduler slices and the GIL's
    # switch interval (milliseconds).
    while not done.is_set():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    assert max(gaps) < alone / 3, (max(gaps), alone)


def cli_binary():
    """The release binary, built when missing (CI builds it before pytest)."""
    exe = ROOT / "target" / "release" / "feature-learning-checks"
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "-p", "cli", "--bin", "feature-learning-checks"],
            cwd=ROOT,
            check=True,
        )
    return exe


def test_analyze_returns_the_record_of_the_command_line(tmp_path):
    out = tmp_path / "a.json"
    args = [
        "analyze",
        "--weights", str(DIGITS / "weights.safetensors"),
        "--init", str(DIGITS / "init.safetensors"),
        "--data", str(DIGITS / "x.npy"),
        "--labels", str(DIGITS / "y.npy"),
        "--activation", "relu",
        "--alpha", "0.4",
        "--out", str(out),
        "--quiet",
    ]
    subprocess.run([cli_binary(), *args], check=True, capture_output=True)
    cli = json.loads(out.read_text())
    record = flc.analyze(
        DIGITS / "weights.safetensors",
        np.load(DIGITS / "x.npy"),
        labels=np.load(DIGITS / "y.npy"),
        init=DIGITS / "init.safetensors",
        activation="relu",
        alpha=0.4,
    )
    for layer in record["layers"]:
        for matrix in ("nfm", "agop", "ptk"):
            del layer[matrix]
    # Paths: the CLI records the files it read; Python the weights' and
    # init's paths, and None for the arrays it was handed.
    for key in ("data", "labels"):
        assert record[key] is None
        del record[key], cli[key]
    assert record.keys() == cli.keys()
    for key in record:
        if key not in ("weights", "init"):
            # The same computation in the same order: bit for bit.
            assert record[key] == cli[key], key
