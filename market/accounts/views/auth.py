"""Sign-up, sign-in and out, passwords, invitations and the account page."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from market.accounts import service as accounts
from market.accounts import signup
from market.accounts.forms import auth as forms
from market.core.errors import DomainError
from market.core.extensions import db, limiter
from market.core.i18n import LOCALE_COOKIE
from market.core.logs import escape
from market.core.urls import safe_next
from market.models import User

bp = Blueprint("auth", __name__)
log = logging.getLogger("market.auth")


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _signup_limit() -> str:
    return str(current_app.config["SIGNUP_RATE_LIMIT"])


def _signup_accepted(response: Response) -> bool:
    """Only accepted sign-ups (each queues a mail) count: a form sent back with a typo
    costs nothing, a stream of accepted ones would mail-bomb the addresses typed."""
    return response.status_code == 302


def _login_failed(_response: Response) -> bool:
    """Only failed attempts count against the limit: a person who signs in is not throttled."""
    return bool(g.get("login_failed"))


def _clean(value: str | None, limit: int = 200) -> str:
    """A user-supplied value made safe for one log line: line breaks escaped, length capped."""
    return escape((value or "")[:limit])


def _login_throttled(_limit: RequestLimit) -> None:
    """Log the refused attempt: the 429 itself is rendered by the app's error handler."""
    log.warning(
        "login refused email=%s ip=%s reason=rate_limited",
        _clean(request.form.get("email")),
        _clean(request.remote_addr),
    )


