"""Bundled resources: the demo clinic (``demo/``) and UI assets."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def demo_path() -> Path:
    """The folder of the demo clinic's CSV files (Riverside Behavioral Health IOP)."""
    return _HERE / "demo"
