"""Facts for the つなぐシート: who, how old, how long, who lives there, who already helps, how much.

Patterns over normalised text. Values are returned in a canonical short form (お母さん → 母,
ケアマネさん → ケアマネジャー) in order of first appearance, without duplicates, so staff read
a tidy list and the dialogue can ask only what is still missing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from nlp.normalize import sentences


@dataclass
class Facts:
    subjects: list[str] = field(default_factory=list)
    ages: list[str] = field(default_factory=list)
    durations: list[str] = field(default_factory=list)
    household: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return asdict(self)


# canonical -> surface pattern. Order matters only for overlapping alternatives (longest first).
_PEOPLE: list[tuple[str, str]] = [
    ("義母", "義母|義理の母|姑|しゅうとめ|夫の母|妻の母"),
    ("義父", "義父|義理の父|舅|夫の父|妻の父"),
    ("祖母", "祖母|おばあちゃん|おばあさん|ばあちゃん|婆ちゃん"),
    ("祖父", "祖父|おじいちゃん|おじいさん|じいちゃん|爺ちゃん"),
    (
        "母",
        "(?<![祖義叔伯])母(?!子家庭|子手帳|国)|お母さん|おかあさん|お袋|おふくろ|おかん|母ちゃん|かあちゃん|ママ(?!友)|母親",
    ),
    (
        "父",
        "(?<![祖義叔伯])父(?!子家庭)|お父さん|おとうさん|親父|おやじ|おとん|父ちゃん|とうちゃん|パパ|父親",
    ),
    ("両親", "両親|親(?=が|は|も|と|の介護|に)(?<!両親)"),
    ("夫", "夫(?!婦)|旦那|主人|だんな|亭主|彼氏|パートナー"),
    ("妻", "(?<![夫])妻|嫁(?!姑)|家内|奥さん|かみさん|女房|彼女"),
    ("兄", "(?<![義])兄(?!弟)|お兄ちゃん|お兄さん|あにき|兄貴"),
    ("姉", "(?<![義])姉(?!妹)|お姉ちゃん|お姉さん|ねえちゃん"),
    ("弟", "(?<![兄義])弟"),
    ("妹", "(?<![姉義])妹"),
    ("息子", "息子|せがれ|長男|次男|三男|倅"),
    ("娘", "娘|長女|次女|三女"),
    ("子ども", "子ども|子供|こども|我が子|わが子|(?<![のお息様弟双王])子(?=が|は|も|と|を|に)"),
    ("孫", "孫"),
    ("叔父・叔母", "叔父|伯父|叔母|伯母|おじさん|おばさん"),
    ("親戚", "親戚|親族|甥|姪|いとこ"),
    ("近所の人", "近所の|隣の(?:家|方|人|おばあ|おじい)|隣人|近隣の"),
    ("知人", "友人|友達|知人|知り合い|同僚"),
    ("利用者", "利用者|担当している方|ケースの方"),
]
_PEOPLE_RE = [(name, re.compile(p)) for name, p in _PEOPLE]
_SELF_RE = re.compile(
    "(?:^|[^おご])(?:私|わたし|あたし|自分|僕|ぼく|俺|おれ|うち)(?:が|は|も|の|に|を|自身|って|、)"
)
# 私の息子 / うちの娘 only says whose relative it is: a parent writing about a son is not
# themselves the person affected (unless they say more about themselves elsewhere).
_PEOPLE_ANY = re.compile("|".join(f"(?:{p})" for _, p in _PEOPLE))

_AGES = re.compile(
    "(?<!\\d)(?:\\d{1,3}|[一二三四五六七八九十百]+)(?:代(?:前半|後半|半ば)?|歳|才|さい)(?![以月])"
    "|(?:小学|中学|高校)\\d年(?:生)?|(?:小|中|高)[1-6](?!\\d)|小学生|中学生|高校生|大学生|乳児|幼児|未就学|高齢"
    "|(?:生後)\\d+(?:か月|ヶ月|カ月)"
)
_PAREN_AGE = re.compile("(?<=[父母兄姉弟妹子娘夫妻人])[(（](\\d{1,3})(?:歳|才)?[)）]")
_KANJI_NUM = "[一二三四五六七八九十百数何]+"
_DURATIONS = re.compile(
    f"(?<!\\d)(?:\\d{{1,3}}|{_KANJI_NUM})(?:年(?![生金齢収末始度代頃号前後制目間]|前)|年間|か月|ヶ月|カ月|ケ月|ヵ月|か月間|週間|日間)"
    "(?:以上|近く|ほど|くらい|ぐらい|あまり|余り|半)?"
    f"|(?<!\\d)(?:\\d{{1,3}}|{_KANJI_NUM})年前から|半年(?:以上|近く|ほど|くらい)?|長年|ずっと前から|何年も"
)
_AMOUNTS = re.compile(
    "(?:月|年|毎月|月々|年間)?(?:約|およそ)?(?:\\d[\\d,.]*|[一二三四五六七八九十百千数]+)(?:万|千|百)?円"
    "|(?:月|年|毎月|月々|年間)?(?:約|およそ)?(?:\\d[\\d,.]*|[一二三四五六七八九十百数]+)万(?![人件歩])"
)
_AGENCIES: list[tuple[str, str]] = [
    ("地域包括支援センター", "地域包括|包括支援センター|包括(?!的)"),
    ("ケアマネジャー", "ケアマネ"),
    ("ハローワーク", "ハローワーク|ハロワ|職安"),
    ("病院", "病院|クリニック|医院|主治医|かかりつけ|精神科|心療内科"),
    ("学校", "学校|担任|スクールカウンセラー|スクールソーシャルワーカー|教頭|校長"),
    ("民生委員", "民生委員|民生さん"),
    ("社会福祉協議会", "社会福祉協議会|社協"),
    ("保健センター", "保健センター|保健師|保健所"),
    ("市役所", "市役所|役所|役場|市の窓口|福祉課|生活福祉課|福祉事務所"),
    ("ケースワーカー", "ケースワーカー"),
    ("児童相談所", "児童相談所|児相"),
    ("警察", "警察|交番"),
    ("弁護士・法テラス", "弁護士|法テラス|司法書士"),
    ("消費生活センター", "消費生活センター|消費者センター"),
    ("介護サービス", "デイサービス|ヘルパー|訪問看護|ショートステイ|訪問介護"),
    ("相談支援専門員", "相談支援専門員|相談支援事業所"),
    ("就労支援", "サポステ|若者サポートステーション|就労支援|就労移行"),
    ("ひきこもり支援センター", "ひきこもり地域支援センター|ひきこもり支援センター|精神保健福祉センター"),
    ("子育て支援", "子育て支援センター|子育て世代包括|家庭児童相談|こども家庭センター"),
    ("教育委員会", "教育委員会|適応指導教室|教育支援センター|フリースクール"),
    ("保育園・幼稚園", "保育園|保育所|幼稚園|こども園"),
    ("労働基準監督署", "労働基準監督署|労基"),
    ("不動産・大家", "不動産屋|大家|管理会社"),
    ("農協", "農協|ja(?![a-z])"),
]
_AGENCIES_RE = [(name, re.compile(p)) for name, p in _AGENCIES]
_HOUSEHOLD_CUE = re.compile(
    "同居|暮らし|一緒に住|住んで|住む|世帯|家族構成|(?:\\d|[二三四五六七八])人(?:家族|で)"
)
_HOUSEHOLD_FORM = re.compile(
    "(?:一人|独り|ひとり|1人)暮らし|(?:\\d|[二三四五六七八])人(?:暮らし|家族|世帯|で暮らし)|二世帯|三世代|母子家庭|父子家庭|ひとり親"
)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _people_in(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for name, pattern in _PEOPLE_RE:
        m = pattern.search(text)
        if m:
            found.append((m.start(), name))
    return sorted(found)


def _writer_is_affected(text: str) -> bool:
    for m in _SELF_RE.finditer(text):
        if not m.group().endswith("の"):
            return True
        rest = text[m.end() : m.end() + 12].lstrip(" 　")
        person = _PEOPLE_ANY.match(rest)
        # "私の息子" names a relative; "私の体調" / "私の借金" is about the writer.
        if person is None:
            return True
    return False


def extract_facts(text: str) -> Facts:
    """Facts from normalised text (callers normalise once and pass the result)."""
    facts = Facts()
    people = [name for _, name in _people_in(text)]
    if _writer_is_affected(text):
        people.insert(0, "本人")
    facts.subjects = _unique(people)
    ages = [(m.start(), m.group()) for m in _AGES.finditer(text)]
    ages += [(m.start(), f"{m.group(1)}歳") for m in _PAREN_AGE.finditer(text)]
    facts.ages = _unique([age for _, age in sorted(ages)])
    facts.durations = _unique([m.group() for m in _DURATIONS.finditer(text)])
    facts.amounts = _unique([m.group() for m in _AMOUNTS.finditer(text)])
    facts.agencies = _unique([name for name, p in _AGENCIES_RE if p.search(text)])
    household: list[str] = []
    for sentence in sentences(text):
        if _HOUSEHOLD_CUE.search(sentence):
            household += [m.group() for m in _HOUSEHOLD_FORM.finditer(sentence)]
            household += [
                name for _, name in _people_in(sentence) if name not in ("近所の人", "知人", "利用者")
            ]
        else:
            household += [m.group() for m in _HOUSEHOLD_FORM.finditer(sentence)]
    facts.household = _unique(household)
    return facts
