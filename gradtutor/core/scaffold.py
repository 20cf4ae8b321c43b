"""`gradtutor new DIR`: a pack whose example lesson shows every exercise kind and validates."""

from __future__ import annotations

import re
from pathlib import Path

PACK_TOML = """\
# The pack manifest. See docs/authoring.md for every key.
format = 1
id = "{slug}"
title = "{title}"
version = "0.1.0"
description = "A lesson pack made with `gradtutor new`; edit me."
authors = ["Your Name"]
# The lessons, in order. Without this key: every *.md file here, sorted by name.
lessons = ["01-first-lesson.md"]
"""

LESSON = """\
+++
id = "first-lesson"
title = "A first lesson"
summary = "Every exercise kind, once"
requires = []
+++

Prose is Markdown. Inline math such as $\\frac{\\partial \\ell}{\\partial w}$ and
display math

$$ \\ell = (y - w x)^2 $$

are shown in Unicode in the terminal. Exercises sit where the learner meets them.

## A derivative

```exercise
id = "square"
kind = "derivative"
prompt = "Differentiate $f(x) = x^2 + 3x$ with respect to $x$."
function = "x^2 + 3*x"
wrt = "x"
answer = "2*x + 3"
hints = ["Differentiate term by term.", "The derivative of $x^2$ is $2x$."]
solution = "$2x + 3$: the power rule on $x^2$, and $3x$ has slope 3."

[[feedback]]
match = "2*x"
message = "You dropped the derivative of $3x$, which is 3."
```

## A value computed by autograd

```exercise
id = "grad-of-w"
kind = "value"
prompt = 'With $x = 3$ and $w = 2$ the loss is $\\ell = (w x - 1)^2$. What is $\\partial \\ell / \\partial w$, the value of `w.grad` after `backward()`?'
given = { x = 3.0, w = 2.0 }
requires_grad = ["w"]
compute = "(w * x - 1) ** 2"
ask = "w.grad"
hints = ['Chain rule: $2(wx - 1) \\cdot x$.']
solution = '$2 \\cdot (6 - 1) \\cdot 3 = 30$.'

[[feedback]]
match = "10"
message = "That is $2(wx - 1)$; multiply by the inner derivative $x = 3$."
```

## A gradient formula over the network

```exercise
id = "b2-grad"
kind = "tensor"
prompt = "Given the upstream gradient `out_g` of shape (n, 1), write `b2.grad`."
target = "b2.grad"
answer = "out_g.sum(0)"
shapes = { n = 6, d_in = 3, hidden = 4 }
hints = ["`b2` is added to every row of the batch: sum over the batch."]

[[feedback]]
match = "out_g"
message = "Right values, but `b2` has one entry: sum over the batch dimension."
```

## A conceptual question

```exercise
id = "why-negative"
kind = "choice"
prompt = "`w.grad` is negative. What does a small increase of `w` do to the loss?"

[[option]]
text = "It lowers the loss"
correct = true
why = "Yes: a negative derivative means the loss falls as `w` grows."

[[option]]
text = "It raises the loss"
why = "No: that would be a positive derivative."
```

## The network stepper

```stepper
n = 4
d_in = 3
hidden = 5
seed = 0
```
"""


def slug_of(name: str) -> str:
    """A pack id from a directory name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "my-pack"


def scaffold_pack(directory: Path) -> list[Path]:
    """Write the example pack into `directory` (which must be empty or absent)."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} exists and is not empty")
    directory.mkdir(parents=True, exist_ok=True)
    slug = slug_of(directory.resolve().name)
    title = slug.replace("-", " ").capitalize()
    written = [directory / "pack.toml", directory / "01-first-lesson.md"]
    written[0].write_text(PACK_TOML.format(slug=slug, title=title), encoding="utf-8")
    written[1].write_text(LESSON, encoding="utf-8")
    return written
