"""Signed tokens for links in mail: unsubscribe from the digest, renew a listing.

The links themselves are ``core.urls.absolute_url`` (no request needed).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

UNSUBSCRIBE_SALT = "digest-unsubscribe"
RENEW_SALT = "listing-renew"
RENEW_MAX_AGE = 45 * 86400  # a reminder's link outlives the listing's expiry by weeks


# --- unsubscribe ---------------------------------------------------------------------------


def unsubscribe_token(user_id: int) -> str:
    """Does not expire: a digest from months ago must still stop the digests."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(
        {"u": user_id}
    )


def user_id_from_unsubscribe(token: str) -> int | None:
    """The user the token was made for; None when it is forged or mangled."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).loads(
            token
        )
    except BadSignature:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    return user_id if isinstance(user_id, int) else None


# --- renew a listing -----------------------------------------------------------------------


def _due_key(due: date | datetime | None) -> str:
    return due.isoformat() if due is not None else ""


def renew_token(item_type: str, item_id: int, due: date | datetime | None) -> str:
    """Bound to the listing and the expiry it was mailed for: once the listing is
    renewed (its expiry moves), the link stops working, so it renews once."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RENEW_SALT).dumps(
        {"t": item_type, "i": item_id, "d": _due_key(due)}
    )


def read_renew_token(token: str) -> tuple[str, int, str] | None:
    """(item type, id, due key) of a valid, unexpired token; None otherwise."""
    try:
        data = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RENEW_SALT).loads(
            token, max_age=RENEW_MAX_AGE
        )
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    kind, item_id, due = data.get("t"), data.get("i"), data.get("d")
    if kind not in ("offering", "need") or not isinstance(item_id, int) or not isinstance(due, str):
        return None
    return kind, item_id, due


def due_key(due: date | datetime | None) -> str:
    return _due_key(due)
