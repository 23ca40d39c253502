"""Digest preferences (signed in), one-click unsubscribe and renew links (signed tokens)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from market.core.errors import DomainError
from market.core.extensions import csrf, db
from market.core.links import user_id_from_unsubscribe
from market.digest import forms
from market.digest import preferences as digest_prefs
from market.listings import expiry
from market.models import User

bp = Blueprint("digest", __name__)

ONE_CLICK = "One-Click"


def _crumbs(label: str) -> list[tuple[str, str | None]]:
    return [(_("我的账号"), url_for("auth.account")), (label, None)]


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> str | Response:
    user: User = current_user._get_current_object()
    settings = digest_prefs.get(user)
    form = forms.PreferencesForm(
        data={
            "frequency": settings.frequency,
            "kinds": list(settings.kinds),
            "language": settings.language,
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            digest_prefs.update(
                user,
                user,
                form.frequency.data or "",
                form.kinds.data or [],
                form.language.data or "",
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("周报设置已保存。"), "success")
            return redirect(url_for("digest.preferences"))
    return render_template("digest/preferences.html", form=form, breadcrumbs=_crumbs(_("周报设置")))


def _token_user(token: str) -> User | None:
    user_id = user_id_from_unsubscribe(token)
    return db.session.get(User, user_id) if user_id is not None else None


# RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" to the
# List-Unsubscribe URL with no cookie and no page, so no CSRF token can exist. The view
# is exempt from the global CSRF check on purpose, and safe: the signed token in the
# URL is what authorizes the change (only the mail's recipient has it), and the only
# thing the request can do is turn that user's digest off. A POST that is not the
# one-click body (the confirm page's own form) still gets the CSRF check below.
@csrf.exempt
@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> str | Response | tuple[str, int]:
    user = _token_user(token)
    if user is None:
        return render_template(
            "digest/unsubscribe.html", user=None, done=False, breadcrumbs=[(_("退订周报"), None)]
        ), 404
    if request.method == "GET":
        return render_template(
            "digest/unsubscribe.html",
            user=user,
            done=digest_prefs.get(user).frequency == "off",
            breadcrumbs=[(_("退订周报"), None)],
        )
    if request.form.get("List-Unsubscribe") != ONE_CLICK and current_app.config.get(
        "WTF_CSRF_ENABLED", True
    ):
        csrf.protect()
    digest_prefs.unsubscribe(user)
    db.session.commit()
    return render_template(
        "digest/unsubscribe.html", user=user, done=True, breadcrumbs=[(_("退订周报"), None)]
    )


@bp.route("/renew/<token>", methods=["GET", "POST"])
def renew(token: str) -> str | Response:
    item = expiry.listing_from_token(token)
    crumbs = [(_("续期"), None)]
    if request.method == "POST":
        try:
            expiry.renew_by_link(item)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            return _renew_page(item, True, crumbs)
    return _renew_page(item, False, crumbs)


def _renew_page(item: expiry.Listing, done: bool, crumbs: list[tuple[str, None]]) -> str:
    return render_template(
        "digest/renew.html",
        item=item,
        done=done,
        is_offering=expiry.item_type(item) == "offering",
        due=expiry.due_of(item),
        breadcrumbs=crumbs,
    )
