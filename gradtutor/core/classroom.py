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
not reset it; during a wait every PIN, the right one too, is refused. A right PIN resets
the count. The account remembers the addresses the wrong PINs came from, for the
instructor (`gradtutor report`, the serve log).

`gradtutor serve --reset-pin NAME` replaces the PIN by a random one-time PIN that the
instructor hands over: it lets the learner in once, for ONE_TIME_PIN_DAYS, to choose a
PIN of their own (subject to the same slow-down). An account file that cannot be read is
refused at sign-in, kept as it is, and repaired by a reset; it is never registered anew.
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
from typing import TYPE_CHECKING, Any

from .safefile import read_json

if TYPE_CHECKING:
    from .roster import RosterEntry
from .sizes import MAX_NAME_CHARS, MAX_PIN_CHARS

MIN_PIN = 4
MAX_PIN = MAX_PIN_CHARS
MAX_NAME = MAX_NAME_CHARS
FREE_FAILURES = 3
MAX_WAIT = 300.0
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
"""scrypt's cost: about 50 ms and 16 MB per sign-in on a laptop."""


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
    succeeded; otherwise `message` says why not. `choose_pin` is set when a one-time
    PIN was given: the learner must choose their own before going on. `locked_out`
    names the addresses that failed when this refusal started a wait."""

    ok: bool
    message: str
    home: Path | None = None
    name: str = ""
    new: bool = False
    wait: float = 0.0
    choose_pin: bool = False
    unreadable: bool = False
    locked_out: tuple[str, ...] = ()


ONE_TIME_PIN_DAYS = 7
"""How long a one-time PIN printed by `--reset-pin` stays valid, unless used."""
ONE_TIME_PIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a PIN read aloud or copied from paper."""
MAX_FAILED_ADDRESSES = 16
"""Addresses remembered per account for the instructor (the most recent)."""
LOG_PER_ADDRESS = 30
"""Lines one address may add to `activity.jsonl` per minute before signing in."""
LOG_TOTAL = 300
"""Lines all visitors who are not signed in may add per minute."""
UNREADABLE = "This account cannot be read; ask your instructor."
NOT_ON_ROSTER = (
    "This name is not on the class roster. Type it as your instructor has it, or ask them."
)
ROSTER_FILE = "roster.json"


def lockout_wait(failures: int) -> float:
    """Seconds to wait after `failures` wrong PINs in a row: none for the first
    FREE_FAILURES - 1, then 2 s doubling, at most MAX_WAIT (never an overflow)."""
    if failures < FREE_FAILURES:
        return 0.0
    exponent = min(failures - FREE_FAILURES + 1, 30)  # 2**30 s is already past MAX_WAIT
    return min(MAX_WAIT, 2.0**exponent)


