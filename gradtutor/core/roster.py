"""A class roster: who may sign in (`gradtutor serve --roster FILE`), read from a CSV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .classroom import MAX_PIN, MIN_PIN, ClassError, check_name, safe_text
from .safefile import read_bounded

MAX_ROSTER_BYTES = 2_000_000


@dataclass(frozen=True)
class RosterEntry:
    """One learner of a roster: their id, their name, and an instructor-issued PIN."""

    id: str
    name: str
    pin: str | None = None
    line: int = 0


def read_roster(path: Path) -> list[RosterEntry]:
    """A roster CSV (`id,name` and an optional `pin` column, a header row first); a
    ClassError naming the line of anything wrong."""
    import csv
    import io

    try:
        raw = read_bounded(path, MAX_ROSTER_BYTES)
    except OSError as exc:
        raise ClassError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ClassError(f"{path}: not UTF-8 (byte {exc.start + 1})") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ClassError(f"{path}: empty; the first row names the columns: id,name[,pin]")
    header = [h.strip().lower() for h in rows[0]]
    if "id" not in header or "name" not in header:
        raise ClassError(f"{path}:1: the first row must name the columns id and name (and pin)")
    at = {h: header.index(h) for h in ("id", "name", "pin") if h in header}
    entries: list[RosterEntry] = []
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {h: (row[i].strip() if i < len(row) else "") for h, i in at.items()}
        learner_id, name, pin = cells["id"], cells["name"], cells.get("pin") or None
        try:
            folded = check_name(name)
        except ClassError as exc:
            raise ClassError(f"{path}:{number}: {exc}") from exc
        if not learner_id or len(learner_id) > 80 or not safe_text(learner_id) == learner_id:
            raise ClassError(f"{path}:{number}: an id of 1 to 80 printable characters is needed")
        if learner_id in seen_ids or folded in seen_names:
            raise ClassError(f"{path}:{number}: {name!r} ({learner_id}) is on the roster twice")
        if pin is not None and not MIN_PIN <= len(pin) <= MAX_PIN:
            raise ClassError(f"{path}:{number}: a PIN has {MIN_PIN} to {MAX_PIN} characters")
        seen_ids.add(learner_id)
        seen_names.add(folded)
        entries.append(RosterEntry(learner_id, " ".join(name.split()), pin, number))
    return entries
