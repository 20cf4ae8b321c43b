"""Where things live: the built-in pack, the learner's home, user packs."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def builtin_pack_dir() -> Path:
    """The built-in pack: inside the installed package, or `lessons/` of a checkout."""
    installed = PACKAGE_DIR / "lessons"
    if (installed / "pack.toml").is_file():
        return installed
    return PACKAGE_DIR.parent / "lessons"


def home_dir() -> Path:
    """Everything gradtutor writes: `$GRADTUTOR_HOME`, else the user data directory."""
    env = os.environ.get("GRADTUTOR_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs  # only when needed: keeps `import gradtutor.core` light

    return platformdirs.user_data_path("gradtutor", appauthor=False)


def user_pack_dirs(home: Path | None = None) -> list[Path]:
    """Every pack directory under `$GRADTUTOR_HOME/packs/`, sorted by name."""
    root = (home or home_dir()) / "packs"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "pack.toml").is_file())


def default_pack_dirs() -> list[Path]:
    """What `gradtutor` opens without `--pack`: the built-in pack and the user's packs."""
    return [builtin_pack_dir(), *user_pack_dirs()]
