"""Step 5: a few short follow-ups chosen by topic and branch; every one can be skipped.

The family-of-hikikomori branch asks about the person (age, how long, do they know) and about the
family's own tiredness, says that families contacting first is normal, and points to the city's
家族学習会 / 家族会 / アウトリーチ.
"""

from __future__ import annotations

from typing import Any

from bot.dialogs.core import Ctx, Input, Result, State, option_buttons, picked_option, say
from bot.messages import Outbound

Q = "followups.questions"


def is_family_of_hikikomori(ctx: Ctx) -> bool:
    return ctx.writer == "family" and "hikikomori" in (ctx.data.get("topics") or [])


def plan(ctx: Ctx) -> list[str]:
    """Which questions, in order. Short on purpose: the sheet is finished by staff, not here."""
    topics = set(ctx.data.get("topics") or [])
    if is_family_of_hikikomori(ctx):
        return ["hk_age", "hk_duration", "hk_knows", "hk_tired", "household", "agencies", "urgency"]
    by_writer = {
        "self": ["age_band", "household", "duration", "agencies", "urgency"],
        "family": ["age_band", "household", "duration", "agencies", "urgency"],
        "acquaintance": ["age_band", "household", "urgency"],
        "professional": ["age_band", "household", "duration", "urgency"],
        "unknown": ["age_band", "duration", "urgency"],
    }
    keys = list(by_writer.get(ctx.writer, by_writer["unknown"]))
    if "parenting" in topics:
        keys.insert(1, "child_age")
    return keys


def _question(ctx: Ctx, key: str) -> tuple[str, list[str]]:
    spec: dict[str, Any] = ctx.copy.get(f"{Q}.{key}")
    # Some questions are worded differently when the writer is the person concerned.
    text = spec.get("question") or (spec["self"] if ctx.writer == "self" else spec["other"])
    return ctx.copy.fill(text), list(spec.get("options") or [])


def ask(ctx: Ctx) -> Outbound:
    key = ctx.data["fu_queue"][0]
    if ctx.data.get("fu_writing"):
        return say(ctx.t(f"{Q}.{key}.write_prompt"), [ctx.button("followups.skip_label", "fu:skip")])
    text, options = _question(ctx, key)
    buttons = [*option_buttons(options, f"fu:{key}"), ctx.button("followups.skip_label", "fu:skip")]
    return say(text, buttons)


def begin(ctx: Ctx) -> Result:
    ctx.data["fu_queue"] = plan(ctx)
    ctx.data.pop("fu_writing", None)
    messages = [say(ctx.t("followups.intro"))]
    if is_family_of_hikikomori(ctx):
        messages.insert(0, say(ctx.t(f"{Q}.hk_intro")))
    messages.append(ask(ctx))
    return Result(State.FOLLOWUP, messages)


def enter(ctx: Ctx) -> list[Outbound]:
    if not ctx.data.get("fu_queue"):
        return begin(ctx).messages
    return [ask(ctx)]


def _store(ctx: Ctx, key: str, value: str) -> list[Outbound]:
    """Put an answer where the sheet expects it; return any short reply it deserves."""
    answers = ctx.answers
    hk = answers.setdefault("hikikomori", {}) if key.startswith("hk_") else None
    replies: list[Outbound] = []
    if key == "age_band":
        answers["age_band"] = value
    elif key == "child_age":
        answers["child_age"] = value
    elif key == "household":
        answers["household"] = value
    elif key == "duration":
        answers["duration"] = value
    elif key == "agencies":
        answers["agencies_involved"] = value
    elif key == "urgency":
        answers["urgency"] = value
        urgent_option = ctx.copy.get(f"{Q}.urgency.options")[0]
        if value == urgent_option:
            ctx.data["urgent"] = True
            replies.append(say(ctx.t(f"{Q}.urgency.urgent_note")))
    elif hk is not None:
        field = {
            "hk_age": "person_age",
            "hk_duration": "duration",
            "hk_knows": "person_knows",
            "hk_tired": "family_tiredness",
        }[key]
        hk[field] = value
        if key == "hk_tired" and value != ctx.copy.get(f"{Q}.hk_tired.options")[-1]:
            replies.append(say(ctx.t(f"{Q}.hk_tired.tired_reply")))
    return replies


def on_input(ctx: Ctx, inp: Input) -> Result:
    queue: list[str] = ctx.data.get("fu_queue") or []
    if not queue:
        return finish(ctx)
    key = queue[0]
    replies: list[Outbound] = []
    skipped = ctx.said(inp, "fu:skip", "followups.skip_words", "followups.skip_label")
    if ctx.data.get("fu_writing"):
        ctx.data.pop("fu_writing")
        if inp.has_words and not skipped:
            replies = _store(ctx, key, inp.raw_text or "")
    elif not skipped:
        _, options = _question(ctx, key)
        choice = picked_option(inp, options, f"fu:{key}")
        if key == "agencies" and choice == options[-1]:
            # 「ある（書きます）」: ask them to write it, same question still open.
            ctx.data["fu_writing"] = True
            return Result(State.FOLLOWUP, [ask(ctx)])
        if key == "agencies" and choice == options[0]:
            choice = ctx.t(f"{Q}.agencies.none_value")
        if choice is None and inp.has_words:
            choice = inp.raw_text  # every question accepts free text
        if choice is None:
            return Result(State.FOLLOWUP, [ask(ctx)])  # a stale button or a sticker: ask again
        replies = _store(ctx, key, choice)
    queue.pop(0)
    if queue:
        return Result(State.FOLLOWUP, [*replies, ask(ctx)])
    result = finish(ctx)
    result.messages[:0] = replies
    return result


def finish(ctx: Ctx) -> Result:
    from bot.dialogs.steps import consent

    ctx.data.pop("fu_queue", None)
    messages: list[Outbound] = []
    if is_family_of_hikikomori(ctx) and ctx.city.family_support:
        messages.append(say(ctx.t(f"{Q}.hk_info")))
    return Result(State.PREVIEW, messages + consent.enter(ctx))
