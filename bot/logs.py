"""Structured logging: one JSON object a line (or plain text for a person at a terminal).

Call `log.info("event.name", extra={"fields": {...}})`; the fields land as keys.
Never log question text: log entry ids, verdicts and lengths instead.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        payload.update(_unreserved(getattr(record, "fields", {})))
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = _unreserved(getattr(record, "fields", {}))
        tail = " ".join(f"{k}={v}" for k, v in extra.items())
        line = f"{record.levelname.lower():7} {record.name}: {record.getMessage()} {tail}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


# The keys every line has. A caller's field of the same name (say `event="answered"`)
# would overwrite them and hide the line from a search on its real event; it is kept
# under "field_<name>" instead.
RESERVED = frozenset({"ts", "level", "logger", "event", "error"})


def _unreserved(values: dict[str, Any]) -> dict[str, Any]:
    return {f"field_{k}" if k in RESERVED else k: v for k, v in values.items()}


def configure(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def fields(**values: Any) -> dict[str, Any]:
    """`log.info("x", extra=fields(a=1))` reads better than nesting dicts at each call."""
    return {"fields": values}
