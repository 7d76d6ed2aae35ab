"""What comes in with a file: its name reduced to a safe base name."""

import re

from appliance.web.present import neutral

CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_NAME = 255


def safe_name(name, fallback="attachment"):
    """The last part of a path ("../../x" -> "x"), without control or bidi characters."""
    base = re.split(r"[/\\]", neutral(CONTROLS.sub("", name or "")))[-1].strip().lstrip(".")
    return base[:MAX_NAME] or fallback
