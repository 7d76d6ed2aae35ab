"""Operator pages: GET /status (HTML) and GET /metrics (Prometheus text), both
behind the operator's credentials."""

import asyncio
import collections
import time

import tornado.web

from relay import report
from relay.accounts import registry as accounts
from relay.spam import scoring
from relay.web.base import check_basic_auth


class OperatorHandler(tornado.web.RequestHandler):
    def prepare(self):
        operator = self.settings["relay"].operator
        check_basic_auth(self, operator.user, operator.password)

    async def snapshot(self):
        silent_after_s = self.settings["relay"].operator.silent_after_hours * 3600
        return await asyncio.to_thread(snapshot, self.settings["engine"], silent_after_s, self.settings["relay"].spam)


class StatusHandler(OperatorHandler):
    async def get(self):
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.render("status.html", report=await self.snapshot(), when=report.when, box_state=report.box_state,
                    domain=self.settings["relay"].relay.domain)


class MetricsHandler(OperatorHandler):
    async def get(self):
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.write(metrics_text(await self.snapshot()))


def snapshot(engine, silent_after_s, spam=None):
    """``spam``: [spam] settings, whose spamd is asked whether it answers (None: not asked)."""
    found = report.snapshot(engine)
    found["spamd"] = scoring.state(spam) if spam is not None else "off"
    now = time.time()
    silent = {box["name"] for box in found["boxes"] if report.silent(box, now, silent_after_s)}
    return dict(found, accounts=accounts.overview(engine), silent=silent, silent_after_s=silent_after_s)


def metrics_text(snapshot):
    lines = []

    def metric(name, kind, help_text, samples):
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])
        lines.extend(f"{name}{labels} {value}" for labels, value in samples)

    boxes = snapshot["boxes"]
    metric("mailpouch_relay_boxes", "gauge", "Boxes known to the relay.", [("", len(boxes))])
    metric("mailpouch_relay_inbound_messages_total", "counter", "Inbound messages stored.",
           [("", snapshot["inbound"])])
    metric("mailpouch_relay_kept_messages", "gauge", "Inbound messages kept whole (not yet cleared).",
           [("", snapshot["kept"][0])])
    metric("mailpouch_relay_kept_bytes", "gauge", "Bytes of raw inbound mail kept.", [("", snapshot["kept"][1])])
    metric("mailpouch_relay_pending_messages", "gauge", "Messages waiting for a box's ack.",
           [(_box(box), box["pending"]) for box in boxes])
    metric("mailpouch_relay_pending_bytes", "gauge", "Bytes of raw mail waiting for a box's ack.",
           [(_box(box), box["pending_bytes"]) for box in boxes])
    metric("mailpouch_relay_quarantined_messages", "gauge", "Messages set aside until an operator retries or drops them.",
           [(_box(box), box["quarantined"]) for box in boxes])
    metric("mailpouch_relay_held_messages", "gauge", "Messages held on the relay as spam (kept, not brought).",
           [(_box(box), snapshot["held"].get(box["name"], 0)) for box in boxes])
    metric("mailpouch_relay_spamd_up", "gauge", "1 when spamd answers; 0 when it is missing or off, and only "
           "mail SendGrid scored (spam_score) is scored.", [("", int(snapshot["spamd"] == "answering"))])
    metric("mailpouch_relay_last_sync_timestamp_seconds", "gauge", "When each box last synced.",
           [(_box(box), box["last_sync_at"] or 0) for box in boxes])
    metric("mailpouch_relay_box_silent", "gauge", "1 when a registered box has not synced for [operator] "
           "silent_after_hours.", [(_box(box), int(box["name"] in snapshot["silent"])) for box in boxes])
    metric("mailpouch_relay_outbound_messages", "gauge", "Outbound messages by state.",
           [(f'{{state="{state}"}}', count) for state, count in sorted(snapshot["outbound"].items())])
    states = collections.Counter(account["sync_state"] for account in snapshot["accounts"])
    metric("mailpouch_relay_accounts", "gauge", "External accounts by sync state.",
           [(f'{{state="{state}"}}', count) for state, count in sorted(states.items())])
    return "\n".join(lines) + "\n"


def _box(box):
    name = box["name"].replace("\\", "\\\\").replace('"', '\\"')
    return f'{{box="{name}"}}'
