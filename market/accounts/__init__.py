"""Sign-in, sign-up, organizations, members and their mail."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.accounts import jobs, service, signup
    from market.accounts.views import auth, orgs
    from market.core import mail_queue

    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(orgs.bp, url_prefix="/orgs")
    mail_queue.register(app, "password_reset", service.password_reset_mail)
    mail_queue.register(app, "signup", signup.signup_mail)
    jobs.init_app(app)
