"""files.getUploadURLExternal and files.completeUploadExternal: the upload flow slack_sdk's
``files_upload_v2`` uses (``files.upload`` is retired). Newer than the OpenAPI extract: their
arguments come from Slack's method reference (docs.slack.dev/reference/methods/...)."""

from __future__ import annotations

import copy
from typing import Any

from triage_sandbox.slack_standin.model import SlackError
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace

MAX_ALT_TXT = 1000  # alt_txt_too_large beyond it
MAX_FILES = 10  # files per completeUploadExternal call


@web_api("files.getUploadURLExternal")
def files_getUploadURLExternal(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    try:
        length = int(args.get("length"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments") from None
    if length <= 0:
        raise SlackError("missing_argument")  # Slack's answer to length 0
    if len(str(args.get("alt_txt") or "")) > MAX_ALT_TXT:
        raise SlackError("alt_txt_too_large")
    if ws.upload_base is None:
        raise SlackError("internal_error")
    fid = ws.new_id("F")
    ws.files[fid] = {
        "id": fid,
        "name": str(args["filename"]),
        "length": length,
        "snippet_type": args.get("snippet_type"),
        "data": None,
        "completed": False,
    }
    return {"upload_url": f"{ws.upload_base}/upload/v1/{fid}", "file_id": fid}


@web_api("files.completeUploadExternal")
def files_completeUploadExternal(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    items = args.get("files")
    if not isinstance(items, list) or not items or len(items) > MAX_FILES:
        raise SlackError("invalid_arguments")
    pending = []
    for item in items:
        fid = item.get("id") if isinstance(item, dict) else None
        f = ws.files.get(fid) if isinstance(fid, str) else None
        if f is None or f["completed"]:
            raise SlackError("file_not_found")
        if f["data"] is None:
            raise SlackError("file_upload_not_finished")  # the POST to upload_url never came
        if len(f["data"]) != f["length"]:
            warnings.append(f"{fid}: {len(f['data'])} bytes uploaded, length said {f['length']}")
        pending.append((f, item))
    channel = args.get("channel_id") or None
    channels = [c for c in str(args.get("channels") or "").split(",") if c]
    if channel and channels:
        raise SlackError("invalid_arguments")  # one of the two
    targets = [ws.postable(c) for c in ([channel] if channel else channels)]
    if args.get("thread_ts") and len(targets) != 1:
        raise SlackError("invalid_arguments")
    objs = []
    for f, item in pending:
        f["completed"] = True
        f["title"] = str(item.get("title") or f["name"])
        objs.append(_file_object(f, targets))
    for cid in targets:
        ws.rate_limit(cid)
        msg = ws.bot_message({"text": args.get("initial_comment") or ""}, ws.next_ts())
        msg["files"] = copy.deepcopy(objs)
        msg["upload"] = True
        ws.store_message(cid, msg, args.get("thread_ts") or None, False, warnings)
    return {"files": objs}


def _file_object(f: dict[str, Any], channels: list[str]) -> dict[str, Any]:
    data: bytes = f["data"]
    return {
        "id": f["id"],
        "name": f["name"],
        "title": f["title"],
        "size": len(data),
        "mimetype": "text/markdown" if f["name"].endswith(".md") else "text/plain",
        "filetype": f.get("snippet_type") or f["name"].rsplit(".", 1)[-1],
        "channels": list(channels),
        # The stand-in keeps the text for the UI and for tests to read back.
        "preview": data.decode("utf-8", "replace")[:20000],
    }
