#!/usr/bin/env python3
"""Time `analyze --labels` from Python and from the command line on the
same network and data: the case of `analyze_scale.py` (a ReLU MLP with 4
hidden layers of width 256, biases, d = 100, C = 10) at n samples.

Python is timed in-process on arrays already in memory (the weights read
once with `load_network`), the command line as a whole process (reading
its files, writing its JSON), best of `--repeat` runs each; both records
must agree. Run with the package installed (`pip install ./crates/python`)
after `cargo build --release -p cli`:

    python benches/analyze_python.py 2000 [--repeat 3]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

import feature_learning_checks as flc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyze_scale import write_case  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--binary", default="target/release/feature-learning-checks")
    args = parser.parse_args()
    n = args.samples
    with tempfile.TemporaryDirectory() as d:
        write_case(d, n, random.Random(n))
        weights, x, y = (os.path.join(d, f) for f in ("model.safetensors", "x.npy", "y.npy"))
        out = os.path.join(d, "out.json")
        cmd = [args.binary, "analyze", "--weights", weights, "--data", x, "--labels", y,
               "--activation", "relu", "--quiet", "--out", out]
        cli = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            cli.append(time.perf_counter() - t)
        net = flc.load_network(weights)
        state = dict(zip(net["names"] + net["bias_names"], net["weights"] + net["biases"]))
        xs, ys = np.load(x), np.load(y)
        py = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            record = flc.analyze(state, xs, labels=ys, activation="relu")
            py.append(time.perf_counter() - t)
        expected = json.load(open(out))
        assert record["ntk"] == expected["ntk"], "the two records differ"
    print(f"n = {n}: Python analyze {min(py):.2f} s, command line {min(cli):.2f} s "
          f"(best of {args.repeat}; runs {', '.join(f'{t:.2f}' for t in py)} / "
          f"{', '.join(f'{t:.2f}' for t in cli)})")


if __name__ == "__main__":
    main()
