"""Draft the つなぐシート from what the bot learned. A pure function: no database, no clock.

`analysis` is `nlp.Analysis.to_dict()` (categories, primary, subcategories, risk, facts, summary).
`answers` are the dialogue's answers; every key is optional because every question is skippable:

    about_whom      "self" | "family" | "acquaintance" | "professional" (→ writer_type if not given)
    age_band        e.g. "50代" (the person's, not necessarily the writer's)
    household       list[str] or str, e.g. ["母（80代）"]
    duration        e.g. "10年以上"
    urgency         今日・明日中に困ること (free text or "なし")
    agencies_involved  list[str] or str
    contact_preference "line" | "phone" | "visit";  phone  only when the resident gave one
    hikikomori      {person_age, duration, person_knows, family_tiredness}
    special_notes   str
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.city import CityConfig
from handoff.directory import Directory
from handoff.schemas import HikikomoriInfo, PersonInfo, Referral, SheetDraft, SuggestedAgency
from nlp.taxonomy import CATEGORIES, RISK_FLAGS, SUBCATEGORIES

# The wording of the paper form's 多機関協働事業 reasons (長野市 つなぐシート, 紹介先 欄).
REASON_UNKNOWN_DESTINATION = "紹介先がわからないため（該当する組織やサービスがない等）"
REASON_SPANS_FIELDS = "複数の分野にまたがる課題があり、所管機関の役割の特定が困難なため"
REASON_HIKIKOMORI = "ひきこもりの状態があり、家族支援・アウトリーチを含む継続的な支援の検討が必要なため"

WRITER_TYPES = {"self", "family", "acquaintance", "professional", "unknown"}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value if str(v).strip()]


def _ordered_categories(analysis: dict[str, Any]) -> tuple[list[str], str | None]:
    cats = [c for c in analysis.get("categories") or [] if c in CATEGORIES]
    primary = analysis.get("primary")
    if primary not in CATEGORIES:
        primary = cats[0] if cats else None
    if primary and primary not in cats:
        cats.insert(0, primary)
    # 主訴 first, the rest in sheet order — how staff read the form.
    rest = [c for c in CATEGORIES if c in cats and c != primary]
    return ([primary] if primary else []) + rest, primary


def draft_sheet(
    *,
    analysis: dict[str, Any],
    answers: dict[str, Any],
    resident_words: list[str],
    writer_type: str,
    city: CityConfig,
    directory: Directory,
    now: datetime,
) -> SheetDraft:
    categories, primary = _ordered_categories(analysis)
    subcategories = [s for s in analysis.get("subcategories") or [] if s in SUBCATEGORIES]
    # A subcategory implies its parent is ticked too, as on the paper form.
    for s in subcategories:
        parent = SUBCATEGORIES[s][0]
        if parent not in categories:
            categories.append(parent)
    if primary is None and categories:
        primary = categories[0]
    risk = [r for r in analysis.get("risk") or [] if r in RISK_FLAGS]
    facts = analysis.get("facts") or {}

    writer = writer_type if writer_type in WRITER_TYPES else "unknown"
    if writer == "unknown" and answers.get("about_whom") in WRITER_TYPES:
        writer = answers["about_whom"]

    hikikomori_answers = answers.get("hikikomori") or {}
    is_hikikomori = "hikikomori" in subcategories or bool(hikikomori_answers)
    hikikomori = HikikomoriInfo(**{k: hikikomori_answers.get(k) for k in HikikomoriInfo.model_fields})

    suggestions = directory.suggest(categories, subcategories)
    reasons: list[str] = []
    if len(categories) >= 2:
        reasons.append(REASON_SPANS_FIELDS)
    if is_hikikomori:
        reasons.append(REASON_HIKIKOMORI)
    if not suggestions or not categories or categories == ["other"]:
        reasons.append(REASON_UNKNOWN_DESTINATION)

    household = _as_list(answers.get("household")) or _as_list(facts.get("household"))
    agencies_involved = _as_list(answers.get("agencies_involved")) or _as_list(facts.get("agencies"))
    duration = answers.get("duration") or hikikomori_answers.get("duration")
    if not duration and facts.get("durations"):
        duration = "、".join(facts["durations"])

    notes: list[str] = []
    if risk:
        notes.append(
            "危険の兆候: " + "、".join(RISK_FLAGS[r] for r in risk) + "（窓口・緊急の連絡先を案内済み）"
        )
    if answers.get("special_notes"):
        notes.append(str(answers["special_notes"]))

    preference = answers.get("contact_preference")
    return SheetDraft(
        received_at=now,
        receiving_agency=city.desk_name,
        channel="LINE",
        writer_type=writer,  # type: ignore[arg-type]
        person=PersonInfo(
            age_band=answers.get("age_band") or hikikomori_answers.get("person_age"),
            phone=answers.get("phone") if preference == "phone" else None,
        ),
        household=household,
        categories=categories,
        primary=primary,
        subcategories=subcategories,
        risk=risk,
        summary=str(analysis.get("summary") or ""),
        resident_words=[w for w in resident_words if w and w.strip()],
        duration=duration,
        urgency=answers.get("urgency"),
        special_notes="\n".join(notes),
        hikikomori=hikikomori if is_hikikomori else None,
        agencies_involved=agencies_involved,
        contact_preference=preference if preference in ("line", "phone", "visit") else None,
        referral=Referral(
            suggestions=[
                SuggestedAgency(
                    name=a.name, department=a.department, phone=a.phone, hours=a.hours, topic=a.topic
                )
                for a in suggestions
            ],
            multi_agency=bool(reasons),
            reason="／".join(reasons),
        ),
    )
