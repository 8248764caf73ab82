"""Asking for a sign-in link, a code by text or a password reset answers the same whether or not
the account exists: the page only queues a job, which looks the account up and sends. The
answers are compared byte for byte (the session's own CSRF token and cookie aside); the job
sends to the existing account and to nobody else."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from rq import Queue

from app.core.extensions import db
from app.core.redis_conn import get_redis
from app.models import Channel, LoginToken, OutboxMessage
from tests import factories as f

KNOWN_EMAIL, UNKNOWN_EMAIL = "known@family.example", "stranger@family.example"
KNOWN_MOBILE, UNKNOWN_MOBILE = "07700 900777", "07700 900778"
CLOCK_HEADERS = {"X-RateLimit-Reset", "Retry-After"}


def answer(response, *typed: str) -> tuple:
    """What a person (or someone probing) can see of a response: status, headers and body, less
    this browser's own CSRF token and session cookie, and with the address they typed masked."""
    body = re.sub(r'(csrf_token" value="|"X-CSRFToken": ")[^"]+', r"\1…", response.get_data(as_text=True))
    for each in typed:
        body = body.replace(each, "<typed>")
    # The clock's own headers (when the rate-limit window resets) may tick between two requests;
    # their presence is compared, their values are not.
    headers = sorted(
        (k, "…" if k in CLOCK_HEADERS else v) for k, v in response.headers.items() if k != "Set-Cookie"
    )
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie"))
    return response.status_code, headers, cookies, body


def queued_jobs(app) -> list:
    return Queue("default", connection=get_redis(app)).get_jobs()


def messages(channel: Channel) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.channel == channel).order_by(OutboxMessage.id)
    ).all()


def tokens() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LoginToken))


@pytest.mark.parametrize("path,channel", [("/auth/link", Channel.EMAIL), ("/auth/reset", Channel.EMAIL)])
def test_email_requests_answer_the_same_and_only_the_account_gets_mail(app, ctx, run_jobs, path, channel):
    parent = f.parent(email=KNOWN_EMAIL)
    known = app.test_client().post(path, data={"email": KNOWN_EMAIL})
    unknown = app.test_client().post(path, data={"email": UNKNOWN_EMAIL})
    assert known.status_code == 200
    assert answer(known, KNOWN_EMAIL) == answer(unknown, UNKNOWN_EMAIL)
    # Both only queued the same job, with the address and nothing secret; nothing made yet.
    jobs = queued_jobs(app)
    assert [(j.func_name, j.args[1]) for j in jobs] == [
        ("app.jobs.signin.send_sign_in_message", KNOWN_EMAIL),
        ("app.jobs.signin.send_sign_in_message", UNKNOWN_EMAIL),
    ]
    assert jobs[0].args[0] == jobs[1].args[0] and jobs[0].kwargs == jobs[1].kwargs
    assert tokens() == 0 and messages(channel) == []

    assert run_jobs() == 0  # the real worker
    (sent,) = messages(channel)
    assert sent.to == parent.email and "/auth/" in sent.text
    assert tokens() == 1


def test_a_code_request_answers_the_same_and_both_ask_for_the_code(app, ctx, run_jobs):
    parent = f.parent(mobile="+447700900777")
    answers, pages = [], []
    for mobile in (KNOWN_MOBILE, UNKNOWN_MOBILE):
        browser = app.test_client()
        r = browser.post("/auth/code", data={"mobile": mobile})
        assert r.status_code == 303 and r.headers["Location"] == "/auth/code/check"
        answers.append(answer(r, mobile))
        page = browser.get("/auth/code/check")
        assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
        pages.append(answer(page, mobile, "+44" + mobile[1:].replace(" ", "")))
    assert answers[0] == answers[1] and pages[0] == pages[1]
    assert tokens() == 0 and messages(Channel.SMS) == []

    assert run_jobs() == 0
    (text,) = messages(Channel.SMS)
    assert text.to == parent.mobile
    # The code in the text signs the parent in on the page that asked for it.
    browser = app.test_client()
    browser.post("/auth/code", data={"mobile": KNOWN_MOBILE})
    run_jobs()
    code = re.search(r"\b(\d{6})\b", messages(Channel.SMS)[-1].text).group(1)
    r = browser.post("/auth/code/check", data={"code": code})
    assert r.status_code == 303 and browser.get("/family/").status_code == 200


def test_the_job_for_an_unknown_account_sends_nothing_and_keeps_nothing(app, ctx, run_jobs):
    f.parent(email=KNOWN_EMAIL, mobile="+447700900777")
    client = app.test_client()
    client.post("/auth/link", data={"email": UNKNOWN_EMAIL})
    client.post("/auth/reset", data={"email": UNKNOWN_EMAIL})
    app.test_client().post("/auth/code", data={"mobile": UNKNOWN_MOBILE})
    assert len(queued_jobs(app)) == 3
    assert run_jobs() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert tokens() == 0
