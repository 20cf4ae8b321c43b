"""LaTeX-ish math in lesson prose, shown as Unicode in the terminal.

`$\\frac{\\partial \\ell}{\\partial w_1}$` reads `∂ℓ/∂w₁`. A small converter of our own
handles structure (fractions, roots, sub- and superscripts, accents); pylatexenc names
the symbols we have no table entry for. What has no Unicode form falls back to a
readable plain form (`x^(n+1)`) instead of being lost. Code spans and fenced code are
left alone.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_SUP = dict(
    zip(
        "0123456789+-=()nixyabcdefghjklmoprstuvwzT",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱˣʸᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷᶻᵀ",
        strict=True,
    )
)
_SUP.update({"−": "⁻", "*": "*", "′": "′", "'": "′"})
_SUB = dict(
    zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_SUB.update({"−": "₋", ",": ","})

SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "partial": "∂",
    "ell": "ℓ",
    "nabla": "∇",
    "cdot": "·",
    "times": "×",
    "div": "÷",
    "pm": "±",
    "approx": "≈",
    "neq": "≠",
    "ne": "≠",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "mapsto": "↦",
    "infty": "∞",
    "sum": "∑",
    "prod": "∏",
    "in": "∈",
    "odot": "⊙",
    "circ": "∘",
    "dots": "…",
    "ldots": "…",
    "cdots": "⋯",
    "top": "ᵀ",
    "prime": "′",
    "lim": "lim",
    "log": "log",
    "ln": "ln",
    "exp": "exp",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "tanh": "tanh",
    "max": "max",
    "min": "min",
    "mid": "|",
    "lvert": "|",
    "rvert": "|",
    "|": "‖",
    "{": "{",
    "}": "}",
    "%": "%",
    "$": "$",
    "_": "_",
    "&": "&",
    "#": "#",
    "quad": "\u2003",  # em spaces: Markdown collapses ordinary ones
    "qquad": "\u2003\u2003",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    " ": " ",
    "sim": "∼",
    "propto": "∝",
    "forall": "∀",
    "exists": "∃",
    "equiv": "≡",
    "ll": "≪",
    "gg": "≫",
}
_BINARY = {
    "cdot",
    "times",
    "div",
    "pm",
    "approx",
    "neq",
    "ne",
    "leq",
    "le",
    "geq",
    "ge",
    "to",
    "rightarrow",
    "leftarrow",
    "Rightarrow",
    "mapsto",
    "in",
    "odot",
    "circ",
    "sim",
    "propto",
    "equiv",
    "ll",
    "gg",
}
_ACCENTS = {
    "hat": "\u0302",
    "bar": "\u0304",
    "tilde": "\u0303",
    "dot": "\u0307",
    "vec": "\u20d7",
    "overline": "\u0304",
}
_FONTS = {
    "mathbf",
    "mathrm",
    "text",
    "mathit",
    "operatorname",
    "boldsymbol",
    "mathsf",
    "textbf",
    "emph",
}
_DOUBLE_STRUCK = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼"}


@functools.lru_cache(maxsize=256)
def _pylatexenc_symbol(name: str) -> str | None:
    try:
        from pylatexenc.latex2text import LatexNodes2Text

        text = LatexNodes2Text().latex_to_text("\\" + name).strip()
    except Exception:  # pylatexenc raises its own errors on odd input
        return None
    return text if text and text != name and "\\" not in text else None


class _Reader:
    """Recursive descent over a LaTeX math string."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0

    def done(self) -> bool:
        return self.i >= len(self.src)

    def group_or_token(self) -> str:
        """The next argument: a {group}, a \\command, or one character."""
        while not self.done() and self.src[self.i] == " ":
            self.i += 1
        if self.done():
            return ""
        c = self.src[self.i]
        if c == "{":
            return self.group()
        if c == "\\":
            return self.command()
        self.i += 1
        return c

    def group(self) -> str:
        assert self.src[self.i] == "{"
        self.i += 1
        depth, start = 1, self.i
        while not self.done():
            if self.src[self.i] == "\\":
                self.i += 2
                continue
            if self.src[self.i] == "{":
                depth += 1
            elif self.src[self.i] == "}":
                depth -= 1
                if depth == 0:
                    inner = self.src[start : self.i]
                    self.i += 1
                    return convert_math(inner)
            self.i += 1
        return convert_math(self.src[start:])

    def command(self) -> str:
        self.i += 1  # the backslash
        if self.done():
            return ""
        if not self.src[self.i].isalpha():
            c = self.src[self.i]
            self.i += 1
            return SYMBOLS.get(c, c)
        start = self.i
        while not self.done() and self.src[self.i].isalpha():
            self.i += 1
        name = self.src[start : self.i]
        # LaTeX swallows the spaces after a command; keep one only before an operator or
        # relation (`\ell = y`), so that `\partial \ell` still reads ∂ℓ.
        end = self.i
        while end < len(self.src) and self.src[end] == " ":
            end += 1
        if end == len(self.src) or self.src[end].isalnum() or self.src[end] in "\\{(":
            self.i = end
        if name in _BINARY:
            return f" {SYMBOLS[name]} "
        if name == "frac" or name == "dfrac" or name == "tfrac":
            num, den = self.group_or_token(), self.group_or_token()
            fraction = f"{_wrap(num)}/{_wrap(den)}"
            following = self.src[self.i : self.i + 1]
            # a product follows (\frac{2}{n}(x - y)): keep the fraction together
            return (
                f"({fraction})"
                if following.isalnum() or following in "(\\" and following
                else fraction
            )
        if name == "sqrt":
            return "√" + _wrap(self.group_or_token())
        if name in _ACCENTS:
            arg = self.group_or_token()
            return arg + _ACCENTS[name] if len(arg) == 1 else f"{arg}{_ACCENTS[name]}"
        if name in _FONTS:
            return self.group_or_token()
        if name == "mathbb":
            arg = self.group_or_token()
            return "".join(_DOUBLE_STRUCK.get(c, c) for c in arg)
        if name in ("left", "right", "big", "Big", "bigg", "Bigg", "displaystyle"):
            return ""
        if name in _OPERATOR_NAMES and end < len(self.src) and self.src[end].isalnum():
            return SYMBOLS[name] + " "  # \log u reads `log u`, not `logu`
        if name in SYMBOLS:
            return SYMBOLS[name]
        return _pylatexenc_symbol(name) or name


