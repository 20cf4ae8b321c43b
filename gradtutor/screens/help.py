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
| `PageDown` | read on: a page down, stopping at the next unsolved exercise |
| `PageUp`, `↑` `↓` | scroll |
| `Tab` / `shift+Tab` | next / previous exercise or action |
| `Enter` | submit the answer; on a stepper or training block, open it |
| `F2` | the next hint |
| `F3` | give up and show the solution (recorded as revealed, not solved) |
| `F4` | once an exercise is solved or its solution shown: fresh numbers (or a fresh order of options) to practise on; on a practice block, the next exercise |
| `F5` | on a derivative exercise: break it down (below) |
| `1`…`9`, `↑` `↓` `Enter` | pick an option of a choice question (the numbers you see) |
| `ctrl+n` | the next lesson |

Exercises with drawn numbers show you your own; F4 gives fresh ones (the exercise
stays solved; the header counts the variants you solved). A practice block generates
chain-rule exercises: each is answered once, two right in a row make them deeper, a
wrong one shallower, and a streak of right answers at the deepest level completes it.
At 80 columns the footer has no room for F1 when F4 is shown; F1 works all the same.

An answer field has focus only while it is on screen, so no key ever answers an
exercise you cannot see. After Enter, the verdict shows beside your answer; once you
change the answer, the old verdict is dimmed.

## Break it down (F5)

The function of a derivative exercise as a computation graph, output on top: each node
one operation, and a value used twice drawn as two lanes joining into it (`├─╯`). First
you give each node's local derivative (Enter checks; F2 names the rule; F3 shows it),
then each node's gradient from the output down (type it, or Enter to watch it; where
two paths meet the gradient is their sum, the `+=`), then the derivative is assembled
from your local derivatives: Enter carries it to the exercise's answer field, Escape
goes back without it. If F3 showed you any local derivative on the way, the exercise
counts as shown, not solved.

## The network stepper

| key | does |
|---|---|
| `→` or `n` | the next node: forward through lin1, relu, lin2, mse, then backward |
| `←` or `b` | back a step (nothing is recomputed) |
| `p` | predict the next gradient before it is revealed (a number, a list or a formula); Enter on an empty field takes the step without predicting, Escape leaves the field |
| `a` | again: exactly one more backward pass without zeroing (watch `.grad` grow) |
| `u` | one SGD update under `no_grad` |
| `z` | `zero_grad`: every `.grad` back to None |
| `t` | train ten steps (zero, forward, backward, update) |
| `r` | reset with the next seed (the loss curve starts afresh) |

Keys the footer has no room for are in the command palette (ctrl+p) too. While the
prediction field has focus, letters are typed there: no key binding fires.

## Training runs

| key | does |
|---|---|
| `r` | run again |

An answer that cannot be understood, or an answer of the wrong kind (an equation's
left side is fine; `+ C`, an antiderivative, the function itself are not), costs no
attempt. After three wrong attempts the solution is shown; you can still answer the
exercise to solve it.

## Answers

**Derivatives** are expressions, written as on paper: `3t² cos t`, `e^(2t)/t`,
`t exp(-t)`, `4t³`, `sin t`, `sin²(t)`, `|t|`, `dy/dt = 4t³`.

- `^` and `**` are powers; `-x^2` means `-(x^2)`; `2^3^2` is `2^9`
- side by side is a product: `2x`, `2(x+1)`, `w x`, `pi x`; `xy` is one name
- a function of a single name or number needs no parentheses: `sin x`, `sin x^2`
  (that is `sin(x^2)`); anything longer does: `sin(x y)`
- functions: `exp log ln sqrt sin cos tan sec csc cot sinh cosh tanh sigmoid relu abs
  sign Heaviside step max min`; `max(x, 0)` takes two
- constants `pi` and `e`; pasted `−` `·` `×` `²` `³` `σ` `π` are understood
- decimals count when they agree to the tolerance: `0.333333333333333` for `1/3`

**Values** are numbers or lists: `8`, `-32, -40`, `[-32, -40]`, `[[1, 2], [3, 4]]`,
and what Python prints: `[-16 -24]`, `tensor(10.)`, `tensor([-32., -40.])`; arithmetic
is allowed: `2*(20 - 24)`.

**Tensors** are expressions over `x w1 b1 l1 l2 w2 b2 out y` and the upstream
gradients `out.g l2.g l1.g` (or `out_g`…): `(x > 0).float()`, `x.sum(0)`, `w1.T`. The preview
shows the shape before you submit.

**Choices** are picked by the number shown: each learner sees the options in an order
of their own.
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
