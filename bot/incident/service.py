"""Declared incidents: the Slack side (channel, invites, topic, pinned summary, timeline posts,
postmortem upload) around the pure model and renderings, and a sweep that carries what
happens to linked groups (acks, resolves, regressions, escalations, counts) into the
incident's channel.

Slack cost: declaring is one conversations.create (Tier 2; a taken name is retried with a
suffix), one invite, topic, purpose, one post + pin, and one thread reply per message of the
linked groups; every call goes through the Sender (Retry-After honoured). The summary is
updated at most once per `summary_interval` for counts, at once for human changes."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.i18n import t
from bot.incident import render
from bot.incident.correlate import correlate, episode_of
from bot.incident.model import (
    MAX_TITLE,
    Event,
    EventKind,
    Incident,
    Severity,
    Status,
    channel_name,
)
from bot.notify.sender import Sender, SlackError
from bot.store.incidents import IncidentStore
from bot.store.redis_store import Group, RedisStore

log = logging.getLogger(__name__)

NAME_ATTEMPTS = 10
_USER = re.compile(r"^[UW][A-Z0-9]{1,20}$")
_SUBTEAM = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$|^(S[A-Z0-9]{2,})$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>$")
# group timeline "what" (bot.store transitions) -> the event a linked group's change shows as
_GROUP_WHAT = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "resolve_next": "resolved",
    "reopen": "reopened",
    "snooze_for": "snoozed",
    "snooze_count": "snoozed",
    "snooze_escalating": "snoozed",
}


@dataclass(frozen=True, slots=True)
class Result:
    ok: bool
    text: str  # localized, for the person who asked
    incident: Incident | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Team:
    """What the service needs to know about a group's owners: the on-call people to invite."""

    users: tuple[str, ...] = ()


