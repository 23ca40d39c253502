"""Soft-rule weights and the display threshold, read from ``seed_data/matching/weights.json``.

The file is ``{"threshold": 40, "weights": {"<rule>": <max points>, ...}}``:

* ``threshold`` — the score (0..100) below which the app does not show a pair as a
  recommendation (the matcher itself returns every pair that passes the hard rules);
* ``weights`` — for each soft rule, the most points it can give. The maxima are meant
  to sum to 100 so a score reads as a percentage; a rule left out gives 0 points.

Keys (see ``matching/README.md`` for what each rule measures):
``category`` same leaf category (full) or same branch (part);
``capability`` text and tag overlap between the need and the offering;
``industry`` same GB/T 4754 division (full) or section (part);
``park`` the offering names the need's park among those it serves;
``verified`` the provider is verified;
``price`` price position within the budget (finance: the amount sought is covered);
``freshness`` the offering was published recently;
``response`` the provider's record of answering docking requests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

SOFT_RULES = (
    "category",
    "capability",
    "industry",
    "park",
    "verified",
    "price",
    "freshness",
    "response",
)
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "category": 25.0,
        "capability": 35.0,
        "industry": 10.0,
        "park": 5.0,
        "verified": 5.0,
        "price": 10.0,
        "freshness": 5.0,
        "response": 5.0,
    }
)
DEFAULT_THRESHOLD = 40.0
WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "seed_data" / "matching" / "weights.json"


@dataclass(frozen=True)
class Weights:
    """The maxima of the soft rules and the display threshold (immutable)."""

    threshold: float = DEFAULT_THRESHOLD
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)

    def __post_init__(self) -> None:
        # Freeze the mapping even when a caller passed a dict it keeps mutating.
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))

    def __hash__(self) -> int:
        return hash((self.threshold, tuple(sorted(self.weights.items()))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Weights):
            return NotImplemented
        return self.threshold == other.threshold and dict(self.weights) == dict(other.weights)

    def of(self, rule: str) -> float:
        """The most points ``rule`` can give (0 for a rule the file leaves out)."""
        return float(self.weights.get(rule, 0.0))

    @property
    def total(self) -> float:
        """The sum of the maxima (100 in the shipped file)."""
        return float(sum(self.weights.values()))

    @classmethod
    def from_dict(cls, data: Any) -> Weights:
        """Validate and build weights from the file's JSON shape.

        Raises:
            ValueError: not an object; an unknown key; ``threshold`` or a weight that is
                not a finite number, is negative, or above 100; an unknown rule name
                in ``weights``.
        """
        if not isinstance(data, Mapping):
            raise ValueError("weights: expected a JSON object with threshold and weights")
        unknown = sorted(set(data) - {"threshold", "weights"})
        if unknown:
            raise ValueError(f"weights: unknown key {unknown[0]!r} (expected threshold, weights)")
        threshold = _number(data.get("threshold", DEFAULT_THRESHOLD), "threshold")
        if threshold > 100:
            raise ValueError(f"weights: threshold must be between 0 and 100, got {threshold:g}")
        raw = data.get("weights", DEFAULT_WEIGHTS)
        if not isinstance(raw, Mapping):
            raise ValueError("weights: 'weights' must be an object mapping rule names to points")
        weights: dict[str, float] = {}
        for rule, value in raw.items():
            if rule not in SOFT_RULES:
                raise ValueError(
                    f"weights: unknown rule {rule!r} (soft rules: {', '.join(SOFT_RULES)})"
                )
            weights[rule] = _number(value, f"weights.{rule}")
            if weights[rule] > 100:
                # The admin form allows 0..100 too; the full recompute keeps scores in
                # small integers (tenths), which this bound keeps exact.
                raise ValueError(f"weights: weights.{rule} must be at most 100, got {value:g}")
        return cls(threshold=threshold, weights=weights)

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON shape, rules in registry order."""
        return {
            "threshold": _plain(self.threshold),
            "weights": {r: _plain(self.weights[r]) for r in SOFT_RULES if r in self.weights},
        }


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"weights: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"weights: {name} must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"weights: {name} must not be negative, got {value:g}")
    return float(value)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def load_weights(path: Path | str = WEIGHTS_PATH) -> Weights:
    """Read and validate a weights file (default ``seed_data/matching/weights.json``).

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not JSON, or :meth:`Weights.from_dict` refuses it (the message
            names the file).
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    try:
        return Weights.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from exc
