"""No input gets a 500: every route, malformed refs, query strings, forms and uploads.

Walks ``app.url_map`` as a visitor, a member and an admin: unknown and absurd refs in
the path, junk in every query parameter the site reads (very long, unicode, NUL, wrong
types, repeated), and forms that are empty, oversized, of the wrong types, carry extra
fields or unexpected files. Hypothesis adds generated query strings for the public
lists and generated login forms.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from tests.route_matrix import (
    ANON,
    OK,
    ROUTES,
    WRITE_METHODS,
    Actor,
    Site,
    actor_named,
    build_url,
    open_site,
    routed_endpoints,
    upload_form,
)

LONG = "x" * 9_990 + "长长长长长长长长长长"
JUNK = "\u202e💥\ufffd\u200b漢字<script>alert(1)</script>' OR 1=1 --%s{}\\"
NUL = "a\x00b"
# Path values: unknown refs, absurd lengths, unicode, NUL, characters routing may trip on.
JUNK_REFS = ("S-999999", LONG, JUNK, NUL, "%2F..%2F..", "-1")
# Every query parameter some page reads.
QUERY_NAMES = (
    "q",
    "kind",
    "category",
    "province",
    "park",
    "sort",
    "page",
    "per_page",
    "level",
    "zone_type",
    "status",
    "next",
    "role",
    "verified",
    "disabled",
    "query",
    "lang",
)
# Every form field some page posts.
FORM_NAMES = (
    "email",
    "password",
    "confirm",
    "current",
    "name",
    "locale",
    "lang",
    "next",
    "reason",
    "role",
    "kind",
    "category",
    "title",
    "summary",
    "description",
    "tags",
    "industries",
    "regions",
    "parks",
    "park",
    "price_min",
    "price_max",
    "price_unit",
    "amount_min",
    "amount_max",
    "rate_min",
    "rate_max",
    "term_months_max",
    "term_months",
    "eligible_sizes",
    "mode",
    "starts_on",
    "capacity",
    "certificate",
    "budget_min",
    "budget_max",
    "deadline",
    "amount",
    "org_name",
    "credit_code",
    "province",
    "city",
    "size",
    "save",
    "save_submit",
)
ACTOR_NAMES = ("anonymous", "member@solution_provider", "member@enterprise", "admin")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[Site]:
    with open_site(tmp_path_factory.mktemp("no500"), database_url) as built:
        yield built


@cache
def junk_queries() -> tuple[str, ...]:
    """The same for every page, so encoded once (the long ones take milliseconds)."""
    every = lambda value: urlencode({name: value for name in QUERY_NAMES})  # noqa: E731
    doubled = urlencode([(name, value) for name in QUERY_NAMES for value in ("solution", JUNK)])
    return (
        every(LONG),
        every(JUNK),
        every(NUL),
        "page=-1&per_page=1000000000&" + doubled,
        "page=abc&per_page=abc&page=2",
        f"page={10**30}&per_page={10**30}",
        "q=%FF%FE%C0%AF&kind=%E9",  # bytes that are not UTF-8
    )


def _every(value: Any) -> dict[str, Any]:
    return {name: value for name in FORM_NAMES}


# The form bodies that are the same for every route.
FIXED_JUNK_FORMS: tuple[dict[str, Any], ...] = (
    _every(LONG),
    _every(JUNK),
    _every(NUL),
    {**_every("abc"), "price_min": "-5", "deadline": "2026-02-31", "starts_on": "yesterday"},
    {name: ["1", "2", JUNK] for name in FORM_NAMES},
)


def junk_forms(valid: dict[str, Any]) -> list[dict[str, Any]]:
    """Form bodies: missing, extra, oversized, unicode, NUL, wrong types, repeated, files."""
    return [
        {},
        {**valid, "extra": "x", "id": "1", "org_id": "999999", "status": "published"},
        *FIXED_JUNK_FORMS,
    ]


@cache
def _encoded_fixed_forms() -> dict[int, dict[str, Any]]:
    """The fixed bodies as the test client encodes them, encoded once instead of per
    route (the oversized one is 450 kB of percent-encoding): the same bytes and headers."""
    encoded = {}
    for form in FIXED_JUNK_FORMS:
        environ = EnvironBuilder(method="POST", data=form).get_environ()
        body = environ["wsgi.input"].read()
        encoded[id(form)] = {"data": body, "content_type": environ["CONTENT_TYPE"]}
    return encoded


def form_request(body: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``client.open`` that send ``body`` as a form."""
    return dict(_encoded_fixed_forms().get(id(body)) or {"data": body})


