"""Message templates: one log statement -> one template; different statements -> different ones."""

from __future__ import annotations

import pytest

from bot.fingerprint.fp1.template import VAR, message_template

# Each row: occurrences of ONE statement with different values.
SAME_STATEMENT: list[list[str]] = [
    [
        "PacketResponder 1 for block blk_38865049064139660 terminating",
        "PacketResponder 0 for block blk_-6952295868487656571 terminating",
    ],
    [
        "failed to fetch order ord_ORekH9BaMB: rpc error: code = DeadlineExceeded",
        "failed to fetch order ord_OPDXOYITFO: rpc error: code = DeadlineExceeded",
        "failed to fetch order ord_wZvYeGkJAV: rpc error: code = DeadlineExceeded",
    ],
    [
        'invalid recipient address "bob@corp.example.jp" for order ord_TJNSFC2V2X',
        'invalid recipient address "a b c" for order ord_jS6dQA5rBk',
    ],
    [
        "cache.internal.example.net:6380 open through gateway gw.example.org:3128 HTTPS",
        "203.0.113.9:443 open through gateway gw.example.org:3128 HTTPS",
        "cdn.example.com:80 open through gateway gw.example.org:3128 HTTPS",
    ],
    [
        "close, 0 bytes sent, 12 bytes received, lifetime 00:01",
        "close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime <1 sec",
    ],
    [
        "session opened for user alice by (uid=0)",
        "session opened for user bob by (uid=509)",
    ],
    [
        "accepted from 198.51.100.7 (host-7.example.net) at Sun Jul  3 10:05:01 2005",
        "accepted from 198.51.100.8 () at Wed Jun 22 13:16:30 2005",
    ],
    [
        "Opened file /var/log/app/current.bin, size 172032",
        "Opened file /srv/data/blob, size 1073741824",
    ],
    [
        '10.0.0.1 "GET /v2/9f0c1e/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.24',
        '10.0.0.2 "GET /meta/2013-10-17/data.json HTTP/1.1" status: 404 len: 12 time: 0.01',
    ],
    [
        "retrying shards: 3",
        "retrying shards: 3,17",
        "retrying shards: 3, 17, 42",
    ],
    [
        "step reconcile failed after 2472ms for tenant e87844e5-9cf5-245d-e448-c357bb9f0427",
        "step reconcile failed after 9.5s for tenant 27e60c61-df6a-a6af-58e9-afeb65225474",
    ],
    [
        "job com.example.sync.nightly: start time isn't for 120 seconds",
        "job org.example.cache.daily: start time isn't for 7 seconds",
    ],
    [
        "Block item_0_piece0 stored in memory (estimated size 93.0 B, free 317.1 KB)",
        "Block item_9_piece0 stored in memory (estimated size 5.2 KB, free 5.2 MB)",
    ],
    [
        "acquire lock=233570404, flags=0x1, name=com.example.phone, uid=10037",
        "acquire lock=166121161, flags=0x10, name=org.example.audio, uid=1001",
    ],
    [
        "ratelimited (retry after 42s) for channel C9664139cd2f2a50765b54b5f",
        "ratelimited (retry after 7s) for channel C18d3e4051499a8c44c8853b2",
    ],
]

# Pairs of DIFFERENT statements that must not share a template.
DIFFERENT: list[tuple[str, str]] = [
    (
        "dial tcp 10.0.0.1:5432: connect: connection refused",
        "dial tcp 10.0.0.1:5432: connect: connection reset by peer",
    ),
    ("PacketResponder 1 terminating", "PacketResponder 1 started"),
    ("code = DeadlineExceeded", "code = Unavailable"),
    ("onReceive action: a.b.action.SCREEN_ON", "onReceive action: a.b.action.SCREEN_OFF"),
    ("raised java.lang.IllegalStateException", "raised java.lang.IllegalArgumentException"),
    ('"GET /a/1 HTTP/1.1" 502', '"POST /a/1 HTTP/1.1" 502'),
    ("Invalid user admin from 10.0.0.1", "Failed password for user admin from 10.0.0.1"),
    ("cache miss for key 17", "cache hit for key 17"),
]


@pytest.mark.parametrize("occurrences", SAME_STATEMENT)
def test_one_statement_gives_one_template(occurrences: list[str]) -> None:
    templates = {message_template(text) for text in occurrences}
    assert len(templates) == 1, templates
    assert VAR in templates.pop()


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_statements_give_different_templates(first: str, second: str) -> None:
    assert message_template(first) != message_template(second)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("instruction cache parity error corrected", "instruction cache parity error corrected"),
        (
            "PacketResponder 2 for block blk_1 terminating",
            "PacketResponder <*> for block <*> terminating",
        ),
        ("Invalid user webmaster from 173.234.31.186", "Invalid user <*> from <*>"),
        ("index out of range [3] with length 0", "index out of range with length <*>"),
        ("Marking seen 0|com.example.app|121|null|10111", "Marking seen <*>|null|<*>"),
        ("", ""),
    ],
)
def test_template_text(text: str, expected: str) -> None:
    assert message_template(text) == expected


def test_is_deterministic_and_independent_of_history() -> None:
    texts = [f"worker {i} lost lease on shard s{i % 7} after {i}ms" for i in range(200)]
    first = [message_template(text) for text in texts]
    again = [message_template(text) for text in reversed(texts)][::-1]
    assert first == again
    assert set(first) == {"worker <*> lost lease on shard <*> after <*>"}


def test_whitespace_differences_do_not_matter() -> None:
    assert message_template("a  b\tc 12") == message_template("a b c 13")
