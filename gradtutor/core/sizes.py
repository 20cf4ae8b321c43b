"""The sizes everything is held to: files, networks, training runs.

One place for every limit, so that the loader, `validate`, the command line and the
README say the same thing. No torch here: the loader and the command line use it on the
start path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# -- files of a pack --------------------------------------------------------------
MAX_LESSON_BYTES = 1_000_000
"""A lesson file (the built-in lessons are under 20 kB)."""
MAX_MANIFEST_BYTES = 64_000
"""pack.toml."""
MAX_DATA_BYTES = 5_000_000
"""A data file (CSV) that a training block reads."""
MAX_LESSONS = 2_000
"""Lesson files in one pack."""

# -- what a person types (every input field has its limit) -------------------------
MAX_NAME_CHARS = 80
"""A learner's name at sign-in."""
MAX_PIN_CHARS = 64
"""A PIN."""
MAX_MATH_CHARS = 500
"""A math-language answer (a derivative, a local derivative, an author's function)."""
MAX_VALUE_CHARS = 2_000
"""A value answer: a number or a nested list."""
MAX_TENSOR_CHARS = 1_000
MAX_PROGRAM_CHARS = 4_000
"""The longest program (the body of a function) a learner may submit."""
"""A tensor-language answer."""

# -- the class server (`gradtutor serve`) -------------------------------------------
MAX_TERMINAL_WIDTH = 500
MAX_TERMINAL_HEIGHT = 200
"""A browser's terminal size is clamped to these (a huge one would take gigabytes)."""
MAX_SESSIONS = 200
"""Sessions served at once (each is a process), by default."""
MAX_SESSIONS_PER_ADDRESS = 10
"""Sessions one address may hold at once, by default."""
SIGN_IN_IDLE_SECONDS = 600.0
"""A session still on the sign-in screen after this long is ended."""
MAX_WHERE_CONDITIONS = 16
"""`where` conditions of one exercise."""
MAX_PARAM_SOURCE_CHARS = 4_000
"""Characters of all the `where` conditions and `{{ }}` expressions of one exercise."""

# -- exercises ----------------------------------------------------------------------
MAX_TENSOR_ELEMENTS = 5_000_000
"""The largest tensor a tensor exercise's shapes may make (checked interactively)."""
MAX_GIVEN_ELEMENTS = 10_000
"""Numbers in one `given` value of a value exercise."""
MAX_PARAMS = 16
"""Parameters of one exercise."""
MAX_PARAM_ELEMENTS = 16
"""Numbers in one parameter's `shape` (a prompt shows them all)."""
MAX_PARAM_MAGNITUDE = 1e6
"""Bounds of a draw: beyond this, numbers stop being readable in a prompt."""
MAX_DRAW_TRIES = 10_000
"""Draws of one variant before a `where` that never holds is given up on."""
MIN_WHERE_RATE = 0.01
"""The share of draws a pack's `where` must accept (validate: "almost never holds")."""
MAX_PRACTICE_DEPTH = 5
"""Functions composed in one generated practice exercise."""
VALIDATE_VARIANTS = 50
"""Variants of each parameterized exercise that `gradtutor validate` checks."""

# -- the lesson network (stepper blocks, `gradtutor stepper`) -----------------------
MAX_N = 50_000
MAX_D_IN = 4_096
MAX_HIDDEN = 1_024
MAX_INPUT_ELEMENTS = 50_000 * 784
"""n * d_in: the source's MNIST size is the ceiling."""
MAX_ACTIVATION_ELEMENTS = 50_000 * 50
"""n * hidden."""
MAX_WEIGHT_ELEMENTS = 1_000_000
"""d_in * hidden."""
MAX_SEED = 2**63 - 1
MAX_LR = 10.0
LEAVES = ("w1", "b1", "w2", "b2")
"""The network's parameters: the leaves whose `.grad` the stepper shows."""

# -- training blocks -------------------------------------------------------------
MAX_EPOCHS = 1_000
MAX_UPDATES = 5_000
"""Minibatch updates of one ADALINE run (epochs times batches per epoch)."""
MAX_STEPS = 10_000
"""Steps of one linear-regression run."""
MAX_POINTS = 100_000
"""Data points of the linear-regression run."""
MAX_POINT_STEPS = 10_000_000
"""Points times steps: what one linear run computes."""
MAX_MAGNITUDE = 1e6
"""start, stop, slope, noise, w0, b0."""


def seed_problem(seed: int) -> str | None:
    """Why a seed cannot be used, or None."""
    if not 0 <= seed <= MAX_SEED:
        return f"the seed must be a whole number from 0 to {MAX_SEED:,}, not {seed}"
    return None


def lr_problem(lr: float) -> str | None:
    """Why a learning rate cannot be used, or None."""
    if not math.isfinite(lr) or not 0 < lr <= MAX_LR:
        return f"the learning rate must be above 0 and at most {MAX_LR:g}, not {lr:g}"
    return None


@dataclass(frozen=True)
class NetworkSize:
    """The lesson network's sizes, its seed and its learning rate.

    The one default network (4 × 3 × 5, seed 0, lr 0.01) of the stepper, stepper
    blocks and `gradtutor stepper`.
    """

    # `metadata`: the TOML type of the key a stepper block sets (see packs.model.keys_of)
    n: int = field(default=4, metadata={"toml": "int", "key": ""})
    d_in: int = field(default=3, metadata={"toml": "int", "key": ""})
    hidden: int = field(default=5, metadata={"toml": "int", "key": ""})
    seed: int = field(default=0, metadata={"toml": "int", "key": ""})
    lr: float = field(default=0.01, metadata={"toml": "number", "key": ""})

    def problems(self) -> dict[str, str]:
        """Field name -> why its value cannot be used (empty when the network is fine)."""
        out: dict[str, str] = {}
        for name, value, ceiling in (
            ("n", self.n, MAX_N),
            ("d_in", self.d_in, MAX_D_IN),
            ("hidden", self.hidden, MAX_HIDDEN),
        ):
            if value < 1:
                out[name] = f"`{name}` must be at least 1, not {value:,}"
            elif value > ceiling:
                out[name] = f"`{name}` is {value:,}; at most {ceiling:,}"
        if not out:
            for names, elements, ceiling in (
                (("n", "d_in"), self.n * self.d_in, MAX_INPUT_ELEMENTS),
                (("n", "hidden"), self.n * self.hidden, MAX_ACTIVATION_ELEMENTS),
                (("d_in", "hidden"), self.d_in * self.hidden, MAX_WEIGHT_ELEMENTS),
            ):
                if elements > ceiling:
                    a, b = names
                    out[b] = (
                        f"`{a}` × `{b}` is {elements:,}; at most {ceiling:,} "
                        "(the source's MNIST size, 50000 × 784 × 50, is the ceiling)"
                    )
        seed = seed_problem(self.seed)
        if seed:
            out["seed"] = seed
        lr = lr_problem(self.lr)
        if lr:
            out["lr"] = lr
        return out
