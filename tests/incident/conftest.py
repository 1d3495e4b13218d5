"""The notifier's rig (real Redis, the Slack stand-in, an injected clock) for incident tests."""

from tests.notify.conftest import rig, slack  # noqa: F401 (fixtures)
