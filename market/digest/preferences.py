"""Digest preferences: weekly or off, which kinds of item, which language; unsubscribe."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from market.core import permissions
from market.core.errors import DomainError
from market.core.extensions import db
from market.models import DigestPreference, User, utcnow
from market.models.digest import DIGEST_FREQUENCIES, DIGEST_KINDS, DIGEST_LANGUAGES


@dataclass(frozen=True)
class Settings:
    """What a user's digest looks like (the defaults for a user without a row)."""

    frequency: str
    kinds: tuple[str, ...]
    language: str


def default_language(user: User) -> str:
    return user.locale if user.locale in DIGEST_LANGUAGES else "zh"


def settings_of(user: User, row: DigestPreference | None) -> Settings:
    if row is None:
        return Settings("weekly", DIGEST_KINDS, default_language(user))
    kinds = tuple(kind for kind in DIGEST_KINDS if kind in (row.kinds or []))
    return Settings(row.frequency, kinds, row.language)


def row_for(user: User) -> DigestPreference | None:
    return db.session.scalar(select(DigestPreference).where(DigestPreference.user_id == user.id))


def get(user: User) -> Settings:
    return settings_of(user, row_for(user))


def _ensure(user: User) -> DigestPreference:
    row = row_for(user)
    if row is None:
        row = DigestPreference(
            user_id=user.id,
            frequency="weekly",
            kinds=list(DIGEST_KINDS),
            language=default_language(user),
        )
        db.session.add(row)
    return row


def update(actor: User, user: User, frequency: str, kinds: Iterable[str], language: str) -> None:
    """Save ``user``'s settings; only the user themself may. Raises DomainError on bad values."""
    permissions.require(permissions.can_edit_digest_preferences(actor, user))
    chosen = [kind for kind in DIGEST_KINDS if kind in set(kinds)]
    if frequency not in DIGEST_FREQUENCIES:
        raise DomainError(_("请选择有效的发送频率。"))
    if language not in DIGEST_LANGUAGES:
        raise DomainError(_("请选择有效的语言。"))
    if frequency == "weekly" and not chosen:
        raise DomainError(_("每周发送时请至少选择一类内容；不想再收到请选择“不发送”。"))
    row = _ensure(user)
    row.frequency = frequency
    row.kinds = chosen
    row.language = language
    row.unsubscribed_at = None if frequency == "weekly" else row.unsubscribed_at


def unsubscribe(user: User) -> bool:
    """Turn the digest off (the signed link's holder asks); False if it was off already."""
    row = _ensure(user)
    if row.frequency == "off":
        return False
    row.frequency = "off"
    row.unsubscribed_at = utcnow()
    return True
