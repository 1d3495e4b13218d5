"""Where a group's alert goes: the routing config's owner(s), then every subscribed channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase

from bot import slack_ids
from bot.models import ErrorEvent
from bot.notify.notifier import Target
from bot.routing.config import Config
from bot.routing.match import route, severity_rank
from bot.store.redis_store import Group
from bot.store.subscriptions import Subscription


def _oncall(handles: Sequence[str]) -> str:
    """Configured on-call -> Slack mention text. User ids become <@U…>; <!subteam^…> is kept;
    a bare @handle stays text (Slack only pings a user group by its <!subteam^ID>)."""
    out = []
    for h in handles:
        if slack_ids.is_user(h):
            out.append(f"<@{h}>")
        else:
            out.append(h)
    return " ".join(out)


def group_event(group: Group) -> ErrorEvent:
    """The fields routes match on, as stored on the group."""
    return ErrorEvent(
        insert_id="",
        timestamp=group.last,
        severity=group.get("severity", "ERROR"),
        service=group.service,
        resource_type=group.get("resource_type"),
        log_name=group.get("log_name"),
        message=group.title + "\n" + group.sample,
    )


def make_router(
    config: Callable[[], Config | None],
    subscriptions: Callable[[], list[Subscription]],
    default: Target,
) -> Callable[[Group], list[Target]]:
    def router(group: Group) -> list[Target]:
        cfg = config()
        targets: list[Target] = []
        if cfg is None:
            targets.append(default)
        else:
            for d in route(cfg, group_event(group)):
                targets.append(
                    Target(
                        channel=d.channel,
                        locale=d.locale,
                        timezone=d.timezone,
                        oncall=_oncall(d.oncall),
                        team=d.team,
                        rotation=cfg.team(d.team).rotation is not None,
                        escalate_after_s=d.escalate_after_s,
                        repeat_interval_s=d.repeat_interval_s,
                    )
                )
        rank = severity_rank(group.get("severity", "ERROR"))
        seen = {t.channel for t in targets}
        for sub in subscriptions():
            if sub.channel in seen or not fnmatchcase(group.service, sub.pattern):
                continue
            if rank < severity_rank(sub.severity):
                continue
            seen.add(sub.channel)
            base = targets[0] if targets else default
            targets.append(Target(sub.channel, base.locale, base.timezone))
        return targets

    return router