class IncidentService:
    def __init__(
        self,
        store: IncidentStore,
        groups: RedisStore,
        sender: Sender,
        *,
        owners: Callable[[Group, float], Sequence[str]] = lambda g, now: (),
        act: Callable[[str, str, str], bool] | None = None,
        refresh: Callable[[str], object] | None = None,
        locale_and_tz: Callable[[str], tuple[str, str]] = lambda ch: ("en", "UTC"),
        clock: Callable[[], float] = time.time,
        summary_interval: float = 30.0,
    ) -> None:
        self.store, self.groups, self.sender = store, groups, sender
        # group -> mentions/ids of whoever should be invited (on-call of the owning teams)
        self.owners = owners
        self.act = act  # (gid, transition, user) -> ok: resolve linked groups
        self.refresh = refresh  # gid -> re-render its messages (they show the incident)
        self.locale_and_tz = locale_and_tz
        self.clock = clock
        self.summary_interval = summary_interval
        self._summary_at: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- reading ------------------------------------------------------------------------------

    def by_channel(self, channel: str) -> Incident | None:
        return self.store.by_channel(channel)

    def _loc(self, inc: Incident) -> tuple[str, str]:
        ch = inc.source.split("/", 1)[0] if inc.source else inc.channel
        return self.locale_and_tz(ch)

    # ---- declare ------------------------------------------------------------------------------

    def declare(
        self,
        title: str,
        user: str,
        gids: Sequence[str] = (),
        source: str = "",
        locale: str = "en",
    ) -> Result:
        """Create the channel, invite the owners' on-call and the declarer, set topic and
        purpose, post and pin the summary, and link the groups (a reply on each one's message)."""
        now = self.clock()
        found = [g for g in self.groups.load_groups(list(dict.fromkeys(gids))) if g is not None]
        title = " ".join(title.split())[:MAX_TITLE] or _title_for(found) or "incident"
        cid = ""
        name = ""
        for attempt in range(1, NAME_ATTEMPTS + 1):
            name = channel_name(title, now, attempt)
            try:
                cid = self.sender.create_channel(name)
                break
            except SlackError as exc:
                if exc.error != "name_taken":
                    return Result(False, _slack_error(exc, locale))
        if not cid:
            return Result(False, t("incident.error.name", locale))
        inc = Incident(
            id=name,
            title=title,
            channel=cid,
            declared_by=user,
            declared_at=now,
            groups=tuple(g.id for g in found),
            source=source,
        )
        events = [Event(now, user, EventKind.DECLARED, {"title": title})]
        events += [
            Event(now, user, EventKind.LINKED, {"group": g.id, "title": g.title}) for g in found
        ]
        self.store.save(inc, events)
        self.store.set_seen(inc.id, {g.id: _mark(g, self.groups) for g in found})
        loc, tz = self._loc(inc)
        self._invite(inc, found, now)
        for call in (
            lambda: self.sender.set_topic(cid, render.topic(inc, loc)),
            lambda: self.sender.set_purpose(cid, render.purpose(inc, loc)),
        ):
            try:
                call()
            except SlackError as exc:
                log.warning("incident %s: %s", inc.id, exc)
        try:
            posted = self.sender.post(
                cid,
                render.summary_text(inc, loc),
                render.summary_blocks(inc, found, loc, tz),
            )
            inc = replace(inc, summary_ref=f"{posted.channel}/{posted.ts}")
            self.store.save(inc)
            self.sender.pin(posted.channel, posted.ts)
        except SlackError as exc:
            log.warning("incident %s summary: %s", inc.id, exc)
        self._post_events(inc, events, loc)
        for g in found:
            self._link_from_group(inc, g, loc)
        return Result(True, t("incident.declared", locale, channel=cid), inc)

    def _invite(self, inc: Incident, groups: Sequence[Group], now: float) -> None:
        users: list[str] = []
        if _USER.match(inc.declared_by):
            users.append(inc.declared_by)
        for g in groups:
            for who in self.owners(g, now):
                users.extend(self._users_of(who))
        users = list(dict.fromkeys(users))
        if not users:
            return
        try:
            self.sender.invite(inc.channel, users)
        except SlackError:
            for u in users:  # one refused user (deactivated, a bot) must not keep the others out
                try:
                    self.sender.invite(inc.channel, [u])
                except SlackError as exc:
                    if exc.error != "already_in_channel":
                        log.warning("incident %s: invite %s: %s", inc.id, u, exc.error)

    def _users_of(self, who: str) -> list[str]:
        who = who.strip()
        if _USER.match(who):
            return [who]
        if m := _MENTION.match(who):
            return [m.group(1)]
        if m := _SUBTEAM.match(who):
            try:
                return self.sender.usergroup_members(m.group(1) or m.group(2))
            except SlackError as exc:
                log.warning("usergroup %s: %s", who, exc)
        return []

    def _link_from_group(self, inc: Incident, g: Group, loc: str) -> None:
        """The group's messages show the incident (a line instead of the Declare button), and
        a reply under each of them (its own, or the digest listing it) says so."""
        self.groups.set_fields(g.id, {"incident": inc.channel})
        if self.refresh is not None:
            try:
                self.refresh(g.id)
            except Exception:  # the next update of the message shows it
                log.exception("incident %s: could not re-render %s", inc.id, g.id)
        done: set[str] = set()
        for channel, ref in g.messages.items():
            if ref.startswith("dg:"):
                ref = self.groups.digest_ref(channel, int(ref[3:] or 0))
            if not ref:
                continue
            ch, ts = ref.split("/", 1) if "/" in ref else (channel, ref)
            if (ch, ts) in done:
                continue
            done.add((ch, ts))
            try:
                self.sender.post(
                    ch, t("incident.linked_from_group", loc, channel=inc.channel), thread_ts=ts
                )
            except SlackError as exc:
                log.warning("incident %s: link from %s: %s", inc.id, g.id, exc)

    # ---- changes ------------------------------------------------------------------------------

    def set_status(self, inc: Incident, status: Status, user: str) -> Result:
        loc, _ = self._loc(inc)
        if inc.status is status:
            return Result(True, t("incident.set", loc, what=render.status_label(status, loc)), inc)
        inc = replace(inc, status=status)
        ev = Event(self.clock(), user, EventKind.STATUS, {"status": status.value})
        self._changed(inc, [ev], topic=True)
        blocks: list[dict[str, Any]] = []
        text = t("incident.set", loc, what=render.status_label(status, loc))
        if status is Status.RESOLVED:
            open_n = self._open_groups(inc)
            if open_n:
                q, blocks = render.resolve_question(inc, open_n, loc)
                try:
                    self.sender.post(inc.channel, q, blocks)
                except SlackError as exc:
                    log.warning("incident %s: %s", inc.id, exc)
                text = q
        return Result(True, text, inc, blocks)

    def set_severity(self, inc: Incident, sev: Severity, user: str) -> Result:
        loc, _ = self._loc(inc)
        if inc.severity is not sev:
            inc = replace(inc, severity=sev)
            ev = Event(self.clock(), user, EventKind.SEVERITY, {"severity": sev.value})
            self._changed(inc, [ev], topic=True)
        return Result(True, t("incident.set", loc, what=sev.value), inc)

    def set_lead(self, inc: Incident, lead: str, user: str) -> Result:
        loc, _ = self._loc(inc)
        if not _USER.match(lead):
            return Result(False, t("incident.error.bad_user", loc))
        if inc.lead != lead:
            inc = replace(inc, lead=lead)
            self._changed(inc, [Event(self.clock(), user, EventKind.LEAD, {"lead": lead})], True)
            with contextlib.suppress(SlackError):  # already in the channel, most likely
                self.sender.invite(inc.channel, [lead])
        return Result(True, t("incident.set", loc, what=f"<@{lead}>"), inc)

    def link(self, inc: Incident, gid: str, user: str) -> Result:
        loc, _ = self._loc(inc)
        g = self.groups.load_group(gid)
        if g is None:
            return Result(False, t("incident.error.no_group", loc, gid=render.escape(gid)))
        if gid in inc.groups:
            return Result(True, t("incident.already_linked", loc, gid=gid, channel=inc.channel))
        inc = inc.with_group(gid)
        self._changed(
            inc, [Event(self.clock(), user, EventKind.LINKED, {"group": gid, "title": g.title})]
        )
        self.store.set_seen(inc.id, {gid: _mark(g, self.groups)})
        self._invite(inc, [g], self.clock())
        self._link_from_group(inc, g, loc)
        return Result(True, t("incident.linked", loc, gid=gid, channel=inc.channel), inc)

    def resolve_groups(self, inc: Incident, user: str) -> Result:
        loc, _ = self._loc(inc)
        n = 0
        for g in self.groups.load_groups(list(inc.groups)):
            if g is not None and g.state != "resolved" and self.act is not None:
                n += bool(self.act(g.id, "resolve", user))
        ev = Event(self.clock(), user, EventKind.GROUPS_RESOLVED, {"n": str(n)})
        self._changed(inc, [ev])
        return Result(True, t("incident.event.groups_resolved", loc, who=f"<@{user}>", n=n), inc)

    def timeline(self, inc: Incident) -> Result:
        loc, tz = self._loc(inc)
        titles = {g.id: g.title for g in self.groups.load_groups(list(inc.groups)) if g is not None}
        text = render.timeline_text(inc, self.store.events(inc.id), loc, tz, titles)
        return Result(True, text, inc)

    def postmortem(self, inc: Incident, user: str) -> Result:
        loc, tz = self._loc(inc)
        now = self.clock()
        groups = self.groups.load_groups(list(inc.groups))
        md = render.postmortem_markdown(inc, groups, self.store.events(inc.id), now, tz)
        try:
            self.sender.upload(
                inc.channel,
                f"{inc.id}-postmortem.md",
                f"Postmortem draft: {inc.title}"[:200],
                md,
                t("incident.postmortem_comment", loc, title=render.escape(inc.title)),
            )
        except SlackError as exc:
            return Result(False, _slack_error(exc, loc))
        ev = Event(now, user, EventKind.POSTMORTEM, {})
        self.store.add_events(inc.id, [ev])
        return Result(True, t("incident.event.postmortem", loc, who=f"<@{user}>"), inc)

    def _open_groups(self, inc: Incident) -> int:
        gs = self.groups.load_groups(list(inc.groups))
        return sum(1 for g in gs if g is not None and g.state != "resolved")

    def _changed(self, inc: Incident, events: list[Event], topic: bool = False) -> None:
        """Save, post the events to the channel's timeline, re-render the summary (at once:
        a person is watching), and the topic when status, severity or commander changed."""
        self.store.save(inc, events)
        loc, tz = self._loc(inc)
        self._post_events(inc, events, loc)
        self._render_summary(inc, loc, tz)
        if topic:
            try:
                self.sender.set_topic(inc.channel, render.topic(inc, loc))
            except SlackError as exc:
                log.warning("incident %s topic: %s", inc.id, exc)

    def _post_events(self, inc: Incident, events: Sequence[Event], loc: str) -> None:
        titles = {e.detail.get("group", ""): e.detail.get("title", "") for e in events}
        for e in events:
            try:
                self.sender.post(inc.channel, render.event_text(e, loc, titles))
            except SlackError as exc:
                log.warning("incident %s timeline: %s", inc.id, exc)

    def _render_summary(self, inc: Incident, loc: str, tz: str) -> None:
        if not inc.summary_ref:
            return
        ch, ts = inc.summary_ref.split("/", 1)
        groups = self.groups.load_groups(list(inc.groups))
        try:
            self.sender.update(
                ch,
                ts,
                render.summary_text(inc, loc),
                render.summary_blocks(inc, groups, loc, tz),
            )
            self._summary_at[inc.id] = self.clock()
        except SlackError as exc:
            log.warning("incident %s summary: %s", inc.id, exc)

    # ---- the sweep: linked groups' changes into the timeline ----------------------------------

    def sweep(self) -> int:
        """One pass over the open incidents: new acks/resolves/snoozes (the group's own
        timeline), regressions and escalations (its counters) become timeline events; changed
        counts re-render the summary (coalesced). Returns the number of events posted."""
        now = self.clock()
        posted = 0
        for iid in self.store.open_ids():
            inc = self.store.load(iid)
            if inc is None or inc.status is Status.RESOLVED:
                continue
            seen = self.store.seen(iid)
            marks: dict[str, str] = {}
            events: list[Event] = []
            counts_changed = False
            for g in self.groups.load_groups(list(inc.groups)):
                if g is None:
                    continue
                old = _parse_mark(seen.get(g.id, ""))
                new = _parse_mark(_mark(g, self.groups))
                if new == old:
                    continue
                marks[g.id] = _mark_str(new)
                if new[3] != old[3]:
                    counts_changed = True
                if old == (0, 0, 0, 0) and g.id not in seen:
                    continue  # first sight (linked before the sweep knew it): no history
                for entry in self.groups.timeline(g.id)[old[0] : new[0]]:
                    what = _GROUP_WHAT.get(str(entry.get("what", "")))
                    if what:
                        at = float(entry.get("at") or now)
                        who = str(entry.get("who") or "")
                        detail = {"group": g.id, "title": g.title, "what": what}
                        events.append(Event(at, who, EventKind.GROUP, detail))
                if new[1] > old[1]:
                    detail = {"group": g.id, "title": g.title, "what": "regression"}
                    events.append(Event(now, "", EventKind.GROUP, detail))
                if new[2] > old[2]:
                    detail = {"group": g.id, "title": g.title, "what": "escalation"}
                    events.append(Event(now, "", EventKind.GROUP, detail))
            self.store.set_seen(iid, marks)
            loc, tz = self._loc(inc)
            if events:
                self.store.add_events(iid, events)
                self._post_events(inc, events, loc)
                posted += len(events)
            last = self._summary_at.get(iid, 0.0)
            if events or (counts_changed and now - last >= self.summary_interval):
                self._render_summary(inc, loc, tz)
        return posted

    def start(self, interval: float = 2.0) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="incidents", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:  # edge of the sweep loop: the next pass retries
                log.exception("incident sweep failed")


def _mark(g: Group, groups: RedisStore) -> str:
    return _mark_str(
        (
            len(groups.timeline(g.id)),
            int(g.get("regressions") or 0),
            int(g.get("escalations") or 0),
            g.count,
        )
    )


def _mark_str(m: tuple[int, int, int, int]) -> str:
    return "|".join(str(x) for x in m)


def _parse_mark(s: str) -> tuple[int, int, int, int]:
    try:
        a, b, c, d = (int(x) for x in s.split("|"))
        return a, b, c, d
    except ValueError:
        return 0, 0, 0, 0


def _title_for(groups: Sequence[Group]) -> str:
    """A title from what the groups share (a correlation candidate's cause), else the first
    group's title."""
    if not groups:
        return ""
    if len(groups) > 1:
        eps = [
            episode_of(g.id, g.service, g.title, g.first, g.sample, revision=g.get("revision"))
            for g in groups
        ]
        cands = correlate(eps, window=float("inf"))
        if cands and cands[0].shared:
            return f"{cands[0].cause}: {len(cands[0].groups)} errors"
    return groups[0].title


def _slack_error(exc: SlackError, loc: str) -> str:
    return t("incident.error.slack", loc, method=exc.method, error=render.escape(exc.error))
