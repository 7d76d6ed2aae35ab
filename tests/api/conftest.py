"""A real box server with the JSON API mounted, users with API tokens, mail to read."""

import pytest
import requests

from appliance.store import tokens, users
from pouch.records import MessageRecord
from tests.appliance.conftest import (  # noqa: F401 (fixtures)
    DOMAIN, box_settings, box_url, client, compiled_catalogues, engine, make_user, store)


@pytest.fixture
def api_url(box_url):
    return box_url + "/api"


class Api(requests.Session):
    """An API client as the sync-engine's SDKs are: the token as HTTP Basic username."""

    def __init__(self, base_url, token, bearer=False):
        super().__init__()
        self.base_url = base_url
        if bearer:
            self.headers["Authorization"] = f"Bearer {token}"
        else:
            self.auth = (token, "")

    def request(self, method, path, *args, **kwargs):
        kwargs.setdefault("timeout", 20)
        return super().request(method, self.base_url + path, *args, **kwargs)

    def ok(self, method, path, **kwargs):
        response = self.request(method, path, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()


@pytest.fixture
def api(api_url, make_user, store):
    """``api(name)``: a client with a fresh token of user ``name`` (made on first use)."""
    sessions = []

    def make(name, bearer=False):
        with store.read() as conn:
            user = users.find_by_email(conn, f"{name}@{DOMAIN}")
        user = user or make_user(name)
        with store.write() as conn:
            token = tokens.create(conn, user["id"], "tests")
        session = Api(api_url, token, bearer)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def receive(store):
    """Deliver mail from outside to users of the box, as a pouch from the relay would."""
    counter = iter(range(1, 10**6))

    def deliver(to, subject, date, sender=("Outside", "out@example.org"), cc=(), body="Hello",
                references=(), attachments=(), blobs=None):
        number = next(counter)
        record = MessageRecord(
            id=f"relay-{number}", from_=[sender], to=[(n.title(), f"{n}@{DOMAIN}") for n in to],
            cc=list(cc), subject=subject, date=date, message_id=f"m{number}@example.org",
            references=list(references), in_reply_to=references[-1] if references else None,
            body=body, attachments=list(attachments), recipients=[f"{n}@{DOMAIN}" for n in to])
        store.deliver_incoming(record, blobs or {})
        return f"m{number}@example.org"
    return deliver
