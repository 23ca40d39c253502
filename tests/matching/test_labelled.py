"""Relevance on a labelled set over the demo data: NDCG@5 and no hard-rule violation.

tests/matching/labelled_needs.json holds 20+ needs written against seed_data/demo, with
graded relevant offerings and traps (see its "about"). Every need is ranked against
every demo offering; the mean NDCG@5 must reach 0.92 and no pair in any top 10 may
break a hard rule (checked by tests/matching/hard_check.py, not by the engine).
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from market.listing_search.indexing import file_concepts
from matching import Context, NeedRecord, load_weights, rank_for_need
from matching.text import TextModel
from tests.matching.demo_records import Demo, load_demo, need_record
from tests.matching.hard_check import violations

LABELLED = Path(__file__).with_name("labelled_needs.json")
MIN_NDCG = 0.92


def _ndcg(ranked: list[str], grades: dict[str, int], k: int = 5) -> float:
    dcg = sum((2 ** grades.get(r, 0) - 1) / math.log2(i + 2) for i, r in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 1.0


@pytest.fixture(scope="module")
def labelled() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LABELLED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def today(labelled: dict[str, Any]) -> date:
    return date.fromisoformat(labelled["today"])


@pytest.fixture(scope="module")
def demo(today: date) -> Demo:
    return load_demo(today)


@pytest.fixture(scope="module")
def needs(labelled: dict[str, Any], demo: Demo, today: date) -> list[NeedRecord]:
    out = []
    for n, x in enumerate(labelled["needs"]):
        raw = {k: v for k, v in x.items() if k not in ("relevant", "traps")}
        raw.setdefault("deadline", "2027-12-31")
        out.append(
            need_record(raw, demo.parks, lambda ref, n=n: demo.ids.get(ref, 90_000 + n), today)
        )
    return out


@pytest.fixture(scope="module")
def ctx(demo: Demo, today: date) -> Context:
    synonyms = file_concepts().synonym_groups()
    return Context(
        demo.providers, demo.enterprises, load_weights(), synonyms, today, text=TextModel(synonyms)
    )


def test_labelled_set_has_twenty_needs_with_traps(labelled: dict[str, Any]) -> None:
    assert len(labelled["needs"]) >= 20
    kinds = " ".join(t for x in labelled["needs"] for t in x["traps"].values())
    for trap in ("serves", "over budget", "eligible", "another sense", "2026-12-10"):
        assert trap in kinds


def test_graded_offerings_pass_every_hard_rule(
    labelled: dict[str, Any], needs: list[NeedRecord], demo: Demo, today: date
) -> None:
    """A graded offering the rules forbid would make the set unreachable."""
    for x, need in zip(labelled["needs"], needs, strict=True):
        ent = demo.enterprises.get(need.org_id)
        for ref in x["relevant"]:
            assert violations(need, demo.offering(ref), ent, today) == [], (x["ref"], ref)


def test_labelled_needs_reach_ndcg_at_5(
    labelled: dict[str, Any], needs: list[NeedRecord], demo: Demo, ctx: Context
) -> None:
    scores = {}
    lines = []
    for x, need in zip(labelled["needs"], needs, strict=True):
        ranked = [demo.refs[m.offering_id] for m in rank_for_need(need, demo.offerings, ctx, 10)]
        scores[x["ref"]] = _ndcg(ranked, x["relevant"])
        lines.append(f"{x['ref']} {scores[x['ref']]:.3f} {ranked[:5]} want {x['relevant']}")
    mean = sum(scores.values()) / len(scores)
    print(f"mean NDCG@5 {mean:.3f}\n" + "\n".join(lines))
    assert mean >= MIN_NDCG, f"mean NDCG@5 {mean:.3f}\n" + "\n".join(lines)


def test_no_hard_rule_violation_in_any_top_10(
    labelled: dict[str, Any], needs: list[NeedRecord], demo: Demo, ctx: Context, today: date
) -> None:
    """Labelled needs and every open demo need: nothing a hard rule forbids, traps
    that break a hard rule never shown at all."""
    for need in [*needs, *(d for d in demo.needs if d.open)]:
        ent = demo.enterprises.get(need.org_id)
        for m in rank_for_need(need, demo.offerings, ctx, 10):
            off = next(o for o in demo.offerings if o.id == m.offering_id)
            assert violations(need, off, ent, today) == [], (need.ref, off.ref)
    for x, need in zip(labelled["needs"], needs, strict=True):
        shown = {demo.refs[m.offering_id] for m in rank_for_need(need, demo.offerings, ctx, 50)}
        ent = demo.enterprises.get(need.org_id)
        for ref in x["traps"]:
            if violations(need, demo.offering(ref), ent, today):
                assert ref not in shown, (x["ref"], ref)
