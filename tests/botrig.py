"""`running_bot` lives in triage_sandbox.running (the demo uses it too); this name is kept so a
test that imports it from here gets the same function."""

from triage_sandbox.running import running_bot

__all__ = ["running_bot"]
