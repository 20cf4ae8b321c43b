"""A class: learners by name, their PINs, their progress, and progress handed in as a file.

A class directory holds one directory per learner, named safely after the folded name
(trimmed, NFKC, case-folded: "Ada" and " ada" are one learner), with the learner's
account (their name as first typed, the PIN as a salted scrypt hash, the count of wrong
PINs) and their progress, written by the same atomic, locked ProgressStore as in a
terminal:

    CLASS/learners/ada-3f2a9c41d07b/account.json
    CLASS/learners/ada-3f2a9c41d07b/progress.json

The PIN is never written in clear. Repeated wrong PINs are slowed down: after
FREE_FAILURES wrong ones in a row, each further attempt must wait twice as long as the
last (from 2 s, at most MAX_WAIT), counted on disk so that a new browser session does
not reset it. A right PIN resets the count.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_PIN = 4
MAX_PIN = 64
MAX_NAME = 80
FREE_FAILURES = 3
MAX_WAIT = 300.0
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
"""scrypt's cost: about 50 ms and 16 MB per sign-in on a laptop."""
EXPORT_FORMAT = "gradtutor-progress-export"
EXPORT_VERSION = 1


class ClassError(ValueError):
    """A sign-in, name or export that cannot be accepted, in a sentence."""


def fold_name(name: str) -> str:
    """A learner's name as it is compared: trimmed, NFKC, case-folded, inner runs of
    spaces made one."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split())


def check_name(name: str) -> str:
    """The folded name, or ClassError saying why the name cannot be used."""
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ClassError("A name cannot hold control characters.")
    folded = fold_name(name)
    if not folded:
        raise ClassError("Type your name first.")
    if len(folded) > MAX_NAME:
        raise ClassError(f"A name has at most {MAX_NAME} characters.")
    return folded


def directory_name(folded: str) -> str:
    """A directory name that is safe on every file system for a folded name: its letters
    and digits (any script) joined by `-`, then 12 hex digits of its SHA-256, so that
    two names never share a directory and no name can reach outside the class."""
    slug = re.sub(r"[^\w]+", "-", folded, flags=re.UNICODE).strip("-_")[:40] or "learner"
    slug = unicodedata.normalize("NFKC", slug)
    digest = hashlib.sha256(folded.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}"


def hash_pin(pin: str, salt: bytes) -> str:
    """The hex scrypt hash of a PIN with its salt."""
    return hashlib.scrypt(
        pin.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 2**20, **SCRYPT
    ).hex()


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: `home` is the learner's progress directory when it
    succeeded; otherwise `message` says why not."""

    ok: bool
    message: str
    home: Path | None = None
    name: str = ""
    new: bool = False
    wait: float = 0.0


class ClassRoom:
    """The learners of one class directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.learners = self.directory / "learners"

    def home_of(self, name: str) -> Path:
        """The progress directory of a learner (raises ClassError for a bad name)."""
        return self.learners / directory_name(check_name(name))

    @contextlib.contextmanager
    def _locked(self, home: Path) -> Iterator[None]:
        from .progress.store import locked

        home.mkdir(parents=True, exist_ok=True)
        with locked(home / "account.lock"):
            yield

    def sign_in(self, name: str, pin: str, now: float | None = None) -> SignIn:
        """Register a new name with its PIN, or check the PIN of a known one."""
        now = time.time() if now is None else now
        try:
            folded = check_name(name)
        except ClassError as exc:
            return SignIn(False, str(exc))
        if not MIN_PIN <= len(pin) <= MAX_PIN:
            return SignIn(False, f"A PIN has {MIN_PIN} to {MAX_PIN} characters.")
        home = self.learners / directory_name(folded)
        with self._locked(home):
            account = _read_json(home / "account.json") or {}
            if account.get("folded", folded) != folded:  # a hash collision: never share
                return SignIn(False, "This name cannot be used here; add a letter to it.")
            wait = float(account.get("locked_until", 0)) - now
            if wait > 0:
                return SignIn(
                    False, f"Too many wrong PINs: wait {wait:.0f} s and try again.", wait=wait
                )
            if not account.get("hash"):  # new, or reset by the instructor
                salt = secrets.token_bytes(16)
                account.update(
                    {
                        "name": account.get("name") or " ".join(name.split()),
                        "folded": folded,
                        "salt": salt.hex(),
                        "hash": hash_pin(pin, salt),
                        "scrypt": SCRYPT,
                        "failures": 0,
                        "locked_until": 0,
                    }
                )
                new = "created" not in account
                account.setdefault("created", now)
                _write_json(home / "account.json", account)
                return SignIn(True, "Welcome.", home, account["name"], new=new)
            salt = bytes.fromhex(account["salt"])
            if hmac.compare_digest(hash_pin(pin, salt), account["hash"]):
                account["failures"], account["locked_until"] = 0, 0
                _write_json(home / "account.json", account)
                return SignIn(True, "Welcome back.", home, account["name"])
            failures = int(account.get("failures", 0)) + 1
            account["failures"] = failures
            delay = 0.0
            if failures >= FREE_FAILURES:
                delay = min(MAX_WAIT, 2.0 ** (failures - FREE_FAILURES + 1))
                account["locked_until"] = now + delay
            _write_json(home / "account.json", account)
            later = f" Wait {delay:.0f} s before the next try." if delay else ""
            return SignIn(False, f"That PIN is not right for {account['name']}.{later}", wait=delay)

    def reset_pin(self, name: str) -> bool:
        """Let the next sign-in of `name` choose a new PIN (progress is kept). False when
        no such learner is registered."""
        home = self.home_of(name)
        with self._locked(home):
            account = _read_json(home / "account.json")
            if not account:
                return False
            for key in ("hash", "salt"):
                account.pop(key, None)
            account["failures"], account["locked_until"] = 0, 0
            _write_json(home / "account.json", account)
        return True

    def log(self, event: str, name: str = "") -> None:
        """One line of the class's activity log (`activity.jsonl`): a session opened,
        a sign-in, a new learner, a wrong PIN. Never a PIN; best effort."""
        line = json.dumps(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "event": event,
                "name": name,
            },
            ensure_ascii=False,
        )
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.directory / "activity.jsonl", "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def members(self) -> list[tuple[str, Path]]:
        """Every registered learner: (name, progress directory), by name."""
        out = []
        if self.learners.is_dir():
            for home in sorted(self.learners.iterdir()):
                account = _read_json(home / "account.json")
                if account and isinstance(account.get("name"), str):
                    out.append((account["name"], home))
        return sorted(out, key=lambda m: fold_name(m[0]))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from .progress.store import write_atomically

    payload = json.dumps(data, indent=1, sort_keys=True).encode("utf-8")
    write_atomically(path, payload, ".account-")


# ----------------------------------------------------------------------------- exports


def export_document(
    progress: dict[str, Any], name: str, packs: list[dict[str, str]]
) -> dict[str, Any]:
    """The file a learner hands in: format and version, their name, the time, the packs
    (id, title, version) and the progress document itself."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "name": " ".join(name.split()),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "packs": packs,
        "progress": progress,
    }


def read_export(path: Path) -> tuple[str, dict[str, Any]]:
    """(learner name, progress document) of an export file; ClassError saying what is
    wrong with a file that is not one."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ClassError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > 20_000_000:
        raise ClassError(f"{path}: too large for a progress export")
    try:
        data = json.loads(raw)
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

    document = upgraded(progress)
    if document is None:
        raise ClassError(
            f"{path}: the progress in the export has a layout this gradtutor does not read"
        )
    return name, document
