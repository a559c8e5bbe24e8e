#!/usr/bin/env python3
"""Time and peak memory of `analyze --labels` at growing n.

Writes a ReLU MLP with 4 hidden layers of width 256, biases, d = 100,
C = 10 (He-initialised, seeded) as safetensors in PyTorch's layout, n
Gaussian inputs and one-hot − 1/C labels of random classes as .npy, runs
the release binary under `/usr/bin/time -v` for each n and prints a
markdown table of wall time and peak resident memory.

Standard library only. Usage, from the repository root after
`cargo build --release -p cli`:

    python3 benches/analyze_scale.py 2000 10000 50000 [--memory GB]
"""

import argparse
import array
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

WIDTHS = [100, 256, 256, 256, 256, 10]


def npy(path, rows, cols, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        values.tofile(f)


def safetensors(path, tensors):
    meta, offset, blobs = {}, 0, []
    for name, shape, values in tensors:
        size = len(values) * 8
        meta[name] = {"dtype": "F64", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
        blobs.append(values)
    header = json.dumps(meta).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        for b in blobs:
            b.tofile(f)


def gaussian(rng, count, scale):
    return array.array("d", (rng.gauss(0.0, scale) for _ in range(count)))


def write_case(directory, n, rng):
    tensors = []
    for l in range(len(WIDTHS) - 1):
        fan_in, fan_out = WIDTHS[l], WIDTHS[l + 1]
        tensors.append((f"{2 * l}.weight", [fan_out, fan_in],
                        gaussian(rng, fan_in * fan_out, (2.0 / fan_in) ** 0.5)))
        tensors.append((f"{2 * l}.bias", [fan_out], gaussian(rng, fan_out, 0.1)))
    safetensors(os.path.join(directory, "model.safetensors"), tensors)
    npy(os.path.join(directory, "x.npy"), n, WIDTHS[0], gaussian(rng, n * WIDTHS[0], 1.0))
    c = WIDTHS[-1]
    labels = array.array("d")
    for _ in range(n):
        k = rng.randrange(c)
        labels.extend((1.0 if j == k else 0.0) - 1.0 / c for j in range(c))
    npy(os.path.join(directory, "y.npy"), n, c, labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", type=int, nargs="+")
    parser.add_argument("--memory", help="passed to analyze as --memory GB")
    parser.add_argument("--binary", default="target/release/feature-learning-checks")
    args = parser.parse_args()
    print("| n | wall time | peak RSS |")
    print("|---:|---:|---:|")
    for n in args.samples:
        with tempfile.TemporaryDirectory() as d:
            write_case(d, n, random.Random(n))
            cmd = ["/usr/bin/time", "-v", args.binary, "analyze",
                   "--weights", os.path.join(d, "model.safetensors"),
                   "--data", os.path.join(d, "x.npy"), "--labels", os.path.join(d, "y.npy"),
                   "--activation", "relu", "--quiet", "--out", os.path.join(d, "out.json")]
            if args.memory:
                cmd += ["--memory", args.memory]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"n = {n}: exit {run.returncode}: {run.stderr.strip()}")
            wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", run.stderr).group(1)
            rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
            print(f"| {n} | {wall} | {rss / 1e6:.2f} GB |", flush=True)


if __name__ == "__main__":
    main()