_OPERATOR_NAMES = {"log", "ln", "exp", "sin", "cos", "tan", "tanh", "max", "min", "lim"}


def _wrap(s: str) -> str:
    s = s.strip()
    # a coefficient times something (`5x`) is a product: 1/(5x), never 1/5x
    product = re.search(r"\d(?:[^\W\d_]|√)", s)
    simple = re.fullmatch(r"[\w∂ℓ.√′]+|\(.*\)", s) and not re.search(r"[+\-−·× /]", s)
    if len(s) <= 1 or simple and not product:
        return s
    return f"({s})"


def _script(s: str, table: dict[str, str], mark: str) -> str:
    s = s.strip()
    if s and all(c in table for c in s):
        return "".join(table[c] for c in s)
    return f"{mark}{s}" if len(s) == 1 else f"{mark}({s})"


def convert_math(src: str) -> str:
    """One LaTeX math string (without the dollars) as Unicode text."""
    r = _Reader(src)
    out: list[str] = []
    while not r.done():
        c = src[r.i]
        if c == "\\":
            out.append(r.command())
        elif c == "{":
            out.append(r.group())
        elif c in "^_":
            r.i += 1
            arg = r.group_or_token()
            out.append(_script(arg, _SUP if c == "^" else _SUB, c))
        elif c == "}":
            r.i += 1
        elif c == "-":
            out.append("−")
            r.i += 1
        elif c == "~":
            out.append(" ")
            r.i += 1
        else:
            out.append(c)
            r.i += 1
    text = re.sub(r" {2,}", " ", "".join(out)).strip()
    text = _FUNCTION_AFTER_FACTOR.sub(r" \1", text)  # 6x sin(x²), not 6xsin(x²)
    return unicodedata.normalize("NFC", text)  # y + combining circumflex -> ŷ


_FUNCTION_AFTER_FACTOR = re.compile(
    r"(?<=[0-9A-Za-z)\u00b2\u00b3\u00b9\u2070-\u2079])"
    r"(sinh|cosh|tanh|sin|cos|tan|sec|csc|cot|log|ln|exp|max|min)(?=\()"
)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]+?)(?<!\\)\$")
_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})")


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _convert_prose_chunk(text: str) -> str:
    def display(m: re.Match[str]) -> str:
        return "\n\n" + _escape(convert_math(m.group(1))) + "\n\n"

    def inline(m: re.Match[str]) -> str:
        return _escape(convert_math(m.group(1)))

    text = _DISPLAY.sub(display, text)
    return _INLINE.sub(inline, text)


def markdown_math(markdown: str) -> str:
    """Markdown with its `$...$` and `$$...$$` math turned into Unicode.

    Fenced code and code spans are kept verbatim; converted math is escaped so that
    Markdown does not read `*` or `_` in it as emphasis.
    """
    out: list[str] = []
    chunk: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            out.append(_prose("".join(chunk)))
            chunk = []
            fence = m.group(2)[0] * len(m.group(2))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
        else:
            chunk.append(line)
    out.append(_prose("".join(chunk)))
    return "".join(out)


def _prose(text: str) -> str:
    parts = []
    last = 0
    for m in _CODE_SPAN.finditer(text):
        parts.append(_convert_prose_chunk(text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(_convert_prose_chunk(text[last:]))
    return "".join(parts)


def plain_math(text: str) -> str:
    """Math converted but no Markdown escaping: for plain Text (feedback, option labels)."""
    text = _DISPLAY.sub(lambda m: convert_math(m.group(1)), text)
    return _INLINE.sub(lambda m: convert_math(m.group(1)), text)
