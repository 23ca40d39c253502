"""Every route of the URL map, for every role, against own and foreign records.

The table lives in tests/app/route_matrix.py; a route missing from it fails here by name.
Refused writes must leave every table (and the mail outbox) exactly as it was; allowed
writes, run on disposable records, must change something, which shows that the payload
a refused request carried would have done harm had the check been missing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.route_matrix import (
    ACTORS,
    ANON,
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    ROUTES,
    WRITE_METHODS,
    Actor,
    AdminTarget,
    Case,
    ListingView,
    Moderate,
    Site,
    actor_named,
    build_url,
    differences,
    missing_from_table,
    open_site,
    outcome,
    routed_endpoints,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[Site]:
    with open_site(tmp_path_factory.mktemp("matrix"), database_url) as built:
        yield built


def test_every_route_in_the_url_map_is_in_the_authorization_matrix(site: Site) -> None:
    assert missing_from_table(site.app) == []


def test_the_matrix_names_no_route_the_site_does_not_have(site: Site) -> None:
    routed = {endpoint for endpoint, _methods in routed_endpoints(site.app)}
    assert sorted(set(ROUTES) - routed) == []


def test_the_matrix_refuses_foreign_organizations_every_write(site: Site) -> None:
    """The table itself: on records of another side, only admins (and moderators of
    that park, which side "b" never is for the actors) get through a write route."""
    wrong = []
    for endpoint, methods in routed_endpoints(site.app):
        if not set(methods) & set(WRITE_METHODS):
            continue
        spec = ROUTES[endpoint]
        for actor in ACTORS:
            for case in spec.cases(site.world, actor):
                if not case.label.startswith("foreign") or actor.role == "admin":
                    continue
                if type(spec).__name__ in ("Token", "PublicRecords"):
                    continue
                allowed = (LOGIN,) if not actor.signed_in else (FORBIDDEN, NOT_FOUND)
                if case.expected not in allowed:
                    wrong.append(f"{endpoint} {actor.name} {case.label}: {case.expected}")
    assert wrong == []


def test_visitors_are_sent_to_login_by_every_write_route_but_the_public_ones(site: Site) -> None:
    public_writes = {
        "main.set_language",
        "auth.login",
        "auth.signup",
        "auth.confirm",
        "auth.forgot",
        "auth.reset",
        "auth.accept_invite",
        # digest: links mailed to someone (one-click unsubscribe, renew a listing)
        "digest.unsubscribe",
        "digest.renew",
    }
    wrong = []
    for endpoint, methods in routed_endpoints(site.app):
        if not set(methods) & set(WRITE_METHODS) or endpoint in public_writes:
            continue
        for case in ROUTES[endpoint].cases(site.world, ANON):
            response = site.visitors.client(ANON).post(build_url(site.app, endpoint, case.values))
            if outcome(response) != LOGIN:
                wrong.append(f"{endpoint}: {response.status_code}")
    assert wrong == []


def _request(site: Site, actor: Actor, endpoint: str, method: str, case: Case) -> str | None:
    """Send one request of the matrix; a description of what went wrong, or None."""
    spec = ROUTES[endpoint]
    values = case.values
    write = method in WRITE_METHODS
    if write and case.expected == OK and case.fresh is not None:
        values = site.in_app(case.fresh)
        site.changed()
    data = {}
    if write and spec.payload is not None:
        payload = spec.payload
        data = site.in_app(lambda: payload(site.world, actor, values))
    client = site.client(actor)
    before = site.state() if write else None
    url = build_url(site.app, endpoint, values)
    response = client.open(url, method=method, data=data)
    got = outcome(response)
    where = f"{method} {endpoint} as {actor.name} on {case.label} record ({url})"
    if spec.ends_session and actor.signed_in:
        site.visitors.forget(actor)
    if not write:
        return None if got == case.expected else f"{where}: expected {case.expected}, got {got}"
    site.changed()
    after = site.state()
    assert before is not None
    changed = differences(before, after)
    if got != case.expected:
        return f"{where}: expected {case.expected}, got {got}" + (
            f" and changed {changed}" if changed and case.expected != OK else ""
        )
    if case.expected != OK and changed:
        return f"{where}: refused ({got}) but changed {changed}"
    if case.expected == OK and spec.changes and not changed:
        return f"{where}: allowed but changed nothing (is the payload valid?)"
    if case.expected != OK:
        site.changed(after)
    return None


@pytest.mark.parametrize("actor", ACTORS, ids=[actor.name for actor in ACTORS])
def test_every_route_answers_each_role_as_the_matrix_says(site: Site, actor: Actor) -> None:
    problems = []
    for endpoint, methods in routed_endpoints(site.app):
        spec = ROUTES.get(endpoint)
        if spec is None:
            continue  # reported by the completeness test, by name
        for method in methods:
            for case in spec.cases(site.world, actor):
                problem = _request(site, actor, endpoint, method, case)
                if problem:
                    problems.append(problem)
    assert problems == [], "\n".join(problems)


def test_the_matrix_covers_drafts_moderation_and_admin_targets(site: Site) -> None:
    """Guard against a table that only looks complete: the hidden states and the
    role-limited write routes are really in it."""
    kinds = {type(spec) for spec in ROUTES.values()}
    assert {ListingView, Moderate, AdminTarget} <= kinds
    for endpoint, owner in (
        ("offerings.detail", "member@solution_provider"),
        ("needs.detail", "member@enterprise"),
    ):
        labels = {case.label for case in ROUTES[endpoint].cases(site.world, actor_named(owner))}
        assert {"own draft", "own pending", "foreign draft", "foreign expired"} <= labels
    stranger = ROUTES["needs.submit"].cases(site.world, actor_named("member@solution_provider"))
    assert [case.label for case in stranger] == ["own-side (another org's)", "foreign"]
