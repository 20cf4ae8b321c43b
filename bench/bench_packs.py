"""Loading and structurally validating a generated pack of 1,000 lessons."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.timing import repeat
from gradtutor.core.validate import validate_packs

LESSON = """+++
id = "lesson-{i}"
title = "Lesson {i}"
summary = "Generated lesson {i}"
+++

Some prose about $\\frac{{\\partial \\ell}}{{\\partial w}}$ with a list:

- one
- two

```exercise
id = "d"
kind = "derivative"
prompt = "Differentiate $x^{{{i}}}$."
function = "x^3 + {i}*x"
wrt = "x"
hints = ["power rule"]

[[feedback]]
match = "3*x^2"
message = "and the linear term?"
```

```exercise
id = "c"
kind = "choice"
prompt = "Pick one"

[[option]]
text = "right"
correct = true

[[option]]
text = "wrong"
why = "no"
```
"""


def generate(root: Path, lessons: int = 1000) -> Path:
    """Write a pack of `lessons` lessons under root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.toml").write_text('id = "big"\ntitle = "Big"\nversion = "1"\n')
    for i in range(lessons):
        (root / f"{i:04d}.md").write_text(LESSON.format(i=i))
    return root


def run(repeats: int = 9) -> dict[str, float]:
    """Median seconds to load and validate (structure only) 1,000 lessons."""
    with tempfile.TemporaryDirectory() as tmp:
        pack = generate(Path(tmp) / "big")

        def load() -> None:
            report = validate_packs([pack], deep=False)
            assert report.ok and len(report.packs[0].lessons) == 1000

        # The warm-up reads the files into the OS cache and imports what validation uses.
        spread = repeat(load, repeats=repeats, warmup=2)
    print(
        f"pack load+validate (structure), 1,000 lessons: {spread.ms(0)} over {spread.count} "
        f"runs ({spread.median / 1000 * 1e6:.0f} µs per lesson)"
    )
    return {"pack_1000_lessons_s": spread.median}
