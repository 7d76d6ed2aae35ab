"""Logging for both consoles: readable lines by default, one JSON object a line for log shippers.

Messages are written as ``event key=value key=value``; the JSON form lifts those
pairs into fields of their own, so an operator can filter on ``box`` or
``account`` without parsing text.
"""

import json
import logging
import re

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PAIR = re.compile(r"""(?<!\S)([a-z_]+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""")
RESERVED = {"time", "level", "logger", "message"}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        message = record.getMessage()
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": message}
        for key, value in PAIR.findall(message):
            if key not in RESERVED:
                entry[key] = _value(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _value(text):
    if text[:1] in "'\"" and text[-1:] == text[:1]:
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        return text


def configure(verbose=False, json_lines=False):
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
