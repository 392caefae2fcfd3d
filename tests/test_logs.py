from __future__ import annotations

import io
import json
import logging

from bot import logs


def test_a_callers_field_cannot_overwrite_the_event_or_level() -> None:
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    logging.getLogger("t").info(
        "escalation.settled", extra=logs.fields(event="answered", level="x", ticket=7)
    )
    line = json.loads(stream.getvalue())
    assert line["event"] == "escalation.settled"
    assert line["level"] == "info"
    assert line["field_event"] == "answered"
    assert line["field_level"] == "x"
    assert line["ticket"] == 7


def test_text_lines_keep_the_callers_field_under_its_own_name() -> None:
    stream = io.StringIO()
    logs.configure("INFO", "text", stream)
    logging.getLogger("t").info("escalation.settled", extra=logs.fields(event="answered"))
    assert "escalation.settled field_event=answered" in stream.getvalue()
