"""What the home page shows."""

from __future__ import annotations

from typing import Any


def home_context() -> dict[str, Any]:
    return {}
