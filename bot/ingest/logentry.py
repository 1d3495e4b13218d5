"""LogEntry JSON (as a Logging sink publishes it) -> ErrorEvent | Rejected. Pure; never raises.

PLACEHOLDER: minimal version; the grouping work replaces it (same signature)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.models import ErrorEvent, HttpInfo, Rejected

RAW_KEEP = 4096


def parse_entry(data: bytes | str | dict[str, Any]) -> ErrorEvent | Rejected:
    raw = data if isinstance(data, str) else (data.decode("utf-8", "replace") if isinstance(data, bytes) else "")
    try:
        obj = data if isinstance(data, dict) else json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return Rejected(reason=f"not JSON: {exc}", raw=raw[:RAW_KEEP])
    if not isinstance(obj, dict):
        return Rejected(reason="not a JSON object", raw=raw[:RAW_KEEP])
    insert_id = obj.get("insertId")
    if not isinstance(insert_id, str) or not insert_id:
        return Rejected(reason="missing insertId", raw=raw[:RAW_KEEP] or json.dumps(obj)[:RAW_KEEP])
    res = obj.get("resource") or {}
    labels = res.get("labels") or {}
    service = labels.get("service_name") or labels.get("container_name") or labels.get("function_name") or labels.get("job_name") or "unknown"
    ts = obj.get("timestamp") or ""
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        t = 0.0
    jp = obj.get("jsonPayload") or {}
    text = obj.get("textPayload") or jp.get("message") or ""
    stack = jp.get("stack_trace")
    h = obj.get("httpRequest")
    http = HttpInfo(h.get("requestMethod", ""), h.get("requestUrl", ""), int(h.get("status", 0))) if isinstance(h, dict) else None
    return ErrorEvent(insert_id=insert_id, timestamp=t, severity=obj.get("severity", "DEFAULT"), service=service,
                      resource_type=res.get("type", ""), message=text.split("\n", 1)[0], stack=stack or (text if "\n" in text else None),
                      http=http, trace=obj.get("trace"), revision=labels.get("revision_name"))
