"""Step 2: who is it about — the writer's relation to the person (the sheet's writer type)."""

from __future__ import annotations

import re

from bot.dialogs.core import Ctx, Input, Result, State, say
from bot.messages import Outbound

WRITERS = ("self", "family", "acquaintance", "professional")

# When someone answers in their own words, a few plain cues tell us who they write about.
_CUES = (
    ("professional", re.compile(r"利用者|支援して|担当して|ケアマネ|民生委員|相談員|職員|事業所|ケース")),
    ("acquaintance", re.compile(r"近所|知り合い|友人|友だち|友達|隣の|同僚")),
    ("family", re.compile(r"母|父|息子|娘|夫|妻|家族|兄|姉|弟|妹|親|子ども|子供|祖|孫|主人|嫁")),
    ("self", re.compile(r"自分|私|わたし|僕|ぼく|俺")),
)


def guess_writer(text: str) -> str:
    for writer, cue in _CUES:
        if cue.search(text):
            return writer
    return "unknown"


def enter(ctx: Ctx) -> list[Outbound]:
    buttons = [ctx.button(f"about_whom.options.{w}", f"about:{w}") for w in WRITERS]
    buttons.append(ctx.button("about_whom.skip_label", "about:skip"))
    return [say(ctx.t("about_whom.question"), buttons)]


def on_input(ctx: Ctx, inp: Input) -> Result:
    from bot.dialogs.steps import telling

    for w in WRITERS:
        if ctx.said(inp, f"about:{w}", label_key=f"about_whom.options.{w}"):
            ctx.data["writer"] = w
            ctx.answers["about_whom"] = w
            return Result(State.TELLING, telling.enter(ctx))
    if ctx.said(inp, "about:skip", label_key="about_whom.skip_label"):
        ctx.data["writer"] = "unknown"
        return Result(State.TELLING, telling.enter(ctx))
    if inp.has_words:
        # They started telling instead of choosing: keep the words, guess gently, carry on.
        ctx.data["writer"] = guess_writer(inp.raw_text or "")
        ctx.words.append(inp.raw_text)
        return Result(State.TELLING, [telling.ack(ctx)])
    return Result(State.ABOUT_WHOM, enter(ctx))
