"""Compiling, numbering, freezing, withdrawing and scheduling catalogue editions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from market.catalogue import compile as compile_
from market.catalogue import diff as catalogue_diff
from market.catalogue import service
from market.core.db import write_intent
from market.core.errors import DomainError, InvalidTransition
from market.core.extensions import db
from market.models import CatalogueEdition, CatalogueEntry, utcnow
from tests.catalogue.factories import make_edition, make_park_setup, publish_edition


def titles(edition: CatalogueEdition, side: str) -> list[str]:
    return [e.title for e in edition.entries if e.side == side]


def test_proposals_are_what_serves_the_park_and_its_open_needs(app: Flask) -> None:
    setup = make_park_setup()
    edition = publish_edition(setup.park)
    assert sorted(titles(edition, "supply")) == sorted(
        ["冲压件表面缺陷视觉检测", "注塑机设备上云与OEE分析", "设备融资租赁"]
    )
    assert sorted(titles(edition, "demand")) == ["冲压件表面划痕检测", "车间5G专网覆盖"]
    assert (edition.supply_count, edition.demand_count) == (3, 2)


def test_editions_are_numbered_per_park_and_year(app: Flask) -> None:
    one = make_park_setup()
    other = make_park_setup()
    first = publish_edition(one.park)
    second = publish_edition(one.park)
    elsewhere = publish_edition(other.park)
    year = service.local_year(utcnow())
    assert (first.year, first.number) == (year, 1)
    assert second.number == 2
    assert elsewhere.number == 1
    from market.catalogue.present import label

    assert label(second) == f"{year} 年第 2 期"


def test_numbering_restarts_with_the_year_in_china_time(app: Flask) -> None:
    setup = make_park_setup()
    december = datetime(2026, 12, 31, 10, tzinfo=UTC)  # 18:00 in Beijing
    new_year = datetime(2026, 12, 31, 17, tzinfo=UTC)  # 01:00 on 1 January in Beijing
    a = make_edition(setup.park)
    service.publish(a, None, december)
    b = make_edition(setup.park)
    service.publish(b, None, new_year)
    db.session.commit()
    assert (a.year, a.number) == (2026, 1)
    assert (b.year, b.number) == (2027, 1)


def test_a_taken_number_is_skipped_not_reused(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a concurrent publication looks like from the loser's side: the number it
    computed is taken by the time it writes, so it takes the next one."""
    setup = make_park_setup()
    publish_edition(setup.park)
    edition = make_edition(setup.park)
    real_scalar = db.session.scalar
    stale = {"left": 1}

    def stale_max(stmt: Any, *args: Any, **kwargs: Any) -> Any:
        result = real_scalar(stmt, *args, **kwargs)
        if "max(" in str(stmt).lower() and stale["left"]:
            stale["left"] -= 1
            return 0  # as if the other edition were not there yet
        return result

    monkeypatch.setattr(db.session, "scalar", stale_max)
    service.publish(edition, None)
    monkeypatch.undo()
    db.session.commit()
    assert edition.number == 2


def test_two_concurrent_publications_of_one_park_get_different_numbers(app: Flask) -> None:
    setup = make_park_setup()
    ids = [make_edition(setup.park).id, make_edition(setup.park).id]
    db.session.commit()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def publish(edition_id: int) -> None:
        with app.app_context():
            try:
                start.wait(timeout=10)
                with write_intent():
                    edition = db.session.get(CatalogueEdition, edition_id)
                    assert edition is not None
                    service.publish(edition, None)
                    db.session.commit()
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    editions = [db.session.get(CatalogueEdition, i) for i in ids]
    assert sorted(e.number or 0 for e in editions if e is not None) == [1, 2]


def test_publishing_twice_is_refused(app: Flask) -> None:
    setup = make_park_setup()
    edition = publish_edition(setup.park)
    with pytest.raises(InvalidTransition):
        service.publish(edition, None)


def test_a_published_edition_does_not_follow_listing_edits(app: Flask) -> None:
    setup = make_park_setup()
    edition = publish_edition(setup.park)
    offering = setup.offerings[0]
    offering.title = "改过名字的视觉检测方案"
    offering.price_min = 1
    db.session.commit()
    db.session.expire_all()
    frozen = next(e for e in edition.entries if e.listing_ref == offering.ref)
    assert frozen.title == "冲压件表面缺陷视觉检测"
    assert frozen.record["price_min"] == 200000
    with pytest.raises(InvalidTransition):
        service.update_settings(edition, "新标题", "")
    with pytest.raises(InvalidTransition):
        service.set_included(edition, f"S:{offering.id}", False)


