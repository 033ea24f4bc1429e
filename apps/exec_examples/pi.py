#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Monte Carlo estimate of pi: a stand-alone script run as a Shoal task.

    python3 pi.py --samples 100000 --seed 12345

shoal-exec starts it once per task with that task's parameters and seed
(configs/exec_pi.ini) and reads the values it prints on lines that start
with "shoal:". Any other output is kept in the result file's stdout tail.
"""
import argparse
import random

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--samples", type=int, required=True, help="points to draw")
parser.add_argument("--seed", type=int, required=True, help="seed of this task's stream")
args = parser.parse_args()

rng = random.Random(args.seed)  # each task its own stream, from Shoal's {seed}
hits = 0
for _ in range(args.samples):
    x, y = rng.random(), rng.random()
    hits += x * x + y * y < 1.0
print(f"drew {args.samples} points")
print(f"shoal: pi={4.0 * hits / args.samples!r} hits={hits}")
