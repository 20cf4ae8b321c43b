"""The stepper's compute: per step at n = 1000; the manual backward at MNIST size against
torch's own `loss.backward()` in the same run; peak memory of the stepper at MNIST size."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

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


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run() -> dict[str, float]:
    """Print and return the stepper figures."""
    import torch

    from gradtutor.core.network import Params, forward, make_params, manual_backward, mse
    from gradtutor.core.stepper import Stepper

    # per step at n = 1000 (784 inputs, 50 hidden): each of the 8 nodes, median over passes
    s = Stepper(1000, 784, 50, 0)
    s.run_pass()  # warm-up: torch's first calls set up its thread pool and kernels
    per_step = []
    for _ in range(5):
        for _ in range(8):
            start = time.perf_counter()
            s.forward()
            per_step.append(time.perf_counter() - start)
    step_ms = statistics.median(per_step) * 1000
    print(
        f"stepper at n = 1000, d_in = 784, hidden = 50: median {step_ms:.2f} ms per step "
        f"(max {max(per_step) * 1000:.1f} ms)"
    )

    # manual backward vs loss.backward() at MNIST size, float32, same work (x.grad included)
    p = make_params(50000, 784, 50, 0)
    p = Params(*(t.float() for t in (p.x, p.y, p.w1, p.b1, p.w2, p.b2)))
    acts = forward(p)
    manual_ms = _median_ms(lambda: manual_backward(p, acts), 5)

    leaves = {k: getattr(p, k).clone().requires_grad_(True) for k in ("x", "w1", "b1", "w2", "b2")}

    def torch_backward() -> None:
        for v in leaves.values():
            v.grad = None
        out = torch.relu(leaves["x"] @ leaves["w1"] + leaves["b1"]) @ leaves["w2"] + leaves["b2"]
        loss = mse(out, p.y)
        start = time.perf_counter()
        loss.backward()
        torch_backward.elapsed.append(time.perf_counter() - start)

    torch_backward.elapsed = []  # type: ignore[attr-defined]
    for _ in range(5):
        torch_backward()
    torch_ms = statistics.median(torch_backward.elapsed) * 1000  # type: ignore[attr-defined]
    ratio = manual_ms / torch_ms
    print(
        f"full manual backward at n = 50000 (float32): {manual_ms:.1f} ms; torch loss.backward(): "
        f"{torch_ms:.1f} ms; ratio {ratio:.2f} (goal <= 1.3: {'ok' if ratio <= 1.3 else 'MISSED'})"
    )

    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, check=True
    )
    mem = json.loads(out.stdout)
    extra = mem["peak_mb"] - mem["base_mb"]
    print(
        f"stepper at MNIST size (pass, accumulate, update): peak RSS {mem['peak_mb']:.0f} MB, "
        f"{extra:.0f} MB above torch imported (goal < 1.5 GB: {'ok' if mem['peak_mb'] < 1536 else 'MISSED'})"
    )
    return {"step_ms": step_ms, "backward_ratio": ratio, "peak_mb": mem["peak_mb"]}
