"""Step 6: preview exactly what will be shared (the draft つなぐシート) and ask for consent.

The previewed sheet is stored in the conversation and is exactly what the handoff sends, so the
resident agrees to what they saw. The consent text is versioned; the version goes with the answer.
"""

from __future__ import annotations

from typing import Any

from bot.dialogs import flex
from bot.dialogs.core import Ctx, Input, RequestHandoff, Result, State, say
from bot.dialogs.steps.reflect import effective_analysis, refresh_analysis
from bot.messages import Outbound

Q_HK = "preview.hikikomori_fields"


def consent_text(ctx: Ctx, kind: str = "normal") -> tuple[str, str]:
    """(version, text) of the consent the resident is asked for."""
    key = "consent.urgent_text" if kind == "urgent" else "consent.text"
    return str(ctx.copy.get("consent.version")), ctx.t(key)


def build_sheet(ctx: Ctx):
    from handoff.directory import Directory
    from handoff.sheet import draft_sheet

    refresh_analysis(ctx)
    answers = dict(ctx.answers)
    if answers.get("child_age"):
        answers["special_notes"] = ctx.t("preview.child_age_note", value=answers["child_age"])
    analysis = effective_analysis(ctx)
    if ctx.data.get("risk"):
        analysis["risk"] = sorted(set(analysis.get("risk") or []) | set(ctx.data["risk"]))
    return draft_sheet(
        analysis=analysis,
        answers=answers,
        resident_words=list(ctx.words),
        writer_type=ctx.writer,
        city=ctx.city,
        directory=ctx.directory() or Directory(),
        now=ctx.now,
    )


def _rows(ctx: Ctx, sheet: Any) -> list[tuple[str, str]]:
    p = "preview"
    unknown = ctx.t(f"{p}.unknown")
    topics = [ctx.t(f"topics.{c}") for c in sheet.categories]
    if sheet.hikikomori is not None or "hikikomori" in sheet.subcategories:
        topics.append(ctx.t("topics.hikikomori"))
    rows = [
        (ctx.t(f"{p}.about_label"), ctx.t(f"{p}.writer.{sheet.writer_type}")),
        (ctx.t(f"{p}.topics_label"), "\n".join(topics) or unknown),
    ]
    if sheet.primary:
        rows.append((ctx.t(f"{p}.primary_label"), ctx.t(f"topics.{sheet.primary}")))
    person = []
    if sheet.person.age_band:
        person.append(f"{ctx.t(f'{p}.age_label')}：{sheet.person.age_band}")
    if sheet.household:
        person.append(f"{ctx.t(f'{p}.household_label')}：{'、'.join(sheet.household)}")
    rows.append((ctx.t(f"{p}.person_label"), "\n".join(person) or unknown))
    if sheet.hikikomori is not None:
        hk = sheet.hikikomori
        labels = ctx.copy.get(f"{Q_HK}")
        parts = [f"{labels[k]}：{getattr(hk, k)}" for k in labels if getattr(hk, k, None)]
        if parts:
            rows.append((ctx.t(f"{p}.hikikomori_label"), "\n".join(parts)))
    if sheet.duration:
        rows.append((ctx.t(f"{p}.duration_label"), sheet.duration))
    if sheet.urgency:
        rows.append((ctx.t(f"{p}.urgency_label"), sheet.urgency))
    if sheet.agencies_involved:
        rows.append((ctx.t(f"{p}.agencies_label"), "、".join(sheet.agencies_involved)))
    if sheet.special_notes:
        rows.append((ctx.t(f"{p}.notes_label"), sheet.special_notes))
    if sheet.summary:
        rows.append((ctx.t(f"{p}.summary_label"), sheet.summary))
    return rows


def preview_messages(ctx: Ctx, sheet: Any) -> list[Outbound]:
    words = list(sheet.resident_words)
    more = len(words) - flex.WORDS_SHOWN
    bubble = flex.sheet_bubble(
        title=ctx.t("preview.title"),
        rows=_rows(ctx, sheet),
        words_label=ctx.t("preview.words_label"),
        words=words or [ctx.t("preview.nothing")],
        words_more=ctx.t("preview.words_more", count=more) if more > 0 else None,
        footer=ctx.t("preview.footer") + ("\n" + ctx.t("preview.words_cut") if flex.is_cut(words) else ""),
    )
    return [say(ctx.t("preview.intro")), Outbound(flex=bubble, alt_text=ctx.t("preview.alt_text"))]


def consent_question(ctx: Ctx) -> Outbound:
    _, text = consent_text(ctx)
    buttons = [ctx.button("consent.yes_label", "consent:yes"), ctx.button("consent.no_label", "consent:no")]
    return say(text, buttons)


def enter(ctx: Ctx) -> list[Outbound]:
    sheet = build_sheet(ctx)
    ctx.data["sheet"] = sheet.model_dump(mode="json")
    return [*preview_messages(ctx, sheet), consent_question(ctx)]


def on_input(ctx: Ctx, inp: Input) -> Result:
    from bot.dialogs.steps import contact, declined

    if ctx.said(inp, "consent:yes", "consent.yes_words", "consent.yes_label"):
        return Result(
            State.CONTACT,
            contact.enter(ctx),
            [RequestHandoff(urgent=bool(ctx.data.get("urgent")))],
        )
    if ctx.said(inp, "consent:no", "consent.no_words", "consent.no_label"):
        return Result(State.DECLINED, declined.enter(ctx))
    if inp.has_words:
        # Something to add before deciding: add it and show the updated sheet again.
        ctx.words.append(inp.raw_text)
        return Result(State.PREVIEW, enter(ctx))
    return Result(State.PREVIEW, [consent_question(ctx)])
