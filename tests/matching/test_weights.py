"""The weights file: shipped values, validation and round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching import RULES, Weights, load_weights
from matching.weights import SOFT_RULES, WEIGHTS_PATH


def test_shipped_weights_cover_every_soft_rule_and_sum_to_100() -> None:
    w = load_weights()
    assert set(w.weights) == set(SOFT_RULES) == {r.name for r in RULES.values() if not r.hard}
    assert w.total == 100
    assert w.threshold == 40


def test_round_trip_keeps_the_file_shape() -> None:
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert Weights.from_dict(data).to_dict() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object"),
        ({"threshold": 40, "colour": 1}, "unknown key 'colour'"),
        ({"weights": {"charisma": 5}}, "unknown rule 'charisma'"),
        ({"weights": {"category": -1}}, "weights.category must not be negative"),
        ({"weights": {"capability": 150}}, "weights.capability must be at most 100, got 150"),
        ({"weights": {"category": "25"}}, "weights.category must be a number"),
        ({"weights": {"category": True}}, "weights.category must be a number"),
        ({"weights": {"category": float("nan")}}, "weights.category must be a finite number"),
        ({"threshold": "high"}, "threshold must be a number"),
        ({"threshold": 120}, "threshold must be between 0 and 100"),
        ({"weights": [1, 2]}, "'weights' must be an object"),
    ],
)
def test_invalid_weights_are_refused_with_a_specific_message(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Weights.from_dict(data)


def test_weights_are_frozen() -> None:
    w = load_weights()
    with pytest.raises(AttributeError):
        w.threshold = 10  # type: ignore[misc]
    with pytest.raises(TypeError):
        w.weights["category"] = 1  # type: ignore[index]


def test_a_bad_file_names_itself(tmp_path: Path) -> None:
    p = tmp_path / "weights.json"
    p.write_text('{"weights": {"category": -3}}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"weights\.json: weights: weights\.category"):
        load_weights(p)
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_weights(p)


def test_equal_weights_compare_and_hash_equal() -> None:
    a = Weights.from_dict({"threshold": 30, "weights": {"category": 50, "capability": 50}})
    b = Weights(30, {"capability": 50.0, "category": 50.0})
    assert a == b and hash(a) == hash(b)
    assert a.of("park") == 0
