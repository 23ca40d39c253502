"""The matching weights in force: the admin's override in the database, else the file.

``seed_data/matching/weights.json`` holds the defaults; an admin's edit is stored in
the ``match_settings`` row and applies at the next recompute (and at once to the
display threshold, which is applied when recommendations are read).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.core import permissions
from market.core.errors import DomainError
from market.core.extensions import db
from market.models import MatchSettings, utcnow
from matching import Weights, load_weights
from matching.weights import SOFT_RULES

SETTINGS_ID = 1
MAX_TOTAL = 100.0  # scores are promised on a 0–100 scale (interfaces.md)


def _session(session: Session | None) -> Session:
    return session if session is not None else cast(Session, db.session)


def defaults() -> Weights:
    """The shipped weights (seed_data/matching/weights.json)."""
    return load_weights()


def current(session: Session | None = None) -> Weights:
    """The admin's weights when set, else the defaults."""
    row = _session(session).scalar(select(MatchSettings).where(MatchSettings.id == SETTINGS_ID))
    if row is None:
        return defaults()
    try:
        return Weights.from_dict({"threshold": row.threshold, "weights": dict(row.weights or {})})
    except ValueError:
        # A row written by hand that no longer validates must not break every page.
        return defaults()


def override(session: Session | None = None) -> MatchSettings | None:
    return _session(session).scalar(select(MatchSettings).where(MatchSettings.id == SETTINGS_ID))


def validate(threshold: Any, weights: Mapping[str, Any]) -> Weights:
    """Weights from an admin's form values.

    Raises:
        DomainError: a value is missing, not a number, negative or above 100, a rule is
            unknown, or the weights add up to 0 or to more than 100 (the message is
            in Chinese and names the field).
    """
    values: dict[str, float] = {}
    for name, raw in (("threshold", threshold), *((r, weights.get(r)) for r in SOFT_RULES)):
        label = _("显示阈值") if name == "threshold" else name
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise DomainError(_("%(field)s 必须是数字。", field=label)) from None
        if not math.isfinite(value) or value < 0 or value > 100:
            raise DomainError(_("%(field)s 必须在 0 到 100 之间。", field=label))
        values[name] = value
    unknown = sorted(set(weights) - set(SOFT_RULES))
    if unknown:
        raise DomainError(_("未知的规则：%(rule)s。", rule=unknown[0]))
    total = sum(values[r] for r in SOFT_RULES)
    if total <= 0:
        raise DomainError(_("权重之和必须大于 0。"))
    if total > MAX_TOTAL:
        raise DomainError(
            _("权重之和不能超过 100（当前为 %(total)s），否则分数会超过 100。", total=f"{total:g}")
        )
    return Weights.from_dict(
        {"threshold": values["threshold"], "weights": {r: values[r] for r in SOFT_RULES}}
    )


def save(user: Any, weights: Weights) -> MatchSettings:
    """Store ``weights`` as the platform's (admins only); the caller commits.

    Raises:
        PermissionDenied: the user is not a platform admin.
    """
    permissions.require(permissions.can_tune_matching(user), _("只有平台管理员可以调整匹配权重。"))
    row = override()
    if row is None:
        row = MatchSettings(id=SETTINGS_ID)
        db.session.add(row)
    row.threshold = float(weights.threshold)
    row.weights = {r: float(weights.of(r)) for r in SOFT_RULES}
    row.updated_at = utcnow()
    row.updated_by_id = getattr(user, "id", None)
    return row


def restore_defaults(user: Any) -> MatchSettings:
    """Store the file's weights again (admins only); the caller commits."""
    return save(user, defaults())
