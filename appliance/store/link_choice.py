"""The admin's choice of APN settings, kept in the box's state table.

The settings file's ``[modem]`` section is the default; what the admin saved on
the modem page wins, both for the page's "test connection" and for the sync job.
"""

import dataclasses

from appliance.store import boxinfo

# LinkSettings field -> key in the box's state table.
APN_KEYS = {"apn": "modem_apn", "user": "modem_user", "password": "modem_password",
            "ip_type": "modem_ip_type"}


def link_settings(conn, base):
    """`base` (the settings file's `[modem]`) with the APN settings the admin saved."""
    chosen = {field: boxinfo.get(conn, key) for field, key in APN_KEYS.items()}
    return dataclasses.replace(base, **{f: v for f, v in chosen.items() if v is not None})


def save(conn, field, value):
    boxinfo.put(conn, APN_KEYS[field], value)
