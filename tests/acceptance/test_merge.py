"""README, "Merging groups": `/triage merge A into B` sends A's future entries to B, moves
its count there and leaves one live alert (A's says "merged into B", with a link, and is not
updated again); `/triage unmerge A` undoes it. Through the real `triage-bot serve`."""

from __future__ import annotations

from tests.acceptance.harness import (
    config_yaml,
    count_of,
    group_id_of,
    is_reply,
    log_entry,
    message_text,
)

SVC = "checkout"
B_MSG, A_MSG = "card declined by issuer", "card network timed out"


def _current(bot, msg):
    return next(m for m in bot.messages("C0SRE") if m["ts"] == msg["ts"])


def test_merge_then_unmerge_moves_future_entries_and_counts(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry(SVC, B_MSG) for _ in range(3)])
    b_alert = bot.wait_for_post("C0SRE", lambda m: B_MSG in message_text(m))
    bot.publish([log_entry(SVC, A_MSG) for _ in range(2)])
    a_alert = bot.wait_for_post("C0SRE", lambda m: A_MSG in message_text(m))
    a, b = group_id_of(a_alert), group_id_of(b_alert)
    assert a and b and a != b
    bot.wait_until(lambda: count_of(_current(bot, b_alert)) == 3, 5, "B counts 3")
    bot.wait_until(lambda: count_of(_current(bot, a_alert)) == 2, 5, "A counts 2")

    # refused, each with why and what to type instead
    assert "into itself" in bot.slash(f"merge {a} into {a}")
    assert "Usage: `/triage merge <id> into <id>`" in bot.slash(f"merge {a}")
    assert "fp2-00000000000000" in bot.slash(f"merge fp2-00000000000000 into {b}")

    answer = bot.slash(f"merge {a} into {b}", user="U2")
    assert f"Merged `{a}` into `{b}`" in answer, answer
    bot.wait_until(
        lambda: (
            "Merged into <https://" in message_text(_current(bot, a_alert))
            and b in message_text(_current(bot, a_alert))
        ),
        5,
        "A's alert says merged into B, with a link",
    )
    assert "<@U2>" in message_text(_current(bot, a_alert))
    bot.wait_until(lambda: count_of(_current(bot, b_alert)) == 5, 5, "A's count moved to B")
    # B cannot be merged into A now, nor A again
    refused = bot.slash(f"merge {b} into {a}")
    assert f"it is itself merged into `{b}`" in refused, refused
    assert f"`/triage unmerge {a}` first" in bot.slash(f"merge {a} into {b}")

    # new A entries count on B; nothing new is posted, A's message stays as it is
    posts = len([p for p in bot.posts_in("C0SRE") if not p.get("thread_ts")])
    a_before = message_text(_current(bot, a_alert))
    bot.publish([log_entry(SVC, A_MSG) for _ in range(4)])
    bot.wait_until(lambda: count_of(_current(bot, b_alert)) == 9, 10, "new A entries count on B")
    assert len([p for p in bot.posts_in("C0SRE") if not p.get("thread_ts")]) == posts
    assert message_text(_current(bot, a_alert)) == a_before
    assert len(bot.messages("C0SRE")) == 2

    # /triage show says so on both sides
    assert "Merged into" in bot.slash(f"show {a}")
    assert f"Merged from `{a}`" in bot.slash(f"show {b}")

    # unmerge: A's own alert again (buttons back), B gives A's moved count back
    answer = bot.slash(f"unmerge {a}")
    assert "its own group again" in answer, answer
    bot.wait_until(lambda: group_id_of(_current(bot, a_alert)) == a, 5, "A's alert restored")
    bot.wait_until(lambda: count_of(_current(bot, b_alert)) == 7, 5, "B gave back 2")
    bot.publish([log_entry(SVC, A_MSG)])
    bot.wait_until(lambda: count_of(_current(bot, a_alert)) == 3, 10, "new A entries count on A")
    assert count_of(_current(bot, b_alert)) == 7
    assert "not merged" in bot.slash(f"unmerge {a}")
    assert not any(is_reply(m) for m in bot.messages("C0SRE"))


def test_merge_into_button_says_what_to_type(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry(SVC, B_MSG)])
    alert = bot.wait_for_post("C0SRE", lambda m: B_MSG in message_text(m))
    gid = group_id_of(alert)
    before = len(bot.slack.responses)
    bot.click("tb_merge", alert)
    response = bot.wait_until(lambda: bot.slack.responses[before:], 5, "an answer")[0]
    assert response.effect == "ephemeral"
    assert f"/triage merge {gid} into <id>" in message_text(response.payload)


def test_user_input_is_escaped(start_bot) -> None:
    bot = start_bot(config_yaml())
    answer = bot.slash("merge <!channel> into <@U1>")
    assert "<!channel>" not in answer and "&lt;!channel&gt;" in answer, answer
    assert "<!here>" not in bot.slash("unmerge <!here>")
