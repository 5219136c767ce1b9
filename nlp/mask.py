"""Masking of personal details in text that is logged or shown before consent.

Patterns catch what has a shape (phone numbers, e-mail addresses, street addresses, postal
codes); names come from Sudachi's 人名 tags (cheap, on the tokenizer) and, when the full GiNZA
pipeline is available, its NER `Person` entities. Masks keep the kind visible (［電話］) so a
reader still understands the sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

PHONE = "［電話］"
EMAIL = "［メール］"
ADDRESS = "［住所］"
NAME = "［氏名］"
POSTAL = "［郵便番号］"

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<![\d])(?:\+81[- ]?|0)\d{1,4}[- (]?\d{1,4}[- )]?\d{3,4}(?![\d])")
_POSTAL_RE = re.compile(r"〒?\s?(?<!\d)\d{3}-\d{4}(?!\d)")
# 〇〇市△△町1丁目2-3 / 中央1-2-3 / 3番地の5 / 〇〇マンション101号室
_ADDRESS_RE = re.compile(
    r"[ァ-ヶー一-龥]{0,12}(?:\d+号棟)?\d+号室|"
    r"(?:[一-龥ァ-ヶ]{1,6}(?:都|道|府|県))?(?:[一-龥ァ-ヶ]{1,8}(?:市|区|町|村|郡))*"
    r"(?:大字|字)?[一-龥ァ-ヶ]{0,8}?"
    r"(?:\d+|[一二三四五六七八九十]+)(?:丁目|番地|番|号|-)(?:(?:\d+|[一二三四五六七八九十]+)(?:番地|番|号|-)?)*"
    r"(?:\d+(?:号室)?)?"
    r"(?:[ァ-ヶー一-龥]{0,10}(?:マンション|アパート|ハイツ|コーポ|荘|団地|住宅)\s?\d*(?:号室|号棟)?)?"
)
# A number followed by 丁目/番地/号 is an address; a bare "1-2-3" needs at least two hyphens.
_ADDRESS_SHAPE = re.compile(r"丁目|番地|\d+番\d*号?|\d+-\d+-\d+|号室")
_HONORIFIC_NAME = re.compile(r"(?<![一-龥])[一-龥]{1,5}(?=さん|くん|君|ちゃん|様|さま|氏|先生)")
_NOT_A_NAME = frozenset(
    [
        "母",
        "父",
        "兄",
        "姉",
        "弟",
        "妹",
        "息子",
        "娘",
        "夫",
        "妻",
        "嫁",
        "祖母",
        "祖父",
        "叔母",
        "叔父",
        "伯母",
        "伯父",
        "孫",
        "奥",
        "旦那",
        "お母",
        "お父",
        "お兄",
        "お姉",
        "主人",
        "先生",
        "大家",
        "民生委員",
        "民生",
        "包括",
        "担任",
        "医者",
        "店長",
        "課長",
        "部長",
        "係長",
        "社長",
        "看護師",
        "保健師",
        "相手",
        "彼",
        "彼女",
        "友達",
        "近所",
        "隣",
        "皆",
        "運転手",
        "職員",
        "役所",
        "店員",
        "警察",
        "弁護士",
        "司法書士",
        "相談員",
        "支援員",
        "校長",
        "教頭",
        "園長",
        "主任",
        "上司",
        "先輩",
        "後輩",
        "同僚",
        "義母",
        "義父",
        "姑",
        "舅",
        "親戚",
        "親",
        "大将",
        "患者",
        "利用者",
        "婆",
        "爺",
        "神",
        "仏",
        "王",
        "駅員",
        "大工",
        "住職",
        "和尚",
        "館長",
        "委員",
        "保育士",
        "医師",
        "歯医者",
        "薬剤師",
        "会長",
        "区長",
        "班長",
        "町長",
        "市長",
        "議員",
        "刑事",
    ]
)


def mask_patterns(text: str) -> str:
    """Mask what has a shape: e-mail, postal code, phone, street address."""
    out = unicodedata.normalize("NFKC", text)
    out = _EMAIL_RE.sub(EMAIL, out)
    out = _PHONE_RE.sub(PHONE, out)
    out = _POSTAL_RE.sub(POSTAL, out)
    out = _ADDRESS_RE.sub(lambda m: ADDRESS if _ADDRESS_SHAPE.search(m.group()) else m.group(), out)
    return out


def mask_names(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Replace the character spans (start, end) with the name mask, merging neighbours."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = []
    last = 0
    for start, end in merged:
        out.append(text[last:start])
        out.append(NAME)
        last = end
    out.append(text[last:])
    return "".join(out)


def honorific_name_spans(text: str) -> list[tuple[int, int]]:
    """Kanji before さん/くん/様 that are not a role (お母さん, 民生委員さん, 先生)."""
    spans = []
    for m in _HONORIFIC_NAME.finditer(text):
        word = m.group()
        if word in _NOT_A_NAME or any(word.endswith(role) for role in _NOT_A_NAME if len(role) > 1):
            continue
        spans.append((m.start(), m.end()))
    return spans


def mask(text: str, name_spans: Callable[[str], list[tuple[int, int]]]) -> str:
    """Mask shaped details first (so digits never reach the tokenizer), then names."""
    shaped = mask_patterns(text)
    spans = name_spans(shaped) + honorific_name_spans(shaped)
    return mask_names(shaped, spans)
