"""Reference trajectories of torch.optim for the optimizer tests.

Minimises L(p) = 0.5 * sum(a * p**2) + sum(b * p) from a fixed start and records the
parameters after every step. Run with Debian's python3-torch:

    OMP_NUM_THREADS=1 python3 scripts/make_optimizer_vectors.py > src/training/torch-optimizer-vectors.json
"""
import json
import math

import torch

P0 = [0.5, -1.0, 2.0, 0.1]
A = [1.0, 2.0, 0.5, 3.0]
B = [0.1, -0.2, 0.3, 0.0]
STEPS = 6


def cosine_with_warmup(warmup, total, cycles=0.5):
    def f(step):
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress)))

    return f


CASES = [
    ("sgd", dict(lr=0.1), None),
    ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), None),
    ("sgd", dict(lr=0.05, momentum=0.8), None),
    ("adam", dict(lr=0.05, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1), None),
    ("adamw", dict(lr=0.05, weight_decay=0.1), None),
    ("adamw", dict(lr=0.1, weight_decay=0.01), dict(warmup=2, total=6)),
]


def run(kind, options, schedule):
    p = torch.tensor(P0, dtype=torch.float32, requires_grad=True)
    a = torch.tensor(A)
    b = torch.tensor(B)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    opt = cls([p], **options)
    sched = None
    if schedule:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine_with_warmup(schedule["warmup"], schedule["total"]))
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = 0.5 * (a * p * p).sum() + (b * p).sum()
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        trajectory.append([float(v) for v in p.detach()])
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    return {"kind": kind, "options": options, "schedule": schedule, "trajectory": trajectory}


print(json.dumps({"p0": P0, "a": A, "b": B, "torch": torch.__version__, "cases": [run(*c) for c in CASES]}, indent=1))