def junk_uploads(valid: dict[str, Any]) -> list[dict[str, Any]]:
    """Multipart bodies with files nobody asked for, also under the names of text fields."""
    return [
        {
            **valid,
            "file": (io.BytesIO(b"\x00\xff\xfe junk, not a spreadsheet"), "payload.xlsx"),
            "avatar": (io.BytesIO(b"MZ\x90\x00"), "virus.exe"),
        },
        {
            **valid,
            **{name: (io.BytesIO(b"a file where text belongs"), "x.txt") for name in FORM_NAMES},
        },
    ]


# JSON where a form is expected: objects with nested values, arrays, scalars, broken JSON.
JUNK_JSON = (
    json.dumps({name: {"nested": [1, None]} for name in FORM_NAMES}),
    json.dumps([1, 2, 3]),
    "{not json",
)


def _valid_values(site: Site, actor: Actor, endpoint: str) -> dict[str, str]:
    """URL values naming real records, preferably ones the actor may act on."""
    assert endpoint in ROUTES, f"route {endpoint} is missing from the authorization matrix"
    cases = ROUTES[endpoint].cases(site.world, actor) or ROUTES[endpoint].cases(site.world, ANON)
    allowed = [case for case in cases if case.expected == OK]
    return (allowed or cases)[0].values


def _payload(site: Site, actor: Actor, endpoint: str, values: dict[str, str]) -> dict[str, Any]:
    payload = ROUTES[endpoint].payload
    if payload is None:
        return {}
    return dict(site.in_app(lambda: payload(site.world, actor, values)))


def _send(site: Site, actor: Actor, method: str, url: str, data: Any = None, **kwargs: Any) -> int:
    response = site.client(actor).open(url, method=method, data=data, **kwargs)
    if url.startswith("/auth/logout"):
        site.visitors.forget(actor)  # signed out: sign in again for the next request
    return response.status_code


def _junk_path_urls(site: Site, endpoint: str, values: dict[str, str]) -> list[str]:
    if not values:
        return []
    return [build_url(site.app, endpoint, {name: ref for name in values}) for ref in JUNK_REFS]


# One attempt: a URL and a function making its request body (files are single-use).
Attempt = tuple[str, Callable[[], dict[str, Any]]]


