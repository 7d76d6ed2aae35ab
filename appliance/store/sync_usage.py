"""Data usage of syncs for the admin page: each run, and totals per day and month
in the box's local time, with what they cost at a price per MB."""

import datetime

import sqlalchemy as sa

from appliance.store.tables import sync_runs

MB = 1024 * 1024
FIGURES = ("messages_up", "messages_down", "bytes_up", "bytes_down", "wire_bytes_up", "wire_bytes_down")


def record(conn, result):
    """One finished sync (an ``appliance.sync.job.SyncResult``)."""
    conn.execute(sync_runs.insert().values(
        started_at=result.started_at, finished_at=result.finished_at, ok=result.ok,
        error=result.error[:1000], **{name: getattr(result, name) for name in FIGURES}))


def history(conn, limit=50):
    query = sa.select(sync_runs).order_by(sync_runs.c.started_at.desc(), sync_runs.c.id.desc()).limit(limit)
    return conn.execute(query).mappings().all()


def totals(conn, zone, period="day", since_days=400):
    """[{"period": "2026-11-22" | "2026-11", "runs", FIGURES...}] newest first."""
    since = int((datetime.datetime.now(zone) - datetime.timedelta(days=since_days)).timestamp())
    rows = conn.execute(sa.select(sync_runs).where(sync_runs.c.started_at >= since)).mappings()
    form = "%Y-%m-%d" if period == "day" else "%Y-%m"
    found = {}
    for row in rows:
        key = datetime.datetime.fromtimestamp(row["started_at"], zone).strftime(form)
        total = found.setdefault(key, {"period": key, "runs": 0, **dict.fromkeys(FIGURES, 0)})
        total["runs"] += 1
        for name in FIGURES:
            total[name] += row[name]
    return sorted(found.values(), key=lambda total: total["period"], reverse=True)


def cost(wire_bytes, price_per_mb):
    return wire_bytes / MB * price_per_mb