def safe_text(text: str, limit: int = MAX_NAME) -> str:
    """Text from a file or a visitor made safe to print, log or put in a cell: control,
    format (bidi overrides) and other invisible characters replaced by `\\u{...}`
    escapes, runs of white space made one space, at most `limit` characters."""
    out = []
    for ch in " ".join(str(text).split()):
        if unicodedata.category(ch).startswith("C"):
            out.append(f"\\u{{{ord(ch):04x}}}")
        else:
            out.append(ch)
    cleaned = "".join(out)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def short_hash(text: str) -> str:
    """12 hex digits of SHA-256: enough to tell two refused names apart, not to read one."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _is_hex(value: Any, digits: int) -> bool:
    return (
        isinstance(value, str)
        and len(value) == digits
        and all(c in "0123456789abcdef" for c in value)
    )


def _number(value: Any) -> float | None:
    if type(value) in (int, float) and value == value and abs(value) < 1e15:
        return float(value)
    return None


class _Account:
    """An account file as read: `state` is "new" (no file), "ok" (a PIN hash),
    "reset" (waiting for a one-time PIN, or given one) or "unreadable"."""

    def __init__(self, data: Any, exists: bool) -> None:
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self.state = "new" if not exists else _account_state(data)

    @property
    def failures(self) -> int:
        value = self.data.get("failures", 0)
        return value if type(value) is int and 0 <= value < 10**9 else 0

    @property
    def locked_until(self) -> float:
        return _number(self.data.get("locked_until", 0)) or 0.0


def _account_state(data: Any) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return "unreadable"
    if not isinstance(data.get("folded"), str):
        return "unreadable"
    for key in ("failures",):
        if key in data and type(data[key]) is not int:
            return "unreadable"
    if "locked_until" in data and _number(data["locked_until"]) is None:
        return "unreadable"
    if "hash" in data or "salt" in data:
        if _is_hex(data.get("hash"), 64) and _is_hex(data.get("salt"), 32):
            return "ok"
        return "unreadable"
    if "otp_hash" in data or "otp_salt" in data or "otp_expires" in data:
        if (
            _is_hex(data.get("otp_hash"), 64)
            and _is_hex(data.get("otp_salt"), 32)
            and _number(data.get("otp_expires")) is not None
        ):
            return "reset"
        return "unreadable"
    return "reset"  # the first edition's reset: no hash, so a one-time PIN is needed


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

    @staticmethod
    def _read_account(home: Path) -> _Account:
        path = home / "account.json"
        try:
            return _Account(read_json(path, 1_000_000), True)
        except FileNotFoundError:
            return _Account(None, False)
        except (OSError, ValueError):
            return _Account(None, True)

    def roster(self) -> dict[str, dict[str, str]] | None:
        """The class roster by folded name (`id`, `name`), or None: open registration."""
        path = self.directory / ROSTER_FILE
        if not path.exists():
            return None
        try:
            data = read_json(path)
        except (OSError, ValueError):
            return {}  # a roster that cannot be read admits nobody: never everybody
        learners = data.get("learners") if isinstance(data, dict) else None
        if not isinstance(learners, dict):
            return {}
        return {
            k: v
            for k, v in learners.items()
            if isinstance(v, dict)
            and isinstance(v.get("id"), str)
            and isinstance(v.get("name"), str)
        }

    def import_roster(self, entries: list[RosterEntry], now: float | None = None) -> int:
        """Make `entries` the class roster: only they may sign in from now on. A learner
        with an instructor-issued PIN gets an account with it (kept as a salted hash)
        unless they have one already; every account on the roster carries its id.
        Returns how many accounts were created."""
        now = time.time() if now is None else now
        created = 0
        learners = {}
        for entry in entries:
            folded = check_name(entry.name)
            learners[folded] = {"id": entry.id, "name": entry.name}
            home = self.learners / directory_name(folded)
            with self._locked(home):
                account = self._read_account(home)
                if account.state == "new" and entry.pin is not None:
                    salt = secrets.token_bytes(16)
                    data = {
                        "name": entry.name,
                        "folded": folded,
                        "salt": salt.hex(),
                        "hash": hash_pin(entry.pin, salt),
                        "scrypt": SCRYPT,
                        "failures": 0,
                        "locked_until": 0,
                        "created": now,
                        "id": entry.id,
                    }
                    _write_json(home / "account.json", data)
                    created += 1
                elif account.state not in ("new", "unreadable"):
                    account.data["id"] = entry.id
                    _write_json(home / "account.json", account.data)
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_json(self.directory / ROSTER_FILE, {"format": 1, "learners": learners})
        return created

    def sign_in(self, name: str, pin: str, now: float | None = None, address: str = "") -> SignIn:
        """Register a new name with its PIN, or check the PIN of a known one.

        Never raises for what is in the account file: an account that cannot be read
        is refused with UNREADABLE and left as it is, and an error while checking a PIN
        is a refusal that still counts as a wrong PIN.
        """
        now = time.time() if now is None else now
        try:
            folded = check_name(name)
        except ClassError as exc:
            return SignIn(False, str(exc))
        if not MIN_PIN <= len(pin) <= MAX_PIN:
            return SignIn(False, f"A PIN has {MIN_PIN} to {MAX_PIN} characters.")
        roster = self.roster()
        if roster is not None and folded not in roster:
            return SignIn(False, NOT_ON_ROSTER)
        home = self.learners / directory_name(folded)
        with self._locked(home):
            account = self._read_account(home)
            if account.state == "unreadable":
                return SignIn(False, UNREADABLE, name=name, unreadable=True)
            data = account.data
            if data.get("folded", folded) != folded:  # a hash collision: never share
                return SignIn(False, "This name cannot be used here; add a letter to it.")
            wait = account.locked_until - now
            if wait > 0:
                return SignIn(
                    False, f"Too many wrong PINs: wait {wait:.0f} s and try again.", wait=wait
                )
            if account.state == "new":
                salt = secrets.token_bytes(16)
                data = {
                    "name": " ".join(name.split()),
                    "folded": folded,
                    "salt": salt.hex(),
                    "hash": hash_pin(pin, salt),
                    "scrypt": SCRYPT,
                    "failures": 0,
                    "locked_until": 0,
                    "created": now,
                }
                if roster is not None:
                    data["id"] = roster[folded]["id"]
                _write_json(home / "account.json", data)
                return SignIn(True, "Welcome.", home, data["name"], new=True)
            try:
                right, expired = self._pin_matches(data, pin, now)
            except Exception:  # a tampered field: refused, and counted below
                right, expired = False, False
            if right and account.state == "reset":
                return SignIn(True, "Now choose your own PIN.", home, data["name"], choose_pin=True)
            if right:
                data["failures"], data["locked_until"] = 0, 0
                data.pop("failed_from", None)
                _write_json(home / "account.json", data)
                return SignIn(True, "Welcome back.", home, data["name"])
            return self._refuse(home, data, account, now, address, expired)

    @staticmethod
    def _pin_matches(data: dict[str, Any], pin: str, now: float) -> tuple[bool, bool]:
        """(right, expired): the PIN against the account's hash, or its one-time PIN."""
        if "hash" in data:
            salt = bytes.fromhex(data["salt"])
            return hmac.compare_digest(hash_pin(pin, salt), data["hash"]), False
        if "otp_hash" not in data:
            return False, False
        salt = bytes.fromhex(data["otp_salt"])
        right = hmac.compare_digest(hash_pin(pin.upper(), salt), data["otp_hash"])
        expired = now > float(data["otp_expires"])
        return right and not expired, right and expired

    def _refuse(
        self,
        home: Path,
        data: dict[str, Any],
        account: _Account,
        now: float,
        address: str,
        expired: bool,
    ) -> SignIn:
        failures = account.failures + 1
        data["failures"] = failures
        failed = data.get("failed_from")
        failed = dict(failed) if isinstance(failed, dict) else {}
        key = safe_text(address or "unknown", 64)
        count = failed.pop(key, 0)
        failed[key] = (count if type(count) is int else 0) + 1
        data["failed_from"] = dict(list(failed.items())[-MAX_FAILED_ADDRESSES:])
        delay = lockout_wait(failures)
        data["locked_until"] = now + delay if delay else 0
        _write_json(home / "account.json", data)
        name = data["name"]
        if expired:
            message = f"The one-time PIN of {name} has expired: ask your instructor for a new one."
        elif account.state == "reset" and "otp_hash" not in data:
            message = (
                f"The PIN of {name} was reset: ask your instructor for a one-time PIN "
                "(gradtutor serve --reset-pin)."
            )
        else:
            message = f"That PIN is not right for {name}."
        if delay:
            message += f" Wait {delay:.0f} s before the next try."
        locked = tuple(data["failed_from"]) if failures == FREE_FAILURES else ()
        return SignIn(False, message, name=name, wait=delay, locked_out=locked)

    def choose_pin(self, name: str, one_time: str, pin: str, now: float | None = None) -> SignIn:
        """After a one-time PIN: check it again, and make `pin` the learner's own."""
        now = time.time() if now is None else now
        if not MIN_PIN <= len(pin) <= MAX_PIN:
            return SignIn(False, f"A PIN has {MIN_PIN} to {MAX_PIN} characters.")
        if pin.upper() == one_time.upper():
            return SignIn(False, "Choose a PIN of your own, not the one-time PIN.")
        try:
            home = self.home_of(name)
        except ClassError as exc:
            return SignIn(False, str(exc))
        with self._locked(home):
            account = self._read_account(home)
            if account.state != "reset":
                return SignIn(False, UNREADABLE, unreadable=account.state == "unreadable")
            data = account.data
            try:
                right, _ = self._pin_matches(data, one_time, now)
            except Exception:
                right = False
            if not right:
                return SignIn(False, "The one-time PIN is no longer valid; sign in again.")
            salt = secrets.token_bytes(16)
            for key in ("otp_hash", "otp_salt", "otp_expires"):
                data.pop(key, None)
            data.update({"salt": salt.hex(), "hash": hash_pin(pin, salt), "scrypt": SCRYPT})
            data["failures"], data["locked_until"] = 0, 0
            data.pop("failed_from", None)
            _write_json(home / "account.json", data)
            return SignIn(True, "Your new PIN is set.", home, data["name"])

    def reset_pin(self, name: str, now: float | None = None) -> str | None:
        """A new one-time PIN for `name` (None when no such learner): their old PIN
        stops working, the one-time PIN lets them in once to choose their own, for
        ONE_TIME_PIN_DAYS. An unreadable account is rewritten around it; progress is
        kept either way."""
        now = time.time() if now is None else now
        folded = check_name(name)
        home = self.learners / directory_name(folded)
        if not home.is_dir():
            return None
        with self._locked(home):
            account = self._read_account(home)
            if account.state == "new" and not (home / "progress.json").exists():
                return None
            data = account.data if account.state in ("ok", "reset") else {}
            data.setdefault("name", " ".join(name.split()))
            data.setdefault("created", now)
            data["folded"] = folded
            for key in ("hash", "salt", "failed_from"):
                data.pop(key, None)
            one_time = "".join(secrets.choice(ONE_TIME_PIN_ALPHABET) for _ in range(10))
            salt = secrets.token_bytes(16)
            data.update(
                {
                    "otp_salt": salt.hex(),
                    "otp_hash": hash_pin(one_time, salt),
                    "otp_expires": now + ONE_TIME_PIN_DAYS * 86400,
                    "scrypt": SCRYPT,
                    "failures": 0,
                    "locked_until": 0,
                }
            )
            _write_json(home / "account.json", data)
        self.log("pin-reset", data["name"])
        return one_time

    def log(self, event: str, name: str = "", address: str = "", signed_in: bool = True) -> None:
        """One line of the class's activity log (`activity.jsonl`): a session opened,
        a sign-in, a new learner, a wrong PIN, a reset. Never a PIN, and never a refused
        name in clear (it may be a PIN typed into the wrong field: see `log_refused`).
        Lines of visitors who are not signed in (`signed_in=False`) are rate-limited
        per address and in total. Best effort."""
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "event": safe_text(event, 40),
            "name": safe_text(name),
        }
        if address:
            entry["address"] = safe_text(address, 64)
        self._append(entry, None if signed_in else safe_text(address or "unknown", 64))

    def log_refused(self, name: str, address: str = "") -> None:
        """A refused sign-in: the name's length and a short hash, never the name."""
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "event": "refused",
            "name_length": len(name),
            "name_hash": short_hash(name),
        }
        if address:
            entry["address"] = safe_text(address, 64)
        self._append(entry, safe_text(address or "unknown", 64))

    def _append(self, entry: dict[str, Any], limited_by: str | None) -> None:
        line = json.dumps(entry, ensure_ascii=False)
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            if limited_by is not None and not self._within_log_budget(limited_by):
                return
            with open(self.directory / "activity.jsonl", "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def _within_log_budget(self, address: str) -> bool:
        """Count one line against this minute's budgets (shared by every session
        through a locked file); False when either is spent."""
        from .progress.store import locked

        minute = int(time.time() // 60)
        path = self.directory / "activity.budget.json"
        with locked(self.directory / "activity.lock"):
            try:
                budget = read_json(path, 100_000)
            except (OSError, ValueError):
                budget = None
            if not isinstance(budget, dict) or budget.get("minute") != minute:
                budget = {"minute": minute, "total": 0, "by_address": {}}
            by_address = budget.get("by_address")
            if not isinstance(by_address, dict) or type(budget.get("total")) is not int:
                budget = {"minute": minute, "total": 0, "by_address": {}}
                by_address = budget["by_address"]
            mine = by_address.get(address, 0)
            if budget["total"] >= LOG_TOTAL or (type(mine) is int and mine >= LOG_PER_ADDRESS):
                return False
            by_address[address] = (mine if type(mine) is int else 0) + 1
            budget["total"] += 1
            _write_json(path, budget)
        return True

    def locked_out(self, now: float | None = None) -> list[tuple[str, int, list[str]]]:
        """Accounts slowed down by wrong PINs: (name, wrong PINs in a row, the
        addresses they came from), for the instructor."""
        out = []
        if self.learners.is_dir():
            for home in sorted(self.learners.iterdir()):
                account = self._read_account(home)
                if account.state in ("ok", "reset") and account.failures >= FREE_FAILURES:
                    failed = account.data.get("failed_from")
                    addresses = [str(a) for a in failed] if isinstance(failed, dict) else []
                    out.append((safe_text(account.data["name"]), account.failures, addresses))
        return out

    def unreadable_accounts(self) -> list[Path]:
        """Account files that cannot be read (refused at sign-in until a reset)."""
        out = []
        if self.learners.is_dir():
            for home in sorted(self.learners.iterdir()):
                if home.is_dir() and self._read_account(home).state == "unreadable":
                    out.append(home / "account.json")
        return out

    def members(self) -> list[tuple[str, Path]]:
        """Every registered learner: (name, progress directory), by name."""
        out = []
        if self.learners.is_dir():
            for home in sorted(self.learners.iterdir()):
                account = _read_json(home / "account.json")
                if account and isinstance(account.get("name"), str):
                    out.append((account["name"], home))
        return sorted(out, key=lambda m: fold_name(m[0]))


def tell_instructor(message: str) -> None:
    """A line for the serve log: the terminal `gradtutor serve` runs in, reached through
    the descriptor the session process was given (GRADTUTOR_SERVE_LOG_FD); nothing
    outside a served session. Best effort."""
    import os

    fd = os.environ.get("GRADTUTOR_SERVE_LOG_FD", "")
    if fd.isdigit():
        stamp = time.strftime("%H:%M:%S")
        with contextlib.suppress(OSError):
            os.write(int(fd), f"[{stamp}] gradtutor serve: {safe_text(message, 400)}\n".encode())


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from .progress.store import write_atomically

    payload = json.dumps(data, indent=1, sort_keys=True).encode("utf-8")
    write_atomically(path, payload, ".account-")


# ----------------------------------------------------------------------------- exports