def _rotate_csrf_token() -> None:
    """A new CSRF token from here on: one taken before signing in or out (by a page
    someone else prepared, or left in a shared browser) is refused after it."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(name, None)
    g.pop(name, None)


def _sign_in(user: User) -> None:
    accounts.open_session(user, request.remote_addr or "", request.user_agent.string or "")
    db.session.commit()
    login_user(user)
    _rotate_csrf_token()


def _home_of(user: User) -> str:
    return url_for("orgs.profile", ref=user.org.ref) if user.org else url_for("main.home")


# The function is not called signup: that name is the service module.
@bp.route("/signup", methods=["GET", "POST"], endpoint="signup")
@limiter.limit(_signup_limit, methods=["POST"], deduct_when=_signup_accepted)
def signup_view() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = forms.SignupForm()
    if form.validate_on_submit():
        try:
            row = signup.request_signup(
                name=form.name.data or "",
                email=form.email.data or "",
                password=form.password.data or "",
                org=form.details(form.kind.data or ""),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            # The same answer whether the address has an account or not: the mail differs.
            session["signup_email"] = row.email
            db.session.commit()
            return redirect(url_for("auth.signup_sent"))
    return render_template("auth/signup.html", form=form, breadcrumbs=[(_("注册"), None)])


@bp.get("/signup/sent")
def signup_sent() -> str:
    return render_template(
        "auth/signup_sent.html",
        email=session.get("signup_email"),
        hours=signup.SIGNUP_MAX_AGE // 3600,
        breadcrumbs=[(_("注册"), url_for("auth.signup")), (_("请查收邮件"), None)],
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, methods=["POST"], deduct_when=_login_failed, on_breach=_login_throttled
)
def confirm(token: str) -> Response | str | tuple[str, int]:
    """The mailed link: the password chosen at sign-up creates the account and signs in."""
    row = signup.open_signup(token)
    if row is None:
        hours = signup.SIGNUP_MAX_AGE // 3600
        return render_template("auth/confirm_invalid.html", hours=hours), 400
    form = forms.ConfirmSignupForm()
    if form.validate_on_submit():
        try:
            user = signup.activate(row, form.password.data or "")
        except accounts.LoginRefused as exc:
            db.session.rollback()
            _log_failure(row.email, exc.reason)
            form.password.errors = [exc.message]
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            _sign_in(user)
            session.pop("signup_email", None)
            flash(
                _("邮箱已确认，账号已开通。您的机构待平台管理员认证，认证前也可以发布信息。"),
                "success",
            )
            return redirect(_home_of(user))
    return render_template(
        "auth/confirm.html",
        form=form,
        signup_request=row,
        breadcrumbs=[(_("注册"), url_for("auth.signup")), (_("确认注册"), None)],
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, methods=["POST"], deduct_when=_login_failed, on_breach=_login_throttled
)
def login() -> Response | str:
    target = safe_next(request.args.get("next"), url_for("main.home"))
    if current_user.is_authenticated:
        return redirect(target)
    form = forms.LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data or "", form.password.data or "")
        except accounts.LoginRefused as exc:
            _log_failure(form.email.data, exc.reason)
            error = exc.message
        else:
            _sign_in(user)
            return redirect(target)
    elif request.method == "POST":
        _log_failure(form.email.data, "incomplete_form")
    return render_template(
        "auth/login.html", form=form, error=error, breadcrumbs=[(_("登录"), None)]
    )


def _log_failure(email: str | None, reason: str) -> None:
    """Count the attempt against the rate limit and leave one log line (never the password)."""
    g.login_failed = True
    log.warning(
        "login failed email=%s ip=%s reason=%s",
        _clean(email),
        _clean(request.remote_addr),
        reason,
    )


@bp.post("/logout")
@login_required
def logout() -> Response:
    accounts.revoke_session(current_user.current_session)
    db.session.commit()
    logout_user()
    _rotate_csrf_token()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("main.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response | str:
    user: User = current_user._get_current_object()
    form = forms.AccountForm(data={"name": user.name, "locale": user.locale or "zh"})
    if form.validate_on_submit():
        try:
            accounts.update_profile(user, form.name.data or "", form.locale.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("账号信息已保存。"), "success")
            response = make_response(redirect(url_for("auth.account")))
            # The language cookie outranks the saved preference, so keep the two in step.
            response.set_cookie(
                LOCALE_COOKIE,
                user.locale or "zh",
                max_age=365 * 24 * 3600,
                samesite="Lax",
                httponly=True,
            )
            return response
    return render_template(
        "auth/account.html",
        form=form,
        user=user,
        sessions=accounts.active_sessions(user),
        breadcrumbs=[(_("我的账号"), None)],
    )


@bp.post("/sessions/revoke")
@login_required
def sessions_revoke() -> Response:
    ended = accounts.revoke_other_sessions(current_user._get_current_object())
    db.session.commit()
    flash(_("已退出其他 %(n)d 处登录。", n=ended), "success")
    return redirect(url_for("auth.account"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str:
    user: User = current_user._get_current_object()
    form = forms.PasswordForm()
    if form.validate_on_submit():
        if not user.check_password(form.current.data or ""):
            form.current.errors = [_("当前密码不正确。")]
        else:
            accounts.change_password(user, form.password.data or "")
            db.session.commit()
            flash(_("密码已修改，其他设备上的登录已退出。"), "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/password.html",
        form=form,
        breadcrumbs=[(_("我的账号"), url_for("auth.account")), (_("修改密码"), None)],
    )


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot() -> Response | str:
    form = forms.ForgotForm()
    if form.validate_on_submit():
        # Queued for every address alike, sent after the response (see mail_queue): the
        # answer and its time must not reveal which emails have accounts.
        accounts.request_password_reset(form.email.data or "")
        db.session.commit()
        flash(_("如果该邮箱已注册，我们已向其发送重置密码的链接，2 小时内有效。"), "info")
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/forgot.html",
        form=form,
        breadcrumbs=[(_("登录"), url_for("auth.login")), (_("忘记密码"), None)],
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Response | str | tuple[str, int]:
    user = accounts.user_from_reset_token(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = forms.ResetForm()
    if form.validate_on_submit():
        accounts.reset_password(user, form.password.data or "")
        db.session.commit()
        flash(_("密码已重置，请使用新密码登录。"), "success")
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/reset.html", form=form, user=user, breadcrumbs=[(_("设置新密码"), None)]
    )


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Response | str:
    invitation = signup.open_invitation(token)
    if current_user.is_authenticated:
        return _join_invited(invitation)
    if accounts.find_by_email(invitation.email) is not None:
        flash(_("该邮箱已注册，请先登录，然后再次打开邀请链接。"), "info")
        return redirect(url_for("auth.login", next=request.path))
    form = forms.InvitedSignupForm()
    if form.validate_on_submit():
        try:
            user = signup.register_invited(
                invitation, name=form.name.data or "", password=form.password.data or ""
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            _sign_in(user)
            flash(_("欢迎加入 %(org)s。", org=invitation.org.name), "success")
            return redirect(_home_of(user))
    return _invite_page(form, invitation)


def _invite_page(form: FlaskForm, invitation: signup.Invitation) -> str:
    return render_template(
        "auth/accept_invite.html",
        form=form,
        invitation=invitation,
        breadcrumbs=[(_("接受邀请"), None)],
    )


def _join_invited(invitation: signup.Invitation) -> Response | str:
    """A signed-in person accepts: confirm on GET, join on POST."""
    form = forms.JoinForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()
        try:
            signup.join(user, invitation)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("main.home"))
        db.session.commit()
        flash(_("欢迎加入 %(org)s。", org=invitation.org.name), "success")
        return redirect(_home_of(user))
    return _invite_page(form, invitation)
