"""No input gets a 500: every route, malformed refs, query strings, forms and uploads.

Walks ``app.url_map`` as a visitor, a member and an admin: unknown and absurd refs in
the path, junk in every query parameter the site reads (very long, unicode, NUL, wrong
types, repeated), and forms that are empty, oversized, of the wrong types, carry extra
fields or unexpected files. Hypothesis adds generated query strings for the public
lists, generated login forms, and generated values of each field's type on every form
of the route matrix (integers to 2**70, dates from year 1 to 9999, NUL, direction marks,
10,000-character text).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from tests.app.route_matrix import (
    ANON,
    OK,
    ROUTES,
    WRITE_METHODS,
    Actor,
    Case,
    Site,
    actor_named,
    build_url,
    first_allowed,
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


# --- Form fuzzing: generated values per field type on every form of the route matrix ---------
#
# Each example keeps the form's valid payload and replaces one or two fields with a value
# of that field's type drawn from the edges that break databases: integers up to 2**70 and
# below zero (past the 32- and 64-bit columns), dates from year 1 to 9999, NUL, direction
# marks, control characters, 10,000-character text. With the other fields valid, a value
# the form lets through reaches the database, where an overflow shows as a 500.

INTEGER_FIELDS = frozenset(
    {
        "price_min",
        "price_max",
        "amount_min",
        "amount_max",
        "term_months_max",
        "term_months",
        "capacity",
        "budget_min",
        "budget_max",
        "amount",
        "amount_sought",
    }
)
NUMBER_FIELDS = frozenset({"rate_min", "rate_max"})
DATE_FIELDS = frozenset({"starts_on", "deadline"})
DATETIME_FIELDS = frozenset({"when"})
# Fields a form has that its valid payload leaves empty.
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "offerings.new": (
        "price_min",
        "price_max",
        "amount_min",
        "amount_max",
        "rate_min",
        "rate_max",
        "term_months_max",
        "starts_on",
        "capacity",
        "certificate",
        "price_unit",
    ),
    "needs.new": ("amount", "term_months"),
    "docking.new": ("amount_sought",),
}
# Forms whose fields depend on who fills them in: the offering form of each kind.
FUZZ_ACTORS: dict[str, tuple[str, ...]] = {
    "offerings.new": (
        "member@solution_provider",
        "member@financial_institution",
        "member@training_body",
    ),
}
EDGE_INTEGERS = (0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 2**70, -(2**31) - 1, -(2**70))
SPECIAL_CHARACTERS = (
    "\x00",
    "\u200f",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\r",
    "\n",
    "\x1b",
    "\x7f",
    "😀",
)
SPECIAL_TEXT = (*SPECIAL_CHARACTERS, "\r\n", "\x1b[2J", " ", "")
integers = st.sampled_from(EDGE_INTEGERS) | st.integers(-(2**70), 2**70)
dates = st.dates(date(1, 1, 1), date(9999, 12, 31))
texts = (
    st.text(st.characters(codec="utf-8") | st.sampled_from(SPECIAL_CHARACTERS), max_size=40)
    | st.builds(
        lambda piece, length: (piece * length)[:length],
        st.sampled_from(("x", "长", "😀", "\u200f园区")),
        st.sampled_from((33, 201, 501, 10_000)),
    )
    | st.sampled_from(SPECIAL_TEXT)
)
STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "integer": integers.map(str),
    "number": integers.map(str)
    | st.floats().map(repr)
    | st.sampled_from(("1e400", "nan", "-inf", "0.0001", "99.9999", "1e-7")),
    "date": dates.map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    "datetime": st.tuples(dates, st.integers(0, 23), st.integers(0, 59)).map(
        lambda t: f"{t[0].year:04d}-{t[0].month:02d}-{t[0].day:02d}T{t[1]:02d}:{t[2]:02d}"
    ),
    "text": texts,
    "list": st.lists(texts, max_size=3),
}
# Bounded so the module stays about a minute on two cores (~500 requests in all).
FORM_EXAMPLES = 8


def field_type(name: str, valid: Any) -> str:
    """The kind of value a field takes: by its name, else by what its valid value looks like."""
    for names, kind in (
        (INTEGER_FIELDS, "integer"),
        (NUMBER_FIELDS, "number"),
        (DATE_FIELDS, "date"),
        (DATETIME_FIELDS, "datetime"),
    ):
        if name in names:
            return kind
    if isinstance(valid, list):
        return "list"
    try:
        float(str(valid))
    except ValueError:
        return "text"
    return "number"


def fuzzed_forms(site: Site) -> list[tuple[str, Actor, Case]]:
    """(endpoint, actor, case) for every form the route matrix fills in, as someone allowed."""
    out = []
    for endpoint, spec in sorted(ROUTES.items()):
        if spec.payload is None or endpoint == "offerings.upload":  # the upload takes a file
            continue
        names = FUZZ_ACTORS.get(endpoint)
        if names is None:
            actor, case = first_allowed(site.world, endpoint)
            out.append((endpoint, actor, case))
            continue
        for name in names:
            actor = actor_named(name)
            case = next(c for c in spec.cases(site.world, actor) if c.expected == OK)
            out.append((endpoint, actor, case))
    return out


# The values that overflowed a column or a date calculation, tried on every typed field
# before the generated ones: 32-bit (PostgreSQL), 64-bit (SQLite), year 1 and 9999.
EDGE_VALUES: dict[str, tuple[str, ...]] = {
    "integer": (str(2**31), str(2**63), str(-(2**63) - 1)),
    "number": (str(2**63), "1e400", "nan"),
    "date": ("0001-01-01", "9999-12-31"),
    "datetime": ("0001-01-01T00:00", "9999-12-31T23:59"),
}


def fuzz_form(site: Site, endpoint: str, actor: Actor, case: Case, examples: int) -> None:
    """Post generated bodies to one form; fails (naming the body) on a 5xx.

    First EDGE_VALUES on every typed field, one field at a time; then Hypothesis draws
    ``examples`` bodies with one or two fields replaced (typed fields drawn half the
    time, as they are the ones a database can overflow on).
    """
    methods = dict(routed_endpoints(site.app))[endpoint]
    method = next(m for m in methods if m in WRITE_METHODS)

    def send(replace: Callable[[dict[str, Any], list[str]], dict[str, Any]]) -> None:
        values = site.in_app(case.fresh) if case.fresh is not None else case.values
        valid = _payload(site, actor, endpoint, values)
        fields = sorted({*valid, *EXTRA_FIELDS.get(endpoint, ())})
        body = {**valid, **replace(valid, fields)}
        site.changed()
        status = _send(site, actor, method, build_url(site.app, endpoint, values), body)
        changed = {k: v if len(str(v)) < 80 else f"{str(v)[:80]}…" for k, v in body.items()}
        assert status < 500, f"{method} {endpoint} as {actor.name}: {status} for {changed}"

    probe = _payload(site, actor, endpoint, case.values)
    for name in sorted({*probe, *EXTRA_FIELDS.get(endpoint, ())}):
        for value in EDGE_VALUES.get(field_type(name, probe.get(name)), ()):
            send(lambda valid, fields, name=name, value=value: {name: value})  # type: ignore[misc]

    @settings(
        derandomize=True,
        database=None,
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def post(data: st.DataObject) -> None:
        def replace(valid: dict[str, Any], fields: list[str]) -> dict[str, Any]:
            kinds = {name: field_type(name, valid.get(name)) for name in fields}
            typed = [name for name in fields if kinds[name] not in ("text", "list")]
            pick = (
                st.sampled_from(typed) | st.sampled_from(fields)
                if typed
                else st.sampled_from(fields)
            )
            chosen = data.draw(st.lists(pick, min_size=1, max_size=2, unique=True))
            return {name: data.draw(STRATEGIES[kinds[name]], label=name) for name in chosen}

        send(replace)

    post()


def test_no_form_fails_on_generated_values_of_its_field_types(site: Site) -> None:
    for endpoint, actor, case in fuzzed_forms(site):
        fuzz_form(site, endpoint, actor, case, FORM_EXAMPLES)
