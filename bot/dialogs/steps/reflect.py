"""Step 4: say back what we understood, in plain words; 「合っている」 or correct it."""

from __future__ import annotations

import logging
from typing import Any

from bot.dialogs.core import Ctx, Input, Result, State, say
from bot.messages import Outbound

log = logging.getLogger(__name__)

# Topics the resident can see and toggle: the sheet's seven categories, plus ひきこもり, because
# it decides the family branch and families look for that word.
TOPICS = ("medical_welfare", "income", "work", "family", "parenting", "housing", "other", "hikikomori")
FACT_KEYS = ("subjects", "ages", "durations", "household", "agencies", "amounts")


def analyze_words(ctx: Ctx, words: list[str]) -> dict[str, Any]:
    try:
        analysis = ctx.analyzer.analyze("\n".join(w for w in words if w))
    except Exception:
        # The conversation must go on: with no topics, the resident is simply asked to pick them.
        log.exception("analysis failed; continuing without topics")
        return {
            "categories": [],
            "primary": None,
            "subcategories": [],
            "risk": [],
            "facts": {},
            "summary": "",
        }
    result = analysis.to_dict() if hasattr(analysis, "to_dict") else dict(analysis)
    result.pop("scores", None)  # model internals: not needed to reflect or to draft the sheet
    return result


def topics_of(analysis: dict[str, Any]) -> list[str]:
    topics = [c for c in analysis.get("categories") or [] if c in TOPICS]
    if "hikikomori" in (analysis.get("subcategories") or []):
        topics.append("hikikomori")
    return topics


def refresh_analysis(ctx: Ctx) -> None:
    """Analyse words that arrived since the last analysis (e.g. 人と話したい before 以上です).

    Topics the resident already confirmed or corrected stay; new words can only add topics.
    """
    if not ctx.words or ctx.data.get("analyzed_words") == len(ctx.words):
        return
    seen = ctx.data.get("analyzed_words") or 0
    analysis = analyze_words(ctx, ctx.words)
    ctx.data["analysis"] = analysis
    ctx.data["analyzed_words"] = len(ctx.words)
    if ctx.data.get("topics") is None:
        ctx.data["topics"] = topics_of(analysis)
        return
    topics = ctx.data["topics"]
    for t in topics_of(analyze_words(ctx, ctx.words[seen:])):
        if t not in topics:
            topics.append(t)


def effective_analysis(ctx: Ctx) -> dict[str, Any]:
    """The analysis as the resident confirmed or corrected it (topics override the model)."""
    from nlp.taxonomy import SUBCATEGORIES

    analysis = dict(ctx.data.get("analysis") or {})
    topics = ctx.data.get("topics")
    if topics is None:
        return analysis
    cats = [t for t in TOPICS if t in topics and t != "hikikomori"]
    if "hikikomori" in topics and "family" not in cats:
        cats.append("family")
    subs = [s for s in analysis.get("subcategories") or [] if SUBCATEGORIES.get(s, ("",))[0] in cats]
    if "hikikomori" in topics and "hikikomori" not in subs:
        subs.append("hikikomori")
    if "hikikomori" not in topics:
        subs = [s for s in subs if s != "hikikomori"]
    primary = analysis.get("primary")
    if primary not in cats:
        primary = cats[0] if cats else None
    analysis.update(categories=cats, subcategories=subs, primary=primary)
    return analysis


def topic_lines(ctx: Ctx, topics: list[str]) -> list[str]:
    return [ctx.t("reflect.topics_line", topic=ctx.t(f"topics.{t}")) for t in topics]


def fact_lines(ctx: Ctx, analysis: dict[str, Any]) -> list[str]:
    facts = analysis.get("facts") or {}
    lines = []
    for key in FACT_KEYS:
        values = [str(v) for v in facts.get(key) or [] if str(v).strip()]
        if values:
            lines.append(ctx.t(f"reflect.facts.{key}", value="、".join(dict.fromkeys(values))))
    return lines


def begin(ctx: Ctx) -> Result:
    """Analyse everything told so far and reflect it back."""
    from bot.dialogs.steps import correct

    ctx.data["analysis"] = analyze_words(ctx, ctx.words)
    ctx.data["analyzed_words"] = len(ctx.words)
    ctx.data["topics"] = topics_of(ctx.data["analysis"])
    if not ctx.data["topics"]:
        return Result(State.CORRECT_TOPICS, correct.enter_topics(ctx, lead=ctx.t("reflect.none_found")))
    return Result(State.REFLECT, enter(ctx))


def enter(ctx: Ctx) -> list[Outbound]:
    analysis = ctx.data.get("analysis") or {}
    lines = [ctx.t("reflect.intro"), *topic_lines(ctx, ctx.data.get("topics") or [])]
    facts = fact_lines(ctx, analysis)
    if facts:
        lines += ["", ctx.t("reflect.facts_intro"), *facts]
    lines += ["", ctx.t("reflect.question")]
    buttons = [ctx.button("reflect.ok_label", "reflect:ok"), ctx.button("reflect.fix_label", "reflect:fix")]
    return [say("\n".join(lines), buttons)]


def on_input(ctx: Ctx, inp: Input) -> Result:
    from bot.dialogs.steps import correct, followups

    if ctx.said(inp, "reflect:ok", "reflect.yes_words", "reflect.ok_label"):
        return followups.begin(ctx)
    if ctx.said(inp, "reflect:fix", "reflect.no_words", "reflect.fix_label"):
        return Result(State.CORRECT_TOPICS, correct.enter_topics(ctx))
    if inp.has_words:
        # More words instead of a yes/no: add them and reflect again with everything.
        ctx.words.append(inp.raw_text)
        return begin(ctx)
    return Result(State.REFLECT, enter(ctx))
