"""Every write route refuses a request without a CSRF token, and changes nothing.

The routes come from ``app.url_map``, so a new route is covered the day it is added.
Each is called as a user the authorization matrix lets through, once without a token
(400, the Chinese message, nothing changed) and once with one (it goes through, and
changes what it changes), which shows the refusal came from the missing token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.app.route_matrix import (
    ANON,
    CSRF_MESSAGE,
    OK,
    ROUTES,
    WRITE_METHODS,
    Actor,
    Case,
    Site,
    build_url,
    csrf_token,
    differences,
    first_allowed,
    open_site,
    outcome,
)

API_BLUEPRINTS = ("api", "api-docs")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[Site]:
    with open_site(tmp_path_factory.mktemp("csrf"), database_url, WTF_CSRF_ENABLED=True) as built:
        yield built


def _write_rules(site: Site) -> list[tuple[str, str]]:
    """(endpoint, method) for every write method of every rule outside the API."""
    found = []
    for rule in site.app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in API_BLUEPRINTS:
            continue
        for method in sorted((rule.methods or set()) & set(WRITE_METHODS)):
            found.append((rule.endpoint, method))
    return sorted(found)


def test_the_json_api_has_no_write_methods_at_all(site: Site) -> None:
    """The API is exempt from CSRF because it only reads: keep it that way."""
    writes = [
        f"{rule.methods} {rule.rule}"
        for rule in site.app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in API_BLUEPRINTS
        and (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}
    ]
    api_rules = [r for r in site.app.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert api_rules, "the API's rules were not found"
    assert all(r.endpoint.split(".")[0] in API_BLUEPRINTS for r in api_rules)
    assert writes == []


def test_the_site_has_write_routes_to_check(site: Site) -> None:
    endpoints = {endpoint for endpoint, _method in _write_rules(site)}
    assert {
        "auth.login",
        "offerings.submit",
        "moderation.approve",
        "admin.disable_user",
    } <= endpoints


def _callers(site: Site, endpoint: str) -> list[tuple[Actor, Case]]:
    """A signed-in user the matrix lets through, and a visitor too where visitors may post."""
    callers = [first_allowed(site.world, endpoint, signed_in=True)]
    if any(case.expected == OK for case in ROUTES[endpoint].cases(site.world, ANON)):
        callers.append(first_allowed(site.world, endpoint, signed_in=False))
    return callers


def _send(
    site: Site, actor: Actor, endpoint: str, method: str, values: dict[str, str], token: str | None
) -> Any:
    spec = ROUTES[endpoint]
    data: dict[str, Any] = {}
    if spec.payload is not None:
        payload = spec.payload
        data = site.in_app(lambda: payload(site.world, actor, values))
    client = site.client(actor)
    if token is not None:
        data["csrf_token"] = token
    return client.open(build_url(site.app, endpoint, values), method=method, data=data)


def _check(site: Site, actor: Actor, endpoint: str, method: str, case: Case) -> list[str]:
    spec = ROUTES[endpoint]
    where = f"{method} {endpoint} as {actor.name}"
    values = site.in_app(case.fresh) if case.fresh is not None else case.values
    token = csrf_token(site.client(actor))
    site.changed()
    before = site.state()
    refused = _send(site, actor, endpoint, method, values, token=None)
    problems = []
    if refused.status_code != 400 or CSRF_MESSAGE not in refused.get_data(as_text=True):
        problems.append(f"{where} without a token: {refused.status_code}, not the CSRF refusal")
    changed = differences(before, _fresh_state(site))
    if changed:
        problems.append(f"{where} without a token changed {changed}")
    accepted = _send(site, actor, endpoint, method, values, token=token)
    if outcome(accepted) != OK:
        problems.append(f"{where} with a token: {accepted.status_code}, expected it to go through")
    elif spec.changes and not differences(before, _fresh_state(site)):
        problems.append(f"{where} with a token changed nothing")
    if spec.ends_session:
        site.visitors.forget(actor)
    return problems


def _fresh_state(site: Site) -> dict[str, Any]:
    site.changed()
    return site.state()


def test_every_write_route_rejects_a_missing_csrf_token(site: Site) -> None:
    problems: list[str] = []
    checked = 0
    for endpoint, method in _write_rules(site):
        assert endpoint in ROUTES, f"route {endpoint} is missing from the authorization matrix"
        for actor, case in _callers(site, endpoint):
            problems += _check(site, actor, endpoint, method, case)
            checked += 1
    assert problems == [], "\n".join(problems)
    assert checked >= len(_write_rules(site))


def test_a_stale_token_from_another_session_is_refused_too(site: Site) -> None:
    """A token is tied to its session: one lifted from another browser does not work."""
    stolen = csrf_token(site.app.test_client())
    member, case = first_allowed(site.world, "offerings.submit", signed_in=True)
    site.client(member)  # signed in before the snapshot (signing in adds a session row)
    values = site.in_app(case.fresh) if case.fresh else case.values
    site.changed()
    before = site.state()
    response = _send(site, member, "offerings.submit", "POST", values, token=stolen)
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert differences(before, _fresh_state(site)) == []
