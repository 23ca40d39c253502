"""The 对接 state machine: which step each side may take from which status.

Plain data plus two functions, so the pages (which buttons to show) and the service
(what to refuse) read the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.core.errors import InvalidTransition, PermissionDenied
from market.models.docking import Docking

# Who takes a step: the side that received the docking, the side that started it,
# either party, or a fixed side (the provider grants financing and completes courses).
RECEIVER, INITIATOR, EITHER, PROVIDER = "receiver", "initiator", "either", "provider"
NEGOTIATED_KINDS = ("request", "interest", "financing")


@dataclass(frozen=True)
class Step:
    """One action: the statuses it starts from, the status it reaches, who may take it."""

    action: str
    sources: tuple[str, ...]
    target: str
    actor: str
    kinds: tuple[str, ...]


STEPS: dict[str, Step] = {
    step.action: step
    for step in (
        Step("accept", ("requested",), "accepted", RECEIVER, NEGOTIATED_KINDS),
        Step("decline", ("requested",), "declined", RECEIVER, NEGOTIATED_KINDS),
        Step("withdraw", ("requested",), "withdrawn", INITIATOR, NEGOTIATED_KINDS),
        Step("negotiate", ("accepted",), "negotiating", EITHER, NEGOTIATED_KINDS),
        Step("deal", ("negotiating",), "deal", EITHER, ("request", "interest")),
        # For financing a "deal" is the grant, which only the institution can record.
        Step("grant", ("accepted", "negotiating"), "deal", PROVIDER, ("financing",)),
        Step("no_deal", ("accepted", "negotiating"), "no_deal", EITHER, NEGOTIATED_KINDS),
        Step("cancel", ("registered", "waitlisted"), "cancelled", EITHER, ("registration",)),
        Step("complete", ("registered",), "completed", PROVIDER, ("registration",)),
    )
}

ACTION_LABELS = {
    "accept": _l("接受"),
    "decline": _l("婉拒"),
    "withdraw": _l("撤回"),
    "negotiate": _l("进入洽谈"),
    "deal": _l("记录成交"),
    "grant": _l("记录获批"),
    "no_deal": _l("未达成合作"),
    "cancel": _l("取消报名"),
    "complete": _l("标记结业"),
}


def side_of(docking: Docking, org_id: int | None) -> str | None:
    """The side of a party's org id ("enterprise" or "provider"); None for anyone else."""
    if org_id is None:
        return None
    if org_id == docking.enterprise_org_id:
        return "enterprise"
    if org_id == docking.provider_org_id:
        return "provider"
    return None


def _may(step: Step, docking: Docking, org_id: int) -> bool:
    if step.actor == EITHER:
        return True
    if step.actor == PROVIDER:
        return org_id == docking.provider_org_id
    initiator = org_id == docking.initiator_org_id
    return initiator if step.actor == INITIATOR else not initiator


def step_for(docking: Docking, action: str) -> Step:
    """The step named ``action`` for this docking's kind; InvalidTransition if it has none.

    ``deal`` on a financing application means ``grant`` (and the other way round), so
    a form posting either name reaches the right step.
    """
    if docking.kind == "financing" and action == "deal":
        action = "grant"
    elif docking.kind != "financing" and action == "grant":
        action = "deal"
    step = STEPS.get(action)
    if step is None or docking.kind not in step.kinds:
        raise InvalidTransition(_("此类对接不能执行该操作。"))
    return step


def check_side(docking: Docking, action: str, org_id: int | None) -> Step:
    """The step ``org_id`` takes with ``action``, whatever the docking's status.

    Raises PermissionDenied when the org is not a party or not the side the step
    belongs to, InvalidTransition when this kind of docking has no such step.
    """
    step = step_for(docking, action)
    if side_of(docking, org_id) is None:
        raise PermissionDenied(_("只有对接双方可以操作此对接。"))
    assert org_id is not None
    if not _may(step, docking, org_id):
        raise PermissionDenied(_("此操作应由对方完成。"))
    return step


def check(docking: Docking, action: str, org_id: int | None) -> Step:
    """``check_side``, then InvalidTransition when the docking's status does not allow
    the step (answered already, closed …)."""
    step = check_side(docking, action, org_id)
    if docking.status not in step.sources:
        raise InvalidTransition(
            _(
                "对接当前状态为“%(status)s”，不能%(action)s。",
                status=status_label(docking.status, docking.kind),
                action=ACTION_LABELS[step.action],
            )
        )
    return step


def allowed_actions(docking: Docking, org_id: int | None) -> list[str]:
    """The actions ``org_id`` may take now, in table order (empty for non-parties)."""
    if side_of(docking, org_id) is None:
        return []
    assert org_id is not None
    return [
        step.action
        for step in STEPS.values()
        if docking.kind in step.kinds
        and docking.status in step.sources
        and _may(step, docking, org_id)
    ]


# --- labels ------------------------------------------------------------------------------------

KIND_LABELS = {
    "request": _l("对接申请"),
    "interest": _l("合作意向"),
    "registration": _l("培训报名"),
    "financing": _l("融资申请"),
}
STATUS_LABELS = {
    "requested": _l("待答复"),
    "accepted": _l("已接受"),
    "declined": _l("已婉拒"),
    "negotiating": _l("洽谈中"),
    "deal": _l("已成交"),
    "no_deal": _l("未达成合作"),
    "withdrawn": _l("已撤回"),
    "registered": _l("已报名"),
    "waitlisted": _l("候补中"),
    "cancelled": _l("已取消"),
    "completed": _l("已结业"),
}


SIZE_LABELS = {
    "large": _l("大型企业"),
    "medium": _l("中型企业"),
    "small": _l("小型企业"),
    "micro": _l("微型企业"),
}


def size_text(sizes: list[str]) -> str:
    """大型企业、中型企业 … in the current language."""
    return "、".join(str(SIZE_LABELS.get(size, size)) for size in sizes)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def status_label(status: str, kind: str = "") -> str:
    """The status in words; a financing deal reads 已获批."""
    if kind == "financing" and status == "deal":
        return _("已获批")
    return str(STATUS_LABELS.get(status, status))
