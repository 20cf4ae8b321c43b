"""A learner's hand-in: `gradtutor progress --export`, and reading one back for the report.

An export is a JSON document: a format name and version, the learner's name (and roster
id), the time, the packs with their versions, the progress itself, and a SHA-256 checksum
of the progress (version 2), which catches a careless edit, not a determined forger.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .classroom import ClassError, fold_name, safe_text
from .safefile import load_json, read_bounded

EXPORT_FORMAT = "gradtutor-progress-export"
EXPORT_VERSION = 2
"""2: an `id` (from the roster, optional) and a `checksum` of the progress."""


def progress_checksum(progress: dict[str, Any]) -> str:
    """`sha256:` and the SHA-256 of the progress as canonical JSON (sorted keys, no
    spaces): it catches a careless edit of an export, not a determined forger (anyone
    can compute it again; it is not keyed)."""
    canonical = json.dumps(progress, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def export_document(
    progress: dict[str, Any],
    name: str,
    packs: list[dict[str, str | None]],
    learner_id: str | None = None,
) -> dict[str, Any]:
    """The file a learner hands in: format and version, their name (and roster id), the
    time, the packs (id, title, version), the progress document and its checksum."""
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "name": " ".join(name.split()),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "packs": packs,
        "progress": progress,
        "checksum": progress_checksum(progress),
    }
    if learner_id is not None:
        document["id"] = learner_id
    return document


@dataclass(frozen=True)
class Export:
    """What an export file says beside the progress."""

    name: str
    progress: dict[str, Any]
    learner_id: str | None = None
    checksum: str | None = None
    """None: an export of format version 1, made before exports had one."""
    checksum_ok: bool = True
    exported: str = ""
    """When it was exported (`YYYY-MM-DDTHH:MM:SSZ`), as the file says."""


def read_export(path: Path) -> tuple[str, dict[str, Any]]:
    """(learner name, progress document) of an export file; ClassError saying what is
    wrong with a file that is not one."""
    export = read_export_file(path)
    return export.name, export.progress


def read_export_file(path: Path) -> Export:
    """An export file, with its id and whether its checksum matches its progress (checked
    before any migration); ClassError saying what is wrong with a file that is not one."""
    try:
        raw = read_bounded(path)
    except OSError as exc:
        raise ClassError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        data = load_json(raw)
    except ValueError as exc:
        raise ClassError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ClassError(
            f'{path}: not a gradtutor progress export (no "format": "{EXPORT_FORMAT}")'
        )
    version = data.get("format_version")
    if type(version) is not int or version > EXPORT_VERSION:
        raise ClassError(
            f"{path}: export format version {version!r} is not one this gradtutor reads"
        )
    name, progress = data.get("name"), data.get("progress")
    if not isinstance(name, str) or not fold_name(name):
        raise ClassError(f"{path}: the export has no learner name")
    if not isinstance(progress, dict):
        raise ClassError(f"{path}: the export has no progress document")
    from .progress import upgraded

    checksum = data.get("checksum")
    checksum = checksum if isinstance(checksum, str) else None
    ok = checksum is None or checksum == progress_checksum(progress)
    learner_id = data.get("id")
    document = upgraded(progress)
    if document is None:
        raise ClassError(
            f"{path}: the progress in the export has a layout this gradtutor does not read"
        )
    return Export(
        name,
        document,
        safe_text(learner_id) if isinstance(learner_id, str) else None,
        checksum,
        ok,
        safe_text(data["exported"], 40) if isinstance(data.get("exported"), str) else "",
    )
