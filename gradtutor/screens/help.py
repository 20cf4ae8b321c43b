"""The help screen: every key and the answer syntax."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# gradtutor: keys and answers

## Everywhere

| key | does |
|---|---|
| `F1` or `?` | this help |
| `ctrl+p` | the command palette: jump to any open lesson, open the stepper, change the theme |
| `Escape` | back |
| `ctrl+q` | quit (progress is already saved) |

## The lesson browser

| key | does |
|---|---|
| `↑` `↓` | move between lessons |
| `Enter` | open the lesson (locked lessons say what they wait for) |

## A lesson

| key | does |
|---|---|
| `Tab` / `shift+Tab` | next / previous exercise or action |
| `Enter` | submit the answer; on a stepper or training block, open it |
| `F2` | the next hint |
| `F3` | give up and show the solution (recorded as revealed, not solved) |
| `1`…`9`, `↑` `↓` `Enter` | pick an option of a choice question |
| `ctrl+n` | the next lesson |
| `PageUp` `PageDown` | scroll |

## The network stepper

| key | does |
|---|---|
| `→` or `n` | the next node: forward through lin1, relu, lin2, mse, then backward |
| `←` or `b` | back a step (nothing is recomputed) |
| `p` | predict the next gradient before it is revealed (a number, a list or a formula) |
| `z` | `zero_grad`: every `.grad` back to None |
| `a` | accumulate: another forward and backward pass without zeroing |
| `u` | one SGD update under `no_grad` |
| `t` | train ten steps (zero, forward, backward, update) |
| `r` | reset with the next seed |

## Training runs

| key | does |
|---|---|
| `r` | run again |

An answer that cannot be understood costs no attempt. After three wrong attempts the
solution is shown; you can still answer the exercise to solve it.

## Answers

**Derivatives** are expressions: `2x exp(-x^2)`, `3*x**2`, `σ(x)(1 − σ(x))`.

- `^` and `**` are powers; `-x^2` means `-(x^2)`; `2^3^2` is `2^9`
- `2x`, `2(x+1)`, `(x+1)(x-1)` multiply; `xy` is one name (write `x*y`)
- functions: `exp log ln sqrt sin cos tan tanh sigmoid relu abs Heaviside step max min`,
  with parentheses: `sin(x)`, `max(x, 0)`
- constants `pi` and `e`; pasted `−` `·` `×` `²` `³` `σ` are understood

**Values** are numbers or lists: `8`, `-32, -40`, `[-32, -40]`, `[[1, 2], [3, 4]]`;
arithmetic is allowed: `2*(20 - 24)`.

**Tensors** are expressions over `x w1 b1 l1 l2 w2 b2 out y` and the upstream
gradients `out.g l2.g l1.g` (or `out_g`…): `l2.T @ out.g`, `(l1 > 0).float() * l2.g`,
`out.g.sum(0)`. The preview shows the shape before you submit.

**Choices** are picked by number.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and answer syntax."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP, open_links=False)
