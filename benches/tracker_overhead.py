#!/usr/bin/env python3
"""What the Tracker adds to a PyTorch training loop: the digits MLP of
`crates/python/examples/track_digits.py` (5 hidden ReLU layers of width
256, no biases, SGD with momentum, batch 128) trained on 1,024 digits,
timed in-process with and without a `Tracker` (metrics without `ntk`),
measuring on the 1,024 training samples or on the first `--probe` of
them, every epoch or every 10th. Each configuration trains `--epochs`
epochs from the same seed; the median over `--repeat` runs is reported.
Run with torch and the package installed:

    python benches/tracker_overhead.py [--epochs 20] [--repeat 3] [--probe 128]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

from feature_learning_checks.torch import Tracker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crates" / "python" / "examples"))
from track_digits import digits  # noqa: E402


def train(x, y, epochs, probe, every):
    """Wall seconds of the training loop (tracker construction included)."""
    torch.manual_seed(0)
    widths = [64] + [256] * 5
    layers = []
    for d_in, d_out in zip(widths, widths[1:]):
        layers += [nn.Linear(d_in, d_out, bias=False), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(256, 10, bias=False))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = time.perf_counter()
    tracker = None
    if probe:
        tracker = Tracker(model, x[:probe], every=every,
                          metrics=("nfa", "uc_nfa", "c_nfa", "alpha"))
    for epoch in range(1, epochs + 1):
        for batch in torch.randperm(len(x)).split(128):
            opt.zero_grad()
            ((model(x[batch]) - y[batch]) ** 2).sum(1).mean().backward()
            opt.step()
        if tracker is not None:
            tracker.step(epoch)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--probe", type=int, default=128)
    args = p.parse_args()
    x, y = digits(1024)
    train(x, y, 2, 0, 1)  # warm-up
    cases = [("no tracker", 0, 1), ("every epoch, 1024 samples", 1024, 1),
             ("every 10th epoch, 1024 samples", 1024, 10),
             (f"every epoch, {args.probe} samples", args.probe, 1),
             (f"every 10th epoch, {args.probe} samples", args.probe, 10)]
    base = None
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.epochs} epochs")
    for name, probe, every in cases:
        t = statistics.median(train(x, y, args.epochs, probe, every) for _ in range(args.repeat))
        base = base or t
        print(f"{name:34s} {t:7.3f} s  {100 * (t / base - 1):+7.1f} %")


if __name__ == "__main__":
    main()
