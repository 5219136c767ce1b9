"""The つなぐシート (referral sheet) as data, shaped like 長野市's form (../shared/domain.md).

`SheetDraft` is what the bot drafts and what staff revise. It is stored as JSON (encrypted) with
each revision kept. Everything about the person is optional: the bot is anonymous.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

WriterType = Literal["self", "family", "acquaintance", "professional", "unknown"]
ContactPreference = Literal["line", "phone", "visit"]


class PersonInfo(BaseModel):
    """基本情報 (本人). An anonymous resident leaves most of it 不明."""

    name: str | None = None  # never asked by the bot
    age_band: str | None = None  # "30代", "80代以上", ...
    sex: str | None = None
    household_size: int | None = None
    address_area: str | None = None
    phone: str | None = None  # only when the resident chose 電話がほしい and gave one


class SuggestedAgency(BaseModel):
    name: str
    department: str = ""
    phone: str = ""
    hours: str = ""
    topic: str = ""


class Referral(BaseModel):
    """紹介先: a suggested agency, or 多機関協働 when the case spans fields or the destination is unclear."""

    suggestions: list[SuggestedAgency] = Field(default_factory=list)
    multi_agency: bool = False
    reason: str = ""


class ConsentInfo(BaseModel):
    given: bool = False
    at: datetime | None = None
    text_version: str | None = None
    withdrawn_at: datetime | None = None


class HikikomoriInfo(BaseModel):
    """Family-of-hikikomori branch answers."""

    person_age: str | None = None
    duration: str | None = None
    person_knows: str | None = None  # はい / いいえ / わからない
    family_tiredness: str | None = None


class SheetDraft(BaseModel):
    # 受付
    received_at: datetime
    receiving_agency: str
    staff_in_charge: str | None = None
    channel: str = "LINE"
    # 基本情報 and 同居等の家族
    writer_type: WriterType = "unknown"
    person: PersonInfo = Field(default_factory=PersonInfo)
    household: list[str] = Field(default_factory=list)
    # ご相談内容
    categories: list[str] = Field(default_factory=list)
    primary: str | None = None
    subcategories: list[str] = Field(default_factory=list)
    risk: list[str] = Field(default_factory=list)
    # 具体的な内容・配慮すべき事項・特記事項
    summary: str = ""
    resident_words: list[str] = Field(default_factory=list)
    duration: str | None = None
    urgency: str | None = None  # 今日・明日中に困ること
    special_notes: str = ""
    hikikomori: HikikomoriInfo | None = None
    # 既に支援に入っている機関
    agencies_involved: list[str] = Field(default_factory=list)
    # 同意
    consent: ConsentInfo = Field(default_factory=ConsentInfo)
    contact_preference: ContactPreference | None = None
    # 紹介先, スクリーニング, 相談結果・方針 (staff fill the last two)
    referral: Referral = Field(default_factory=Referral)
    screening_date: datetime | None = None
    result_policy: str | None = None
