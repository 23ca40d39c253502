"""对接 service: starting dockings, every step allowed and refused, capacity and the
waiting list, financing eligibility, duplicates, and the mail each step sends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from market.core.errors import DomainError, InvalidTransition, PermissionDenied
from market.core.extensions import db
from market.docking import mail as docking_mail
from market.docking import workflow as service
from market.docking.rules import STEPS, allowed_actions
from market.models import utcnow
from market.models.docking import Docking, DockingEvent
from tests.conftest import mail_text, make_need, make_offering, make_org, make_user, read_outbox
from tests.docking.factories import Sides, make_docking, make_sides


@pytest.fixture(autouse=True)
def _request(app: Flask) -> Iterator[None]:
    """Mail links need a request context (url_for); every test here gets one."""
    with app.test_request_context():
        yield


def events_of(docking: Docking) -> list[str]:
    return list(
        db.session.scalars(
            select(DockingEvent.status)
            .where(DockingEvent.docking_id == docking.id)
            .order_by(DockingEvent.id)
        )
    )


# --- starting ----------------------------------------------------------------------------------


def test_enterprise_request_on_a_solution_is_requested_with_a_dated_event() -> None:
    sides = make_sides()
    need = make_need(org=sides.enterprise)
    outcome = service.start(sides.offering, sides.buyer, need=need, message=" 想了解报价 ")
    docking = outcome.docking
    assert docking.ref and docking.ref.startswith("K-")
    assert (docking.kind, docking.status, docking.message) == ("request", "requested", "想了解报价")
    assert docking.need_id == need.id
    assert docking.enterprise_org_id == sides.enterprise.id
    assert docking.provider_org_id == sides.provider.id
    assert docking.park_id == sides.enterprise.park_id
    assert events_of(docking) == ["requested"]
    assert outcome.events[0].actor_user_id == sides.buyer.id


def test_a_provider_cannot_send_a_docking_request() -> None:
    sides = make_sides()
    with pytest.raises(PermissionDenied):
        service.start(sides.offering, sides.seller)


def test_request_on_a_draft_or_expired_offering_is_refused() -> None:
    sides = make_sides()
    sides.offering.expires_at = utcnow() - timedelta(days=1)
    with pytest.raises(DomainError, match="已下架或已过期"):
        service.start(sides.offering, sides.buyer)


def test_request_cannot_name_another_enterprises_need() -> None:
    sides = make_sides()
    foreign = make_need()
    with pytest.raises(PermissionDenied):
        service.start(sides.offering, sides.buyer, need=foreign)


def test_a_second_open_request_on_the_same_pair_is_refused_with_the_first_ones_ref() -> None:
    sides = make_sides()
    first = service.start(sides.offering, sides.buyer).docking
    with pytest.raises(DomainError) as refused:
        service.start(sides.offering, sides.buyer, message="再来一次")
    assert str(first.ref) in refused.value.message
    assert "进行中的对接" in refused.value.message


def test_a_closed_docking_does_not_block_a_new_one() -> None:
    sides = make_sides()
    make_docking(sides, status="declined")
    assert service.start(sides.offering, sides.buyer).docking.status == "requested"


def test_requests_for_two_different_needs_of_one_enterprise_are_both_allowed() -> None:
    sides = make_sides()
    service.start(sides.offering, sides.buyer, need=make_need(org=sides.enterprise))
    second = service.start(sides.offering, sides.buyer, need=make_need(org=sides.enterprise))
    assert second.docking.status == "requested"


def test_provider_expresses_interest_in_an_open_need_with_its_own_offering() -> None:
    sides = make_sides()
    need = make_need(org=sides.enterprise)
    docking = service.express_interest(need, sides.offering, sides.seller, message="可上门").docking
    assert (docking.kind, docking.status) == ("interest", "requested")
    assert docking.initiator_org_id == sides.provider.id
    assert docking.enterprise_org_id == sides.enterprise.id
    assert docking.park_id == need.park_id


def test_interest_with_another_providers_offering_is_refused() -> None:
    sides = make_sides()
    other = make_offering()
    with pytest.raises(PermissionDenied):
        service.express_interest(make_need(org=sides.enterprise), other, sides.seller)


def test_interest_in_a_closed_need_is_refused() -> None:
    sides = make_sides()
    need = make_need(org=sides.enterprise, status="closed")
    with pytest.raises(DomainError, match="不在征集中"):
        service.express_interest(need, sides.offering, sides.seller)


def test_an_enterprise_cannot_express_interest() -> None:
    sides = make_sides()
    with pytest.raises(PermissionDenied):
        service.express_interest(make_need(org=sides.enterprise), sides.offering, sides.buyer)


# --- financing ---------------------------------------------------------------------------------


def test_financing_application_keeps_the_amount_sought() -> None:
    sides = make_sides("finance")
    outcome = service.start(sides.offering, sides.buyer, amount_sought=2_000_000)
    assert (outcome.docking.kind, outcome.docking.amount_sought) == ("financing", 2_000_000)
    assert outcome.events[0].amount == 2_000_000


def test_financing_without_an_amount_is_refused() -> None:
    sides = make_sides("finance")
    with pytest.raises(DomainError, match="请填写申请金额"):
        service.start(sides.offering, sides.buyer)


def test_financing_for_an_ineligible_size_names_the_sizes_it_serves() -> None:
    sides = make_sides("finance")
    sides.enterprise.size = "large"
    with pytest.raises(DomainError) as refused:
        service.start(sides.offering, sides.buyer, amount_sought=1_000_000)
    assert "中型企业、小型企业" in refused.value.message
    assert "大型企业" in refused.value.message


def test_financing_for_an_enterprise_without_a_size_asks_for_it() -> None:
    sides = make_sides("finance")
    sides.enterprise.size = None
    with pytest.raises(DomainError, match="填写企业规模"):
        service.start(sides.offering, sides.buyer, amount_sought=1_000_000)


@pytest.mark.parametrize("amount", [100_000, 6_000_000])
def test_financing_outside_the_products_range_shows_the_range(amount: int) -> None:
    sides = make_sides("finance")
    with pytest.raises(DomainError) as refused:
        service.start(sides.offering, sides.buyer, amount_sought=amount)
    assert "额度范围（50 万元 – 500 万元）" in refused.value.message


def test_financing_with_no_size_limit_accepts_every_size() -> None:
    sides = make_sides("finance", eligible_sizes=[])
    sides.enterprise.size = "large"
    assert service.start(sides.offering, sides.buyer, amount_sought=600_000).docking.status == (
        "requested"
    )


# --- registrations: capacity, waiting list, promotion ------------------------------------------


def _enterprise_member() -> object:
    return make_user(org=make_org(kind="enterprise"))


def test_registrations_beyond_capacity_are_waitlisted_in_order() -> None:
    sides = make_sides("training")  # capacity 2
    statuses = [
        service.start(sides.offering, user).docking.status
        for user in (sides.buyer, _enterprise_member(), _enterprise_member(), _enterprise_member())
    ]
    assert statuses == ["registered", "registered", "waitlisted", "waitlisted"]
    assert service.seats_taken(sides.offering) == 2


def test_a_course_without_capacity_never_waitlists() -> None:
    sides = make_sides("training", capacity=None)
    for user in (sides.buyer, _enterprise_member(), _enterprise_member()):
        assert service.start(sides.offering, user).docking.status == "registered"


def test_registration_for_a_course_that_already_started_is_refused() -> None:
    sides = make_sides("training", starts_on=utcnow().date() - timedelta(days=1))
    with pytest.raises(DomainError, match="开班，不能再报名"):
        service.start(sides.offering, sides.buyer)


def test_registering_twice_for_one_course_is_refused() -> None:
    sides = make_sides("training")
    service.start(sides.offering, sides.buyer)
    with pytest.raises(DomainError, match="进行中的对接"):
        service.start(sides.offering, sides.buyer)


def test_cancelling_a_seat_promotes_the_first_waitlisted_and_mails_it(app: Flask) -> None:
    sides = make_sides("training", capacity=1)
    seat = service.start(sides.offering, sides.buyer).docking
    first_user, second_user = _enterprise_member(), _enterprise_member()
    first = service.start(sides.offering, first_user).docking
    second = service.start(sides.offering, second_user).docking
    assert (first.status, second.status) == ("waitlisted", "waitlisted")

    outcome = service.act(seat, sides.buyer, "cancel", note="时间冲突")
    db.session.commit()
    docking_mail.notify(outcome.events)

    assert (seat.status, first.status, second.status) == ("cancelled", "registered", "waitlisted")
    assert outcome.promoted is first
    assert events_of(first) == ["waitlisted", "registered"]
    mails = {m["To"]: m for m in read_outbox(app)}
    assert "候补报名已转为正式报名" in str(mails[first_user.email]["Subject"])  # type: ignore[attr-defined]
    assert second_user.email not in mails  # type: ignore[attr-defined]
    assert sides.seller.email in mails  # the provider hears of the cancellation


def test_raising_a_course_capacity_moves_the_waitlist_up_in_order(app: Flask) -> None:
    sides = make_sides("training", capacity=1)
    service.start(sides.offering, sides.buyer)
    users = [_enterprise_member() for _ in range(3)]
    waiting = [service.start(sides.offering, u).docking for u in users]
    assert [w.status for w in waiting] == ["waitlisted"] * 3

    sides.offering.capacity = 3
    events = service.fill_free_seats(sides.offering)
    db.session.commit()
    docking_mail.notify(events)

    assert [w.status for w in waiting] == ["registered", "registered", "waitlisted"]
    assert [e.docking_id for e in events] == [waiting[0].id, waiting[1].id]
    assert service.seats_taken(sides.offering) == 3
    mailed = {m["To"] for m in read_outbox(app)}
    assert {users[0].email, users[1].email} <= mailed  # type: ignore[attr-defined]
    assert users[2].email not in mailed  # type: ignore[attr-defined]
    # Lowering the capacity again takes no seat away and moves nobody.
    sides.offering.capacity = 1
    assert service.fill_free_seats(sides.offering) == []
    assert [w.status for w in waiting] == ["registered", "registered", "waitlisted"]


def test_cancelling_a_waitlisted_registration_promotes_nobody() -> None:
    sides = make_sides("training", capacity=1)
    service.start(sides.offering, sides.buyer)
    waiting_user = _enterprise_member()
    waiting = service.start(sides.offering, waiting_user).docking
    later = service.start(sides.offering, _enterprise_member()).docking
    outcome = service.act(waiting, waiting_user, "cancel")
    assert outcome.promoted is None
    assert later.status == "waitlisted"


def test_provider_marks_a_registration_completed_with_a_certificate() -> None:
    sides = make_sides("training")
    docking = service.start(sides.offering, sides.buyer).docking
    service.act(docking, sides.seller, "complete", certified=True)
    assert (docking.status, docking.certified) == ("completed", True)
    assert docking.closed_at is not None


def test_the_enterprise_cannot_mark_its_own_registration_completed() -> None:
    sides = make_sides("training")
    docking = service.start(sides.offering, sides.buyer).docking
    with pytest.raises(PermissionDenied):
        service.act(docking, sides.buyer, "complete")


def test_a_waitlisted_registration_cannot_be_completed() -> None:
    sides = make_sides("training", capacity=1)
    service.start(sides.offering, sides.buyer)
    other = _enterprise_member()
    waiting = service.start(sides.offering, other).docking
    with pytest.raises(InvalidTransition):
        service.act(waiting, sides.seller, "complete")


# --- the state machine -------------------------------------------------------------------------


def test_request_walks_accept_negotiate_deal_with_dates_and_amount() -> None:
    sides = make_sides()
    docking = service.start(sides.offering, sides.buyer).docking
    service.act(docking, sides.seller, "accept", note="欢迎")
    answered = docking.answered_at
    assert answered is not None
    service.act(docking, sides.buyer, "negotiate")
    service.act(docking, sides.seller, "deal", amount=320_000, note="签约")
    assert (docking.status, docking.deal_amount) == ("deal", 320_000)
    assert docking.answered_at == answered and docking.closed_at is not None
    assert events_of(docking) == ["requested", "accepted", "negotiating", "deal"]


def test_a_deal_without_an_amount_is_refused() -> None:
    sides = make_sides()
    docking = make_docking(sides, status="negotiating")
    with pytest.raises(DomainError, match="成交金额"):
        service.act(docking, sides.seller, "deal")
    assert docking.status == "negotiating"


def test_no_deal_needs_a_reason() -> None:
    sides = make_sides()
    docking = make_docking(sides, status="accepted")
    with pytest.raises(DomainError, match="原因"):
        service.act(docking, sides.buyer, "no_deal", note="  ")
    service.act(docking, sides.buyer, "no_deal", note="预算不足")
    assert docking.status == "no_deal"


def test_only_the_receiving_side_accepts_or_declines() -> None:
    sides = make_sides()
    request = make_docking(sides)
    with pytest.raises(PermissionDenied):
        service.act(request, sides.buyer, "accept")
    interest = make_docking(sides, kind="interest")
    with pytest.raises(PermissionDenied):
        service.act(interest, sides.seller, "accept")
    service.act(interest, sides.buyer, "decline", note="已有供应商")
    assert interest.status == "declined" and interest.answered_at is not None


def test_only_the_initiator_withdraws_and_only_while_requested() -> None:
    sides = make_sides()
    docking = make_docking(sides)
    with pytest.raises(PermissionDenied):
        service.act(docking, sides.seller, "withdraw")
    service.act(docking, sides.buyer, "withdraw")
    assert docking.status == "withdrawn"
    accepted = make_docking(make_sides(), status="accepted")
    buyer = db.session.get(type(sides.buyer), accepted.initiator_user_id)
    with pytest.raises(InvalidTransition, match="已接受"):
        service.act(accepted, buyer, "withdraw")


def test_a_vendor_cannot_accept_a_foreign_docking() -> None:
    docking = make_docking()
    stranger = make_user(org=make_org(kind="solution_provider"))
    with pytest.raises(PermissionDenied):
        service.act(docking, stranger, "accept")


def test_park_staff_and_admins_cannot_take_steps() -> None:
    docking = make_docking()
    admin = make_user(role="admin")
    with pytest.raises(PermissionDenied):
        service.act(docking, admin, "accept")


def test_financing_is_granted_by_the_institution_with_the_amount_granted() -> None:
    sides = make_sides("finance")
    docking = make_docking(sides, kind="financing", status="accepted")
    with pytest.raises(PermissionDenied):
        service.act(docking, sides.buyer, "deal", amount=900_000)
    service.act(docking, sides.seller, "deal", amount=800_000)
    assert (docking.status, docking.deal_amount, docking.amount_sought) == (
        "deal",
        800_000,
        1_000_000,
    )


def test_a_request_has_no_registration_steps() -> None:
    sides = make_sides()
    docking = make_docking(sides)
    with pytest.raises(InvalidTransition):
        service.act(docking, sides.seller, "complete")


# Every (kind, status, action, side) the table allows, and a sample of what it refuses.
TRANSITIONS = [
    ("request", "requested", "accept", "provider", "accepted"),
    ("request", "requested", "decline", "provider", "declined"),
    ("request", "requested", "withdraw", "enterprise", "withdrawn"),
    ("request", "accepted", "negotiate", "enterprise", "negotiating"),
    ("request", "accepted", "negotiate", "provider", "negotiating"),
    ("request", "accepted", "no_deal", "provider", "no_deal"),
    ("request", "negotiating", "deal", "enterprise", "deal"),
    ("request", "negotiating", "no_deal", "enterprise", "no_deal"),
    ("interest", "requested", "accept", "enterprise", "accepted"),
    ("interest", "requested", "decline", "enterprise", "declined"),
    ("interest", "requested", "withdraw", "provider", "withdrawn"),
    ("interest", "negotiating", "deal", "provider", "deal"),
    ("financing", "requested", "accept", "provider", "accepted"),
    ("financing", "requested", "withdraw", "enterprise", "withdrawn"),
    ("financing", "accepted", "negotiate", "enterprise", "negotiating"),
    ("financing", "negotiating", "deal", "provider", "deal"),
    ("financing", "negotiating", "no_deal", "enterprise", "no_deal"),
    ("registration", "registered", "cancel", "enterprise", "cancelled"),
    ("registration", "waitlisted", "cancel", "provider", "cancelled"),
    ("registration", "registered", "complete", "provider", "completed"),
]


def _actor(sides: Sides, side: str) -> object:
    return sides.buyer if side == "enterprise" else sides.seller


@pytest.mark.parametrize(("kind", "status", "action", "side", "target"), TRANSITIONS)
def test_allowed_transition(kind: str, status: str, action: str, side: str, target: str) -> None:
    docking = make_docking(kind=kind, status=status)
    sides = _sides_of(docking)
    offered = "grant" if (kind, action) == ("financing", "deal") else action
    assert offered in allowed_actions(docking, _actor(sides, side).org_id)  # type: ignore[attr-defined]
    service.act(docking, _actor(sides, side), action, note="原因", amount=100_000)
    assert docking.status == target
    assert events_of(docking)[-1] == target


CLOSED = ("declined", "deal", "no_deal", "withdrawn")


@pytest.mark.parametrize("status", CLOSED)
@pytest.mark.parametrize(
    "action", ["accept", "decline", "negotiate", "deal", "no_deal", "withdraw"]
)
def test_nothing_moves_a_closed_docking(status: str, action: str) -> None:
    docking = make_docking(status=status)
    sides = _sides_of(docking)
    for user in (sides.buyer, sides.seller):
        if action in allowed_actions(docking, user.org_id):  # pragma: no cover - would be a bug
            pytest.fail(f"{action} offered on a {status} docking")
    with pytest.raises((InvalidTransition, PermissionDenied)):
        step = STEPS["grant" if action == "deal" and docking.kind == "financing" else action]
        actor = sides.seller if step.actor in ("receiver", "provider") else sides.buyer
        service.act(docking, actor, action, note="x", amount=1)
    assert docking.status == status


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("requested", "negotiate"),
        ("requested", "deal"),
        ("requested", "no_deal"),
        ("accepted", "accept"),
        ("accepted", "deal"),
        ("negotiating", "accept"),
        ("negotiating", "negotiate"),
    ],
)
def test_steps_out_of_order_are_refused_with_a_chinese_message(status: str, action: str) -> None:
    docking = make_docking(status=status)
    sides = _sides_of(docking)
    with pytest.raises(InvalidTransition) as refused:
        service.act(docking, sides.seller, action, note="x", amount=1)
    assert "不能" in refused.value.message
    assert docking.status == status


def _sides_of(docking: Docking) -> Sides:
    from market.models import Organization, User

    def member(org_id: int) -> User:
        user = db.session.scalar(select(User).where(User.org_id == org_id).order_by(User.id))
        assert user is not None
        return user

    return Sides(
        db.session.get(Organization, docking.enterprise_org_id),  # type: ignore[arg-type]
        member(docking.enterprise_org_id),
        db.session.get(Organization, docking.provider_org_id),  # type: ignore[arg-type]
        member(docking.provider_org_id),
        docking.offering,
    )


# --- mail --------------------------------------------------------------------------------------


def test_each_step_mails_the_other_side_with_an_absolute_link(app: Flask) -> None:
    sides = make_sides()
    colleague = make_user(org=sides.provider, name="张工")
    make_user(org=sides.provider, disabled=True)
    outcome = service.start(sides.offering, sides.buyer, message="想了解报价")
    db.session.commit()
    assert docking_mail.notify(outcome.events) == 2
    mails = read_outbox(app)
    assert sorted(m["To"] for m in mails) == sorted([sides.seller.email, colleague.email])
    body = mail_text(mails[0])
    assert "发起了对接申请" in str(mails[0]["Subject"])
    assert f"/dockings/{outcome.docking.ref}" in body
    assert body.count("http") >= 1 and "想了解报价" in body

    accepted = service.act(outcome.docking, sides.seller, "accept", note="欢迎来电")
    db.session.commit()
    docking_mail.notify(accepted.events)
    latest = read_outbox(app)[-1]
    assert latest["To"] == sides.buyer.email
    assert "已接受" in str(latest["Subject"])
    assert "欢迎来电" in mail_text(latest)


def test_a_deal_mail_carries_the_amount(app: Flask) -> None:
    sides = make_sides()
    docking = make_docking(sides, status="negotiating")
    outcome = service.act(docking, sides.seller, "deal", amount=1_250_000)
    db.session.commit()
    docking_mail.notify(outcome.events)
    text = mail_text(read_outbox(app)[-1])
    assert "125 万元" in text and "已成交" in text


# --- concurrency -------------------------------------------------------------------------------


def test_concurrent_registrations_never_overfill_a_course(app: Flask) -> None:
    """Eight enterprises press 报名 at the same moment for a course with three seats:
    SQLite queues the writers (BEGIN IMMEDIATE), PostgreSQL locks the offering row."""
    import threading

    from market.core.db import write_intent
    from market.models import Offering, User

    sides = make_sides("training", capacity=3)
    user_ids = [make_user(org=make_org(kind="enterprise")).id for _ in range(8)]
    offering_id = sides.offering.id
    db.session.commit()
    barrier = threading.Barrier(len(user_ids))
    failures: list[BaseException] = []

    def register(user_id: int) -> None:
        with app.app_context(), app.test_request_context():
            try:
                barrier.wait(timeout=30)
                with write_intent():
                    user = db.session.get(User, user_id)
                    offering = db.session.get(Offering, offering_id)
                    assert user is not None and offering is not None
                    service.register(offering, user)
                    db.session.commit()
            except BaseException as exc:  # reported below, with the thread's own error
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    db.session.expire_all()
    statuses = sorted(
        db.session.scalars(select(Docking.status).where(Docking.offering_id == offering_id))
    )
    assert statuses == ["registered"] * 3 + ["waitlisted"] * 5


def test_a_docking_from_a_recommendation_keeps_the_pairs_score() -> None:
    from market.models import Recommendation

    sides = make_sides()
    need = make_need(org=sides.enterprise)
    db.session.add(Recommendation(need_id=need.id, offering_id=sides.offering.id, score=87.5))
    db.session.flush()
    docking = service.start(sides.offering, sides.buyer, need=need, source="recommendation")
    assert (docking.docking.source, docking.docking.score) == ("recommendation", 87.5)
    other = service.start(make_offering(), sides.buyer, source="bogus").docking
    assert (other.source, other.score) == ("listing", None)
