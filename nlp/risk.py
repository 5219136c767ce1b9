"""Crisis detection by rules: a lexicon with context and negation.

Why rules: a missed crisis is the worst bug this bot can have, and a lexicon is auditable,
testable phrase by phrase and does not drift when the model is retrained. The trained model may
add a second signal (OR), never remove one.

How it works, per risk view of the text (see `risk_views`):
1. Idioms and harmless neighbours (死ぬほど忙しい, 笑い死ぬ, 首になった, 殺虫剤, 自殺対策の講座 …)
   are blanked out first, so they cannot match.
2. Every lexicon pattern is searched over the whole text (no length cap: a crisis sentence at
   the end of a 10,000-character rant still counts).
3. A match followed by a negation (死にたいとは思っていない, 死ぬつもりはない) is dropped unless
   the negation is itself negated (死にたいと思わない日はない).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.normalize import normalize, to_hiragana

SUICIDE = "suicide_risk"
VIOLENCE = "violence_risk"
MEDICAL = "medical_emergency"
FLAG_ORDER = (SUICIDE, VIOLENCE, MEDICAL)

# Kanji-or-kana alternatives for the key words, so kana-only writing matches too.
SHI = "(?:死|し)"
KIE = "(?:消|き)"
IKI = "(?:生|い)"
KOROSU = "(?:殺|ころ)"
NAGU = "(?:殴|なぐ)"
SHINU_WISH = f"{SHI}に(?:たい|たく(?!な[いか])|て[えぇー]|たか|とう)"

# Harmless neighbours: replaced by "＿" before matching (same length keeps offsets stable).
_TRAPS = [
    f"{SHI}ぬ(?:ほど|くらい|ぐらい|程)",  # 死ぬほど忙しい
    f"{SHI}ぬかと(?:思|おも)",  # 死ぬかと思った (a scare, told afterwards)
    f"{SHI}ぬ(?:まで|までに)",  # 死ぬまでに一度は
    f"笑い{SHI}|(?:笑|わら)いすぎて{SHI}|腹筋{SHI}|{SHI}ぬほど笑",
    f"(?:ゲーム|げーむ|ドラマ|映画|漫画|マンガ|アニメ|小説|キャラ|ゾンビ)[^。]{{0,12}}?(?:{SHI}|{KOROSU}|殴)",
    "首に(?:な|され|する)|首を切られ|首切り|クビ",  # dismissal, not hanging
    f"(?:亡|な)くな(?:っ|り|る)|{SHI}去|{SHI}別|{SHI}亡(?:届|診断|保険|退職)",
    "自殺(?:対策|予防|防止|総合対策|対策推進)|(?:ゲートキーパー|いのちの電話)[^。]{0,6}(?:講座|研修|養成|ボランティア)",
    f"(?:{KOROSU}虫|{KOROSU}菌|{KOROSU}鼠|{KOROSU}到|{KOROSU}風景|必{KOROSU}|{KOROSU}生|黙{KOROSU}|相{KOROSU}|悩{KOROSU}|{KOROSU}陣|息を{KOROSU}|声を{KOROSU}|{KOROSU}し文句)",
    "(?:虐待|暴力|dv|ハラスメント)(?:防止|予防|対策)?[^。]{0,4}(?:講座|研修|講演|セミナー|勉強会|啓発|研究|防止法)",
    "(?:ネット|ネット上|sns|ツイッター|twitter|x|掲示板|ヤフコメ|コメント)で(?:叩|たた)か",
    "(?:肩|太鼓|ドア|扉|キーボード|布団|手|背中)を(?:叩|たた)",
    "叩き台|たたき台|殴り書き|なぐり書き|(?:死|し)に(?:体|たい)けん|死活",
    "(?:息|いき)(?:抜き|ぬき)",
    "(?:眠|ねむ)(?:れない|れず)",  # insomnia is a symptom, handled by the classifier
    "心中(?:お察し|察し|穏やか|複雑)",
    "(?:気|き)(?:が|も)?(?:狂いそう|くるいそう)",
]
_TRAP_SOURCE = "|".join(f"(?:{t})" for t in _TRAPS)
_TRAP_RES = (re.compile(_TRAP_SOURCE), re.compile(to_hiragana(_TRAP_SOURCE)))

# (flag, pattern). Patterns are searched over the risk view; write kana alternatives where
# kana-only writing is plausible.
_LEXICON: list[tuple[str, str]] = [
    # --- suicide: direct ---
    (SUICIDE, SHINU_WISH),
    (
        SUICIDE,
        f"{SHI}の(?:う|っか)(?:かな|と|か)|{SHI}んで(?:しま|しも|ま)いたい|{SHI}んじゃいたい|{SHI}んでやる",
    ),
    (
        SUICIDE,
        f"{SHI}んだ(?:ほう|方)が(?:まし|マシ|いい|良い|楽|ええ)|{SHI}んだら(?:楽|らく)|{SHI}ねたら|{SHI}ねば(?:楽|いい)",
    ),
    (
        SUICIDE,
        f"{SHI}ぬ(?:しか|つもり|気|覚悟|準備|方法|場所|勇気|こと(?:ばかり|しか|を考))|{SHI}に(?:方|場所|そびれ)",
    ),
    (SUICIDE, f"{SHI}なせて|もう{SHI}にます|{SHI}を選|{SHI}にに行"),
    (SUICIDE, "自殺|自死|自害|命を(?:絶|断|終わら)|自ら命|いのちを(?:絶|断)|自分で命"),
    (
        SUICIDE,
        "首(?:を)?(?:吊|つ)(?:る|り|っ|ろ)|首吊り|首つり|(?:縄|なわ|ロープ|ろーぷ)を(?:買|用意|準備|かけ|結)",
    ),
    (
        SUICIDE,
        "飛び(?:降|お)り(?:たい|よう|る|た|ようと)|(?:電車|線路|ホーム)に飛び込|飛び込み(?:たい|自殺)|飛び込もう",
    ),
    (SUICIDE, "練炭|樹海|遺書|身辺整理|(?:死|し)に場所"),
    (
        SUICIDE,
        "(?:薬|くすり|睡眠薬|眠剤)を?(?:ため|貯め|溜め|大量|全部|まとめて|いっぱい|たくさん)[^。]{0,6}(?:飲|の[むんみ]|あ)",
    ),
    (SUICIDE, "(?:薬|くすり|睡眠薬|眠剤)を?(?:貯め|ため|溜め)(?:て(?:いる|る|ある|おいて)|込)"),
    (SUICIDE, "オーバードーズ|odし|過量服薬"),
    (SUICIDE, "リスカ|リストカット|手首を切|腕を切って|自傷|自分を傷つけ|切りたくな"),
    # --- suicide: indirect ---
    (
        SUICIDE,
        f"{KIE}え(?:たい|たく(?!な[いか])|てしまいたい|ちゃいたい|てなくなりたい|てしまえたら|てしまえば|られたら|て[えぇ](?!る))",
    ),
    (SUICIDE, "いなくなりたい|居なくなりたい|いなくなってしまいたい|この世から|あの世に"),
    (SUICIDE, f"{IKI}き(?:て(?:い)?|る)?(?:たく|ていたく)(?:ない|な[いか]|ね)"),
    (
        SUICIDE,
        f"{IKI}き(?:てる|ている|る|てい|て)(?:意味|価値|理由)(?:が|も|は)?(?:ない|無い|わからない|分からない|見いだせ|見つから)",
    ),
    (
        SUICIDE,
        f"{IKI}き(?:る|てる|ている|ていく)?(?:の|こと)?(?:が|に)(?:つら|辛|しんど|嫌|いや|疲れ|つかれ|苦し)",
    ),
    (SUICIDE, f"{IKI}き(?:る|ていく)(?:気力|希望)|{IKI}きてても(?:仕方|しかた|しょうが)"),
    (
        SUICIDE,
        "楽になりたい|らくになりたい|終わりにしたい|終わらせたい|おわらせたい|人生を(?:終|お)わら|全部(?:終|お)わりに",
    ),
    (
        SUICIDE,
        "朝が(?:来|こ)なければ|朝(?:が)?来なきゃ|目が覚めなければ|目覚めなければ|目が覚めないで|眠ったまま|ずっと眠っていたい|永遠に眠",
    ),
    (
        SUICIDE,
        "(?:私|自分|わたし|僕|俺|あたし|うち)が?(?:なんか)?いない(?:ほう|方)が|(?:私|自分|わたし|僕|俺|あたし)(?:なんて|なんか)いない(?:ほう|方)",
    ),
    (SUICIDE, "生まれてこなければ|生まれてこなきゃ|生まれてこなかったら|産まれてこなければ"),
    (SUICIDE, "道連れ|心中|一緒に(?:死|し)"),
    (SUICIDE, f"{SHI}にそうな(?:気持ち|くらい追い詰)|{SHI}ぬことを考え|{SHI}について考えてしまう"),
    # --- violence: now or soon ---
    (VIOLENCE, f"{NAGU}(?:られ|ら|り|って|る|った)|蹴(?:られ|ら|り|って|る|った)|けられ"),
    (VIOLENCE, "(?:叩|たた)(?:かれ|いて|く|いた|いちゃ|いてしま)|(?:ぶた|ぶっ)れ|平手"),
    (VIOLENCE, "暴力|暴れ(?:て|る|た|出)|手を(?:上げ|あげ)|手が出|物を投げ|物が飛んで|壁を(?:殴|蹴|叩)"),
    (VIOLENCE, "首を(?:絞|締|し)め|のどを絞め|馬乗り|髪を(?:引っ張|つかま|掴)|突き飛ば|引きずり"),
    (
        VIOLENCE,
        f"{KOROSU}(?:す|される|されそう|してやる|したい|してしまいそう|しそう|すぞ|すと|すって|される|され|し(?:か|て)ね)",
    ),
    (VIOLENCE, "(?:包丁|ナイフ|刃物|はもの|ほうちょう|バット)(?:を|で)?(?:持|向|振|突き|出し|もって)|刃物"),
    (
        VIOLENCE,
        "脅(?:さ|し|迫)|おどさ|脅迫|監禁|閉じ込め(?:られ|て)|外に出してもらえ|逃げ(?:てきた|たい|られない|出した|てる|ている)",
    ),
    (
        VIOLENCE,
        "(?:トイレ|押し入れ|車|クローゼット|物置|部屋)(?:に|の中に)(?:隠|かく)れ|(?:隠|かく)れて(?:いる|る|います)",
    ),
    (
        VIOLENCE,
        "虐待|ぎゃくたい|ネグレクト|性的(?:な)?(?:被害|暴行|虐待)|無理やり|むりやり|レイプ|dv|ドメスティック",
    ),
    (VIOLENCE, "(?:あざ|痣|アザ)(?:が|だらけ|を)|怪我をさせ|やけどをさせ|タバコを押し付け"),
    (
        VIOLENCE,
        "ストーカー|つきまと|付きまと|待ち伏せ|家の前に(?:いる|来)|(?:元夫|元妻|元彼|元カレ)が(?:来|押しかけ)",
    ),
    (VIOLENCE, "火をつけ|放火|ガソリン"),
    # --- medical emergency: now ---
    (MEDICAL, "意識(?:が|は)?(?:ない|無い|なく|戻らな|もうろう|朦朧|がおかしい|が遠)|意識不明"),
    (
        MEDICAL,
        "(?:息|呼吸)(?:を|が)?(?:していな|してな|してい?ない|止ま|とま|できな|苦しそう|が荒|がおかしい|が弱)",
    ),
    (
        MEDICAL,
        "倒れ(?:て|た)(?:動かな|うごかな|意識|起き(?:な|上がれ)|返事|反応|息)|倒れて(?:い|)る|倒れてます|(?:今|いま|さっき|急に)倒れ",
    ),
    (MEDICAL, "(?:反応|返事)が(?:ない|無い)|呼びかけに(?:応|こた)え|動かなくな"),
    (MEDICAL, "血が止まらな|大量(?:に)?出血|吐血|血を吐|下血"),
    (MEDICAL, "けいれん|痙攣|ひきつけ|ろれつが回ら|呂律が回ら|顔が(?:ゆが|歪)|片方の(?:手足|腕)"),
    (MEDICAL, "胸が(?:痛|苦し|締め付け)|胸を押さえ|喉に詰ま|のどに詰ま|誤嚥"),
    (MEDICAL, "救急車|きゅうきゅうしゃ|119(?:番)?(?:に|を|した|する|へ)|救急(?:外来|搬送)"),
    (MEDICAL, "冷たくなって|頭を(?:強く)?打って|(?:階段|屋根|脚立|はしご)から(?:落|転)"),
    (MEDICAL, "(?:熱|ねつ)が(?:4[0-2]|39)度|高熱で(?:動けな|意識|ぐったり)|ぐったりして(?:動|反応|返事)"),
    (
        MEDICAL,
        "(?:薬|くすり|睡眠薬)を(?:大量|全部|まとめて|たくさん)[^。]{0,4}(?:飲んだ|のんだ|飲んで)|odした",
    ),
]
_COMPILED = (
    [(flag, re.compile(pattern)) for flag, pattern in _LEXICON],
    [(flag, re.compile(to_hiragana(pattern))) for flag, pattern in _LEXICON],
)

# Negation right after a match: 死にたいとは思っていない / 死ぬつもりはない / 死にたいわけじゃない.
_NEGATION = re.compile(
    "^(?:"
    "(?:っていう|という|と|とは|なんて|とか|って|とも|とまでは)(?:は|も)?"
    "(?:全然|まったく|全く|一度も|別に|少しも|今は|もう)?"
    "(?:(?:思|おも|考|かんが)(?:わ|え|えて|って|ったこと|えたこと|ったことは|えたことは)(?:い|は|も)?"
    "|(?:言|い)(?:って(?:い)?|わ|ったことは))"
    "(?:ない|ません|なかった|ないです|ず)"
    "|(?:って|という)?(?:わけ|訳)(?:じゃ|では|で)(?:は)?(?:ない|ありません|なく)"
    "|(?:は|も)(?:全く|全然|まったく|さらさら)?(?:ない|ありません|無い)"
    ")"
)
# ... unless the negation is negated again: 死にたいと思わない日はない.
_DOUBLE_NEGATION = re.compile("^(?:日|ひ|時|とき|ことは|事は|夜)(?:は|も)?(?:ない|ありません|無い)")

# Reported risk about *third* parties the bot can't help with is still risk: we keep it.


@dataclass(frozen=True)
class RiskHit:
    flag: str
    start: int
    end: int
    phrase: str


def risk_views(text: str) -> tuple[str, str]:
    """The two texts the lexicon reads: normalised without spaces, and the same in hiragana.

    The hiragana view lets シニタイ / しにたい meet the kana alternatives of the patterns; it is
    read with the patterns converted to hiragana too, so katakana words (ロープ, ゲーム) still
    match. Small vowels are enlarged (しにてぇ → しにてえ).
    """
    view = normalize(text).replace(" ", "").translate(_SMALL_VOWELS)
    return view, to_hiragana(view)


_SMALL_VOWELS = str.maketrans("ぁぃぅぇぉァィゥェォ", "あいうえおアイウエオ")


def _blank(match: re.Match[str]) -> str:
    return "＿" * (match.end() - match.start())


def find_risks(text: str) -> list[RiskHit]:
    """All lexicon hits that survive traps and negation, in text order (both views merged)."""
    hits: dict[tuple[str, int], RiskHit] = {}
    for view, trap_re, lexicon in zip(risk_views(text), _TRAP_RES, _COMPILED, strict=True):
        view = trap_re.sub(_blank, view)
        for flag, pattern in lexicon:
            for match in pattern.finditer(view):
                if _negated(view, match.end()):
                    continue
                hits.setdefault(
                    (flag, match.start()), RiskHit(flag, match.start(), match.end(), match.group())
                )
    return sorted(hits.values(), key=lambda h: h.start)


def _negated(view: str, end: int) -> bool:
    tail = view[end : end + 24]
    negation = _NEGATION.match(tail)
    if not negation:
        return False
    return not _DOUBLE_NEGATION.match(tail[negation.end() :])


def detect(text: str) -> list[str]:
    """The risk flags present in `text`, in a fixed order."""
    found = {hit.flag for hit in find_risks(text)}
    return [flag for flag in FLAG_ORDER if flag in found]
