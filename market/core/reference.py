"""Read-only reference data shipped in seed_data/reference: provinces, GB/T 4754-2017
industries and the category taxonomy. Loaded once per process and cached."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"
REFERENCE_DIR = SEED_DIR / "reference"
NATIONWIDE = "全国"


@dataclass(frozen=True)
class Entry:
    """One coded term with its Chinese and English names."""

    code: str
    name: str
    en: str
    parent: str | None = None
    kind: str | None = None
    children: tuple[str, ...] = field(default=())

    def label(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.name


def _read(name: str) -> list[dict[str, Any]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8") as fh:
        data: list[dict[str, Any]] = json.load(fh)
    return data


@cache
def provinces() -> dict[str, Entry]:
    """Province-level divisions keyed by full official name (e.g. 江苏省), in code order."""
    return {
        p["name"]: Entry(code=p["code"], name=p["name"], en=p["en"])
        for p in _read("provinces.json")
    }


def _tree(rows: list[dict[str, Any]], child_key: str) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for top in rows:
        kids = top.get(child_key, [])
        out[top["code"]] = Entry(
            code=top["code"],
            name=top["name"],
            en=top["en"],
            kind=top.get("kind"),
            children=tuple(k["code"] for k in kids),
        )
        for kid in kids:
            out[kid["code"]] = Entry(
                code=kid["code"],
                name=kid["name"],
                en=kid["en"],
                parent=top["code"],
                kind=top.get("kind"),
            )
    return out


@cache
def industries() -> dict[str, Entry]:
    """GB/T 4754-2017 sections (``C``) and divisions (``C36``) keyed by code."""
    return _tree(_read("industries.json"), "divisions")


@cache
def categories() -> dict[str, Entry]:
    """The category taxonomy keyed by code; top levels carry the offering kind."""
    return _tree(_read("categories.json"), "children")


def top_categories() -> list[Entry]:
    return [e for e in categories().values() if e.parent is None]


def category_kind(code: str) -> str | None:
    """The listing kind a category demands (solution/finance/training), None if unknown."""
    entry = categories().get(code)
    return entry.kind if entry else None


def is_region(value: str) -> bool:
    return value == NATIONWIDE or value in provinces()