def _attempts(
    site: Site, actor: Actor, endpoint: str, method: str, junk_path: bool
) -> list[Attempt]:
    """What to send to one route and method; ``junk_path`` adds absurd refs in the URL."""
    values = _valid_values(site, actor, endpoint)
    url = build_url(site.app, endpoint, values)
    nothing: Callable[[], dict[str, Any]] = dict
    attempts: list[Attempt] = []
    if junk_path:
        attempts += [(junk, nothing) for junk in _junk_path_urls(site, endpoint, values)]
    if method not in WRITE_METHODS:
        return attempts + [(f"{url}?{query}", nothing) for query in junk_queries()]

    def valid() -> dict[str, Any]:
        return _payload(site, actor, endpoint, values)

    def form_body(index: int, maker: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> Attempt:
        return url, lambda: form_request(maker(valid())[index])

    attempts += [form_body(i, junk_forms) for i in range(len(junk_forms({})))]
    attempts += [form_body(i, junk_uploads) for i in range(len(junk_uploads({})))]
    # NUL in a multipart body without files (what curl -F sends).
    nul_form = {name: NUL for name in FORM_NAMES}
    attempts.append((url, lambda: {"data": nul_form, "content_type": "multipart/form-data"}))
    attempts += [
        (url, lambda body=body: {"data": body, "content_type": "application/json"})  # type: ignore[misc]
        for body in JUNK_JSON
    ]
    # Pages that post read their query string too (next=…): the long and the junk one.
    attempts += [(f"{url}?{query}", lambda: {"data": valid()}) for query in junk_queries()[:2]]
    return attempts


def _errors(site: Site, actor: Actor) -> list[str]:
    errors = []
    for endpoint, methods in routed_endpoints(site.app):
        for method in methods:
            # One loader serves all of a route's methods: absurd refs once per route do.
            junk_path = method == methods[0]
            for url, body in _attempts(site, actor, endpoint, method, junk_path):
                status = _send(site, actor, method, url, **body())
                if status >= 500:
                    shown = url if len(url) < 200 else url[:200] + "…"
                    errors.append(f"{method} {endpoint} as {actor.name}: {status} for {shown}")
    return errors


@pytest.mark.parametrize("name", ACTOR_NAMES)
def test_no_route_answers_malformed_input_with_a_server_error(site: Site, name: str) -> None:
    assert _errors(site, actor_named(name)) == []


def test_a_body_over_the_size_limit_is_refused_cleanly(site: Site) -> None:
    big = io.BytesIO(b"x" * (site.app.config["MAX_CONTENT_LENGTH"] + 1))
    member = actor_named("member@solution_provider")
    status = _send(site, member, "POST", "/offerings/upload", {"file": (big, "big.csv")})
    assert status == 413


# Regressions: each of these was a 500 before the input guard and the park directory
# were fixed (found by the walk above).


def test_a_json_body_on_a_page_gets_a_clear_400_and_changes_nothing(site: Site) -> None:
    member = actor_named("member@solution_provider")
    before = site.state()
    response = site.client(member).post(
        "/offerings/new", data=json.dumps([1, 2]), content_type="application/json"
    )
    assert response.status_code == 400
    assert "只接受表单提交" in response.get_data(as_text=True)
    site.changed()
    assert site.state()["offerings"] == before["offerings"]


def test_a_file_in_a_text_field_gets_a_clear_400_and_signs_nobody_up(site: Site) -> None:
    before = site.state()
    response = site.client(ANON).post(
        "/auth/signup",
        data={"email": (io.BytesIO(b"x"), "email.txt"), "name": "张三", "password": "x" * 12},
    )
    assert response.status_code == 400
    assert "不接受文件上传" in response.get_data(as_text=True)
    site.changed()
    assert site.state()["users"] == before["users"]


def test_the_upload_page_still_takes_its_spreadsheet(site: Site) -> None:
    member = actor_named("member@solution_provider")
    form = site.in_app(lambda: upload_form(site.world, member, {}))
    response = site.client(member).post("/offerings/upload", data=form)
    site.changed()
    assert response.status_code == 302
    assert "/offerings/mine" in response.headers["Location"]


def test_nul_in_a_multipart_form_gets_a_clear_400(site: Site) -> None:
    response = site.client(ANON).post(
        "/auth/login",
        data={"email": "a\x00@example.com", "password": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "空字符" in response.get_data(as_text=True)


def test_a_huge_page_number_in_the_park_directory_shows_a_page(site: Site) -> None:
    response = site.client(ANON).get(f"/parks/?page={10**30}")
    assert response.status_code == 200
    assert "园区A" in response.get_data(as_text=True)


HYPOTHESIS = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
QUERY_PARAMS = st.lists(
    st.tuples(st.sampled_from(QUERY_NAMES) | st.text(max_size=8), st.text(max_size=40)),
    max_size=6,
)
LIST_PAGES = ("/offerings/", "/needs/", "/parks/")


@HYPOTHESIS
@given(page=st.sampled_from(LIST_PAGES), params=QUERY_PARAMS)
def test_public_lists_never_fail_on_generated_query_strings(
    site: Site, page: str, params: list[tuple[str, str]]
) -> None:
    query = "&".join(f"{quote(key)}={quote(value)}" for key, value in params)
    assert _send(site, ANON, "GET", f"{page}?{query}") < 500


@settings(HYPOTHESIS, max_examples=25)  # each unknown email costs a real password check
@given(
    email=st.text(max_size=300),
    password=st.text(max_size=300),
    extra=st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=50), max_size=3),
    next_url=st.text(max_size=100),
)
def test_the_login_form_never_fails_on_generated_input(
    site: Site, email: str, password: str, extra: dict[str, str], next_url: str
) -> None:
    data = {**extra, "email": email, "password": password}
    url = f"/auth/login?{urlencode({'next': next_url})}"
    assert _send(site, ANON, "POST", url, data) < 500
