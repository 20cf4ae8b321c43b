"""The stepper's compute: one step at n = 1000; the manual backward at MNIST size against
torch's own `loss.backward()`, warmed and interleaved in the same run; peak memory of the
stepper at MNIST size (in a fresh process, so the figure is the stepper's alone)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.timing import compare, repeat, verdict

MEMORY_SCRIPT = """
import json, resource, sys
import torch
torch.set_num_threads(2)
from gradtutor.core.stepper import Stepper
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
s = Stepper(50000, 784, 50, 0)
s.run_pass()
s.accumulate()
s.update(0.01)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_mb": base / 1024, "peak_mb": peak / 1024}))
"""


def run() -> dict[str, float]:
    """Print and return the stepper figures."""
    import torch

    from gradtutor.core.network import Params, forward, make_params, manual_backward, mse
    from gradtutor.core.stepper import Stepper

    # One step (any of the 8 nodes) at n = 1000, 784 inputs, 50 hidden; warm-up is a whole
    # pass, since torch's first calls set up its thread pool and kernels.
    s = Stepper(1000, 784, 50, 0)

    def one_step() -> None:
        s.forward()

    step = repeat(one_step, repeats=80, warmup=16)
    print(
        f"stepper, one step at n = 1000, d_in = 784, hidden = 50: {step.ms(2)} over {step.count} steps"
    )

    # Manual backward against loss.backward() at MNIST size, float32, the same work (x.grad
    # included); only the backward itself is timed on both sides.
    p = make_params(50000, 784, 50, 0)
    p = Params(*(t.float() for t in (p.x, p.y, p.w1, p.b1, p.w2, p.b2)))
    acts = forward(p)
    leaves = {k: getattr(p, k).clone().requires_grad_(True) for k in ("x", "w1", "b1", "w2", "b2")}

    def manual() -> None:
        manual_backward(p, acts)

    def autograd() -> float:
        for v in leaves.values():
            v.grad = None
        out = torch.relu(leaves["x"] @ leaves["w1"] + leaves["b1"]) @ leaves["w2"] + leaves["b2"]
        loss = mse(out, p.y)
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    result = compare(manual, autograd, rounds=31, warmup=3)
    ratio = result.ratio.median
    print(
        f"full manual backward at n = 50000 (float32): {result.ours.ms()}; torch "
        f"loss.backward(): {result.baseline.ms()}; ratio {result.ratio.ratio()} over "
        f"{result.ratio.count} interleaved rounds (goal <= 1.3: {verdict(ratio <= 1.3)})"
    )

    peaks = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, check=True
        )
        peaks.append(json.loads(out.stdout))
    peak = max(m["peak_mb"] for m in peaks)
    extra = max(m["peak_mb"] - m["base_mb"] for m in peaks)
    print(
        f"stepper at MNIST size (pass, accumulate, update): peak RSS {peak:.0f} MB (worst of "
        f"{len(peaks)} processes), {extra:.0f} MB above torch imported "
        f"(goal < 1.5 GB: {verdict(peak < 1536)})"
    )
    return {"step_ms": step.median * 1000, "backward_ratio": ratio, "peak_mb": peak}
