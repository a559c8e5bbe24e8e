"""Train a bias-free ReLU MLP on the shipped digits with SGD and momentum,
as BMA24's MLP code does, measuring the NFA while it trains (one tracker
line before the loop, one call per epoch) and saving a checkpoint per
epoch for ``analyze --weights 'DIR/epoch_*.pt'``.

Run from the repository root:

    python crates/python/examples/track_digits.py --out target/track --epochs 5

Writes DIR/x.npy, DIR/y.npy (the samples and labels measured on),
DIR/epoch_000.pt (the initial weights) … DIR/epoch_NNN.pt, and the
tracker's tracker.json, tracker.csv and tracker.svg.
"""

import argparse
import gzip
from pathlib import Path

import numpy as np
import torch
from torch import nn

from feature_learning_checks.torch import Tracker


def digits(n):
    """The first n digits: standardised pixels, one-hot labels minus 1/10."""
    root = Path(__file__).resolve().parents[3]
    with gzip.open(root / "fixtures" / "data" / "digits.csv.gz", "rt") as f:
        raw = np.loadtxt(f, delimiter=",")[:n]
    x, labels = raw[:, :64], raw[:, 64].astype(int)
    sd = x.std(0)
    x = (x - x.mean(0)) / np.where(sd > 0, sd, 1.0)
    return (torch.tensor(x, dtype=torch.float32),
            torch.tensor(np.eye(10)[labels] - 0.1, dtype=torch.float32))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="target/track")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--depth", type=int, default=6, help="weight layers (hidden layers + 1)")
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--no-track", action="store_true", help="train without the tracker")
    p.add_argument("--metrics", default="nfa,uc_nfa,c_nfa,alpha,ntk")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(0)
    x, y = digits(args.samples)
    widths = [64] + [args.width] * (args.depth - 1)
    layers = []
    for d_in, d_out in zip(widths, widths[1:]):
        layers += [nn.Linear(d_in, d_out, bias=False), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(widths[-1], 10, bias=False))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    np.save(out / "x.npy", x.numpy())
    np.save(out / "y.npy", y.numpy())
    torch.save(model.state_dict(), out / "epoch_000.pt")

    tracker = None if args.no_track else Tracker(
        model, x, labels=y, metrics=args.metrics.split(","))
    for epoch in range(1, args.epochs + 1):
        for batch in torch.randperm(len(x)).split(128):
            opt.zero_grad()
            loss = ((model(x[batch]) - y[batch]) ** 2).sum(1).mean()
            loss.backward()
            opt.step()
        if tracker is not None:
            tracker.step(epoch)
        torch.save(model.state_dict(), out / f"epoch_{epoch:03d}.pt")

    if tracker is not None:
        tracker.to_json(out / "tracker.json")
        tracker.to_csv(out / "tracker.csv")
        tracker.plot(out / "tracker.svg")


if __name__ == "__main__":
    main()