def test_excluded_entries_are_not_published_and_stay_excluded_next_time(app: Flask) -> None:
    setup = make_park_setup()
    edition = make_edition(setup.park)
    service.set_included(edition, f"S:{setup.offerings[0].id}", False)
    service.publish(edition, None)
    db.session.commit()
    assert "冲压件表面缺陷视觉检测" not in titles(edition, "supply")
    following = make_edition(setup.park)
    assert following.excluded == [f"S:{setup.offerings[0].id}"]


def test_section_order_decides_the_order_of_entries(app: Flask) -> None:
    setup = make_park_setup()
    edition = make_edition(setup.park)
    service.move_section(edition, "finance", -1)
    for _ in range(5):
        service.move_section(edition, "finance", -1)
    assert edition.section_order[0] == "finance"
    service.publish(edition, None)
    db.session.commit()
    assert titles(edition, "supply")[0] == "设备融资租赁"
    assert [e.position for e in edition.entries if e.side == "supply"] == [1, 2, 3]


def test_bad_compile_input_is_refused_with_a_message(app: Flask) -> None:
    setup = make_park_setup()
    edition = make_edition(setup.park)
    for call in (
        lambda: service.set_included(edition, "X:1", False),
        lambda: service.move_section(edition, "nonsense", 1),
        lambda: service.update_settings(edition, "   ", ""),
        lambda: service.update_settings(edition, "标题", "字" * 5001),
    ):
        with pytest.raises(DomainError):
            call()


def test_withdraw_keeps_the_reason_and_the_number(app: Flask) -> None:
    setup = make_park_setup()
    edition = publish_edition(setup.park)
    with pytest.raises(DomainError):
        service.withdraw(edition, setup.staff, "  ")
    service.withdraw(edition, setup.staff, "误收录了一家未认证机构")
    db.session.commit()
    assert edition.status == "withdrawn"
    assert edition.withdraw_reason == "误收录了一家未认证机构"
    assert edition.number == 1
    with pytest.raises(InvalidTransition):
        service.withdraw(edition, setup.staff, "再撤一次")
    assert service.latest_published(compile_.park_scope(setup.park)) is None
    assert publish_edition(setup.park).number == 2


def test_publish_due_publishes_scheduled_editions_whose_time_has_come(app: Flask) -> None:
    setup = make_park_setup()
    now = utcnow()
    due = make_edition(setup.park)
    service.schedule(due, now + timedelta(hours=1), now=now)
    later = make_edition(setup.park)
    service.schedule(later, now + timedelta(days=3), now=now)
    db.session.commit()
    assert service.publish_due(now) == []
    published = service.publish_due(now + timedelta(hours=2))
    assert [e.id for e in published] == [due.id]
    db.session.expire_all()
    assert due.status == "published" and due.number == 1
    assert later.status == "scheduled"
    assert db.session.query(CatalogueEntry).filter_by(edition_id=due.id).count() == 5


def test_scheduling_in_the_past_is_refused_and_can_be_cancelled(app: Flask) -> None:
    setup = make_park_setup()
    edition = make_edition(setup.park)
    with pytest.raises(DomainError):
        service.schedule(edition, utcnow() - timedelta(minutes=1))
    service.schedule(edition, utcnow() + timedelta(days=1))
    service.unschedule(edition)
    assert edition.status == "draft" and edition.scheduled_for is None


def test_changes_list_added_removed_and_updated_entries(app: Flask) -> None:
    setup = make_park_setup()
    first = publish_edition(setup.park)
    setup.offerings[1].price_max = 999999
    setup.offerings[0].status = "archived"
    setup.needs[0].status = "closed"
    from tests.conftest import make_offering

    make_offering(org=setup.provider, title="新上架的MES方案", regions=["江苏省"])
    db.session.commit()
    second = publish_edition(setup.park)
    assert service.previous_published(second).id == first.id  # type: ignore[union-attr]
    changes = catalogue_diff.compare(list(first.entries), list(second.entries))
    assert [e.title for e in changes.added] == ["新上架的MES方案"]
    assert sorted(e.title for e in changes.removed) == [
        "冲压件表面划痕检测",
        "冲压件表面缺陷视觉检测",
    ]
    assert [(u.new.title, u.fields) for u in changes.updated] == [
        ("注塑机设备上云与OEE分析", ["价格"])
    ]


def test_province_and_platform_scopes(app: Flask) -> None:
    setup = make_park_setup()
    province = service.new_edition(compile_.province_scope("江苏省"), None)
    service.publish(province, None)
    platform = service.new_edition(compile_.platform_scope(), None)
    service.publish(platform, None)
    db.session.commit()
    assert province.supply_count == 3 and province.demand_count == 2
    assert platform.supply_count == 4  # the 浙江省 offering too
    assert province.number == platform.number == 1
    assert setup.park.id is not None
