"""Lesson math shown as Unicode."""

from __future__ import annotations

import pytest

from gradtutor.core.mathtext import convert_math, markdown_math, plain_math


@pytest.mark.parametrize(
    "latex,unicode",
    [
        (r"\frac{\partial \ell}{\partial w_1}", "∂ℓ/∂w₁"),
        (r"\ell = (y - z)^2", "ℓ = (y − z)²"),
        (r"\ell = \frac{1}{n}\sum_i (\mathrm{out}_i - y_i)^2", "ℓ = (1/n)∑ᵢ (outᵢ − yᵢ)²"),
        (r"\frac{2}{n}(\mathrm{out}_i - y_i)", "(2/n)(outᵢ − yᵢ)"),
        (r"2 \cdot (6 - 1) \cdot 3 = 30", "2 · (6 − 1) · 3 = 30"),
        (r"\frac{f(x + h) - f(x)}{h}", "(f(x + h) − f(x))/h"),
        (r"\hat{y}", "ŷ"),
        (r"x^{n+1}", "xⁿ⁺¹"),
        (r"w_{11}", "w₁₁"),
        (r"\sigma(t)(1 - \sigma(t))", "σ(t)(1 − σ(t))"),
        (r"\sqrt{x + 1}", "√(x + 1)"),
        (r"\mathbb{R}^{n}", "ℝⁿ"),
        # no Unicode form: a readable plain form instead of a loss
        (r"e^{-x^2}", "e^(−x²)"),
        (r"\nabla_w \ell", "∇_w ℓ"),
        # third edition: an operator keeps its space, a product below a bar its brackets
        (r"\frac{d}{du}\log u = \frac{1}{u}", "(d/du)log u = 1/u"),
        (r"\frac{1}{5x} \cdot 5", "1/(5x) · 5"),
        (r"\frac{1}{2\sqrt{u}}", "1/(2√u)"),
        (r"\sin x + x \cos x", "sin x + x cos x"),
    ],
)
def test_math_to_unicode(latex, unicode):
    assert convert_math(latex) == unicode


def test_markdown_keeps_code_and_escapes_math():
    text = "Inline $a_1 * b$ and `$not math$`.\n\n```python\nx = '$a$'\n```\n\n$$ x^2 $$\n"
    out = markdown_math(text)
    assert "a₁ \\* b" in out  # escaped: never read as emphasis
    assert "`$not math$`" in out and "x = '$a$'" in out
    assert "x²" in out


def test_plain_math_for_feedback():
    assert plain_math("the derivative of $-x^2$ is $-2x$") == "the derivative of −x² is −2x"
