"""Operators: the status page and /metrics, behind the operator's credentials."""

import json

import pytest

from tests.relay.conftest import OPERATOR_PASSWORD, OPERATOR_USER, email_bytes

OPERATOR = (OPERATOR_USER, OPERATOR_PASSWORD)


@pytest.mark.gen_test(timeout=30)
async def test_status_page_shows_boxes_pending_mail_and_failures(relay, tmp_path):
    goma = await relay.register("goma")
    relay.add_box("bukavu")
    raw = email_bytes("marie@goma.relay.test", subject="Waiting")
    await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
    answer = await goma.sync(outgoing={"size": 100})
    garbage = tmp_path / "garbage.pouch"
    garbage.write_bytes(b"this is not a pouch" * 5)
    await goma.transfer.upload(answer["upload"]["url"], garbage)
    rejected = (await goma.sync(uploaded=[answer["upload"]["name"]]))["rejected"]
    assert "not a readable pouch" in rejected[0]["error"]

    assert (await relay.request("/status", method="GET")).code == 401
    assert (await relay.request("/status", method="GET", auth=("ops", "wrong"))).code == 401
    page = (await relay.request("/status", method="GET", auth=OPERATOR)).body.decode()
    assert "goma" in page and "bukavu" in page and "awaiting registration" in page
    assert f"<td>1</td><td>{len(raw)}</td>" in page  # goma: one message, its bytes, pending
    assert answer["upload"]["name"] in page and "MPCH" in page  # the rejected upload and why


@pytest.mark.gen_test(timeout=30)
async def test_metrics_are_prometheus_text(relay, tmp_path):
    goma = await relay.register("goma")
    raw = email_bytes("marie@goma.relay.test")
    await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
    assert (await relay.request("/metrics", method="GET")).code == 401
    response = await relay.request("/metrics", method="GET", auth=OPERATOR)
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.body.decode()
    assert 'mailpouch_relay_pending_messages{box="goma"} 1' in text
    assert f'mailpouch_relay_pending_bytes{{box="goma"}} {len(raw)}' in text
    await goma.receive(tmp_path)
    text = (await relay.request("/metrics", method="GET", auth=OPERATOR)).body.decode()
    assert 'mailpouch_relay_pending_messages{box="goma"} 0' in text
    assert "# TYPE mailpouch_relay_inbound_messages_total counter" in text
