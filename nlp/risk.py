"""Crisis detection by rules: a lexicon with context and negation.

Why rules: a missed crisis is the worst bug this bot can have, and a lexicon is auditable,
testable phrase by phrase and does not drift when the model is retrained. The trained model may
add a second signal (OR), never remove one.

How it works, on two views of the text (normalised; and the same in hiragana, so kana-only
writing meets the kana spellings of the patterns):
1. Idioms and harmless neighbours (死ぬほど忙しい, 笑い死ぬ, 首になった, 殺虫剤, 自殺対策の講座,
   清水の舞台から飛び降りる …) are blanked out first, so they cannot match.
2. Every lexicon pattern is searched over the whole text — no length cap: a crisis sentence at
   the end of a 10,000-character rant still counts.
3. A hit is dropped when it is negated right after (死にたいとは思っていない, 死ぬつもりはない,
   消えたいとかじゃない) unless the negation is negated again (死にたいと思わない日はない), or
   when it is told as the past *and* the message says it is over (以前は死にたいと思っていたが、
   今は落ち着いています). Anything else fires: when in doubt, show the numbers.
4. Short, urgent messages that pair a body symptom with a cry for help (あたまいたい はきそう
   たてない / むねがいたい うごけない) count as a medical emergency even without a lexicon hit.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.normalize import normalize, to_hiragana

SUICIDE = "suicide_risk"
VIOLENCE = "violence_risk"
MEDICAL = "medical_emergency"
FLAG_ORDER = (SUICIDE, VIOLENCE, MEDICAL)

# Kanji-or-kana alternatives for key words, so kana-only writing matches too.
SHI = "(?:死|し)"
KIE = "(?:消|き)"
KOROSU = "(?:殺|ころ)"
NAGU = "(?:殴|なぐ)"
IKITE = "(?:生|い)[きぎ](?:て|で|と)"  # 生きて / いきて / 生ぎで (東北) / 生きと(っても) (関西・信州)
PERSON = (
    "(?:父|母|ちち|はは|夫|おっと|妻|祖母|祖父|ばあちゃん|じいちゃん|おばあ(?:ちゃん|さん)|おじい(?:ちゃん|さん)"
    "|息子|むすこ|娘|むすめ|子|こ|赤ちゃん|あかちゃん|主人|旦那|兄|姉|弟|妹|利用者さん|本人|彼|友達|友人"
    "|お?(?:かあ|とう)(?:さん|ちゃん)|お?(?:母|父)(?:さん|ちゃん)|おかん|おとん|ママ|パパ|じいじ|ばあば|孫|まご)"
)

# Harmless neighbours: replaced by "＿" before matching (same length keeps offsets stable).
_TRAPS = [
    f"{SHI}ぬ(?:ほど|くらい|ぐらい|程)(?!.{{0,3}}(?:つら|辛|苦し))",  # 死ぬほど忙しい
    f"{SHI}ぬかと(?:思|おも)",  # 死ぬかと思った (a scare, told afterwards)
    f"{SHI}ぬまで(?:に|働|ずっと)|{SHI}ぬ気で(?!い(?:る|ます))|{SHI}ぬ前に",
    f"笑い{SHI}|(?:笑|わら)いすぎて{SHI}|腹筋{SHI}|{SHI}ぬほど笑",
    f"(?:ゲーム|ドラマ|映画|漫画|マンガ|アニメ|小説)(?:で|の中で|の中の|内で|しながら|のセリフ|のキャラ|みたいに)"
    f"[^。]{{0,24}}(?:{SHI}|{KOROSU}|殴|なぐ|蹴|飛び(?:降|お)り|飛び込|自殺|血|首を(?:絞|締|し)め)",
    "(?:ボクシング|スパー|格闘技|試合|空手|柔道|キックボクシング)[^。]{0,20}(?:殴る蹴る|殴|なぐ|蹴)",
    f"(?:学校|家|会社|仕事|課題|宿題|暑さ|寒さ|上司|部活|受験|締め切り)に{KOROSU}され(?:る|そう)(?=[ー]|[^。]{{0,10}}(?:笑|わら|w))",
    f"{SHI}ぬ(?:から|前に)遺言|終活",
    "寝転んで泣き叫|癇癪[^。]{0,20}泣き叫|毎日ぐったり|胸が(?:苦し|くるし)くな",
    f"(?:{NAGU}|蹴|{KOROSU})りたい(?:くらい|ほど|ぐらい)|{KOROSU}したい(?:くらい|ほど|ぐらい)",
    "(?:子ども?の(?:ころ|頃)|昔|過去|幼い頃)の(?:虐待|暴力|dv)",
    f"{KOROSU}されるかと(?:思|おも)|{KOROSU}す気か|{KOROSU}すぞ(?:って|と)?(?:笑|w)",
    "首に(?:な|され|する)|首を切られ|首切り|クビ|首が回らな",  # dismissal / debt idioms, not hanging
    "亡くな(?:っ|り|る)|死去|死別|死亡(?:届|診断|保険|退職)|死後|看取",
    "自殺(?:対策|予防|防止|総合対策|対策推進)|(?:ゲートキーパー|いのちの電話)[^。]{0,6}(?:講座|研修|養成|ボランティア)",
    "自殺の(?:意図|つもり|意思)(?:は|では|じゃ)(?:ない|なく|ありません)",
    f"(?:{KOROSU}虫|{KOROSU}菌|{KOROSU}鼠|{KOROSU}到|{KOROSU}風景|必{KOROSU}|{KOROSU}生|黙{KOROSU}|相{KOROSU}|悩{KOROSU}|{KOROSU}陣|息を{KOROSU}|声を{KOROSU}|{KOROSU}し文句)",
    "(?:虐待|暴力|dv|ハラスメント)(?:防止|予防|対策)?[^。]{0,4}(?:講座|研修|講演|セミナー|勉強会|啓発|研究|防止法|相談先|相談窓口|の事件|のニュース)",
    "経済的虐待|ニュースで[^。]{0,20}",
    "(?:ネット|sns|ツイッター|twitter|掲示板|ヤフコメ|コメント|口コミ)[^。]{0,16}?(?:叩|たた)か",
    "(?:肩|太鼓|ドア|扉|キーボード|布団|手|背中|電卓|石橋)を(?:叩|たた)",
    "叩き台|たたき台|殴り書き|なぐり書き|死活|(?:清水|きよみず)の舞台から飛び(?:降|お)り",
    f"(?:この家|自宅|住み慣れた家|畳の上|家)で{SHI}にたい",
    "息抜き|息を抜|(?:眠|ねむ)れない|(?:眠|ねむ)れず",  # insomnia is a symptom for the classifier
    "心中(?:お察し|察し|穏やか|複雑)|(?:気|き)(?:が|も)?(?:狂いそう|くるいそう)",
    "手が出そう(?:な|に)?(?:ほど|くらい|ぐらい)|手は出(?:さ|しませ)",
    "息ができない(?:くらい|ほど|ぐらい)(?:笑|わら)|息苦し|(?:心臓|息)が止まるかと",
    "救急車を?(?:呼ぶ|よぶ)(?:べき)?か(?:迷|まよ)った(?:けど|が|とき|時)|(?:物|もの)を(?:投げ|なげ)る(?:ゲーム|遊び|競技)|救急(?:の日|医療週間|講習)|救命講習",
    "ぐったり(?:疲れ|つかれ)|胸が(?:痛|いた)(?:む|み|くな)|胸が(?:いっぱい|熱く)|頭が痛い問題",
    "殴り合|殴ってでも|夢の中で[^。]{0,30}|[^。]{0,30}夢(?:を|に)見|息ができない(?:感じ|気が|よう)|(?<=ふざけて)[^。]{0,12}|(?<=冗談で)[^。]{0,12}",
    "(?:関係|契約|付き合い|仕事|バイト|今の仕事|この話|話)を[^。]{0,8}(?:終わり|おわり)にしたい",
    # 学校にいきたくない: kana-only 生きたくない is ambiguous, so only もういきたくない counts.
    "(?<!もう)(?:いき|行き)たくない|(?<!もう)(?:いき|行き)たく(?:ねえ|ねぇ)",
    # 続けられない / 受けられる: kana 蹴られ only counts after を/に/で (lexicon below).
    "(?<![をにでアあ、か])けられ(?=な|る|ます|た)",  # か: (熱湯を)かけられ stays readable
    # Found by tests/nlp/data/risk_unseen.jsonl: work/school hyperbole without a laugh marker,
    # sport drills, similes, objects blown by wind, hobbies that use the same nouns.
    "(?:課題|宿題|締め切り|締切|残業|プロジ[ェエ]?クト|テスト|試験|レポート|納期)(?:の[^。]{0,6})?(?:に|で)殺され(?:る|そう)",
    "(?:殴|蹴|叩)(?:る|り)?[^。]{0,4}(?:の練習|練習|の稽古|稽古|ミット)",
    "自分を(?:殴|なぐ)りたい",
    "飛び(?:降|お)りる(?:ように|みたいに)|飛び込むように",
    "(?:台風|強風|暴風|風)[^。]{0,10}(?:物|もの)が飛んで",
    "線路の(?:近く|そば)に(?:住|すん|ある|家)",
    "練炭で(?:バーベキュー|bbq|焼き?肉|魚|さんま|暖)|練炭(?:こたつ|コタツ|火鉢|ストーブ)",
    "遺書の書き方|(?:終活|しゅうかつ)[^。]{0,10}遺書|遺書[^。]{0,10}(?:講座|セミナー|終活)",
    "(?:熱性)?けいれんを起こしたことが(?:ある|あり)|(?:けいれん|てんかん)(?:の|止めの)(?:持病|薬|くすり)",
    "手を(?:上|あ)げて(?:質問|答え|発言|くださ|挨拶|横断)|(?:質問|発言)[^。]{0,6}手を(?:上|あ)げ",
    "(?:胸|むね)が(?:しめつけ|締め付け|締めつけ)られる(?:思い|おもい|ような気持ち)",
    "遠くへ旅行",
    "(?:溶|と)けて(?:消|き)え",
    "ぐったり(?:する|して)?(?:ほど|くらい|ぐらい)",
    "(?:倒|たお)れ(?:た|ました)?けど[^。]{0,4}(?:すぐ|もう)(?:起き上が|おきあが|立ち上が|たちあが|元気|治)",
    "(?:猫|犬|ねこ|いぬ|ペット|インコ|ハムスター|うさぎ)が[^。]{0,14}",  # 119 is for people
    "(?:消|き)え(?:たい|てほしい)(?:過去|記憶|思い出|黒歴史)",
    f"いつ{SHI}んでも(?:いい|困らない|大丈夫な)ように",
    "(?:ごっこ|プロレス|ボール遊び|サッカー)[^。]{0,10}(?:蹴|殴|叩|たた|なぐ)",
    "(?:尊|とうと|笑|わら|かわい|可愛)(?:すぎ|いすぎ)て[^。]{0,4}(?:息|いき)",
    "(?:ボール|缶|石|小石|布団)を(?:蹴|け)|(?:サッカー|ボール遊び|ボールあそび|遊び)で[^。]{0,10}(?:蹴|け)",
    "(?:スカイダイビング|バンジー|パラシュート|飛び込み台|プール|ジャンプ)[^。]{0,10}(?:飛び(?:降|お)り|飛び込)",
]
_TRAP_SOURCE = "|".join(f"(?:{t})" for t in _TRAPS)

# (flag, pattern), searched over the risk views. Write kana alternatives where kana-only
# writing is plausible.
_LEXICON: list[tuple[str, str]] = [
    # --- suicide: direct ---
    (SUICIDE, f"{SHI}に(?:たい|たく(?!な[いか])|て[えぇー]|たか|とう)"),
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
        f"{SHI}ぬ(?:しか|つもり|気|覚悟|準備|方法|場所|勇気|わ(?!け)|こと(?:ばかり|しか|を考))|{SHI}に(?:方|場所|そびれ)",
    ),
    (SUICIDE, f"{SHI}なせて|もう{SHI}にます|{SHI}を選|{SHI}にに行|もう{SHI}ぬ(?!ほど|かと)"),
    (SUICIDE, "自殺|自死|自害|命を(?:絶|断|終わら)|自ら命|いのちを(?:絶|断)|自分で命"),
    (
        SUICIDE,
        "首(?:を)?(?:吊|つ)(?:る|り|っ|ろ)|首吊り|首つり|(?:縄|なわ|ロープ)(?:を|が)?(?:買|か[っいうお]|用意|準備|かけ|結|見つか|隠)",
    ),
    (
        SUICIDE,
        "飛び(?:降|お)り(?:たい|よう|る|た|ようと)|(?:電車|線路|ホーム|車|くるま|トラック|川|海)に飛び込|飛び込み(?:たい|たく|自殺)|飛び込もう",
    ),
    (
        SUICIDE,
        "練炭|樹海|遺書|身辺整理|(?:死|し)に場所|お迎えが(?:来|き)て(?:ほし|欲し)|早くお迎え|十分生きた|もう十分いきた",
    ),
    (SUICIDE, "(?:薬|くすり|睡眠薬|眠剤)を?[^。]{0,8}(?:ため|貯め|溜め)(?:て|込|た)"),
    (
        SUICIDE,
        "(?:薬|くすり|睡眠薬|眠剤)を?(?:大量|ぜんぶ|全部|まとめて|いっぱい|たくさん|一気に|何十)[^。]{0,6}(?:飲|の[むんみ])|大量(?:に|の)(?:薬|くすり|睡眠薬)",
    ),
    (SUICIDE, "オーバードーズ|odし|過量服薬"),
    (
        SUICIDE,
        "リスカ|リストカット|手首を(?:深く)?切|手首に(?:切り傷|傷)|(?:腕|うで)を切って|自傷|自分を傷つけ|切りたくな",
    ),
    # --- suicide: indirect ---
    (
        SUICIDE,
        f"{KIE}え(?:たい|たく(?!な[いか])|てしまいたい|ちゃいたい|てなくなりたい|てしまえたら|てしまえば|られたら|て[えぇ](?!る)|るしかない|てもだれも|ても誰も)",
    ),
    (
        SUICIDE,
        "消えるわ|いな[くぐ]な(?:りたい|りてえ|りて[えぇ]|っちまいたい|ってしまいたい|った(?:ほう|方)が|れば(?:楽|いい))|居なくなりたい|この世から|あの世に",
    ),
    (
        SUICIDE,
        f"{IKITE}(?:い)?たく(?:ない|な[いか]|ね)|生きたく(?:ない|な[いか]|ね)|もう(?:生|い)きたく(?:ない|ね)|(?:生|い)きるのを?(?:やめ|止め)たい",
    ),
    (
        SUICIDE,
        f"(?:{IKITE}(?:る|い(?:る)?|ん)?|生きる)(?:意味|いみ|価値|かち|理由|資格|しかく)(?:が|も|は|なんて|なんか|とか)?(?:もう)?(?:ない|無い|わからない|分からない|わかんない|見いだせ|見つから)",
    ),
    (
        SUICIDE,
        f"{IKITE}(?:い|る)?(?:ても|っても|てても)(?:意味|いみ|仕方|しかた|しょうが|しゃあな|ええこと|いいこと|楽しいこと)",
    ),
    (
        SUICIDE,
        "(?:生|い)[きぎ](?:る|てる|ている|でる|でんの|てんの|ていく)?(?:の|こと)?(?:が|に|も)?(?:つら|辛|しんど|嫌|いや|やん?だ|疲れ|つかれ|苦し)",
    ),
    (SUICIDE, "(?:生|い)きる(?:気力|希望)|もう生きていけない"),
    (
        SUICIDE,
        "楽になりたい|らくになりたい|(?:もう|全部|すべて|何もかも|人生|いっそ)(?:を)?(?:終|お)わりにしたい|終わらせたい|おわらせたい|人生を(?:終|お)わら|(?:早く|もう)(?:終|お)わりたい|もう終わりだ",
    ),
    (
        SUICIDE,
        "(?:朝|明日|あした|あす)が(?:来|こ)なければ|(?:朝|明日)(?:が)?来なきゃ|目が覚めなければ|目覚めなければ|目が覚めないで|眠ったまま|ずっと眠っていたい|永遠に眠",
    ),
    (SUICIDE, "(?:私|自分|わたし|僕|俺|あたし|うち|わし)が?(?:なんか|なんて)?いない(?:ほう|方)が"),
    (SUICIDE, "生まれてこなければ|生まれてこなきゃ|生まれてこなかったら|産まれてこなければ"),
    (SUICIDE, "道連れ|心中|一緒に(?:死|しの|しに|しん)"),
    (
        SUICIDE,
        "(?:落ちたら|ぶつかれば|ぶつかったら|飛び込めば|死ねば|消えれば|いなくなれば)[^。]{0,14}(?:楽|らく)|保険金で[^。]{0,10}(?:楽|助か)",
    ),
    (
        SUICIDE,
        "(?:ベランダ|屋上|窓|橋)から下を(?:見|のぞ)|一歩前に出たら|(?:橋|屋上|おくじょう|ビル|崖|線路|踏切)(?:の上)?(?:に|へ)(?:いる|います|い[まっ]|来|き[たて]|立|行ってみ|いってみ)",
    ),
    (
        SUICIDE,
        "(?:母|父|夫|妻|息子|娘|あの人|家族|主人)の(?:ところ|所|もと)に(?:早く)?(?:行|い)きたい|(?:全部|ぜんぶ)(?:飲|の)んだら|今までありがとう|いままでありがとう|(?:ありがとう|ごめんなさい)[、。]?(?:さよう?なら)|帰らないかもしれない|帰ってこないかもしれない",
    ),
    (
        SUICIDE,
        f"{SHI}んでも(?:いい|いいかな|ええ|かまわない)|(?:私|自分|俺|僕|わたし)(?:なんて|なんか)いなくて(?:いい|も)",
    ),
    (SUICIDE, f"首を(?:くく|括)|硫化水素|アムカ|(?:私|自分)?を?{KOROSU}して(?:ほしい|欲しい|くれ|ください)"),
    # English (spaces are removed in the risk views)
    (SUICIDE, "wanttodie|killmyself|endmylife|suicid|don'twanttolive|noreasontolive"),
    (SUICIDE, "(?:薬|くすり|睡眠薬|眠剤|錠剤)を?\\d+錠(?:以上|も|くらい|ぐらい)?(?:飲|の)"),
    # indirect phrasings (farewells, giving things away, "they'd be better off")
    (
        SUICIDE,
        "(?:何もかも|全部|すべて|なにもかも)どうでもいい|(?:ぜんぶ|全部|何もかも|なにもかも)(?:やめ|止め)たい|形見分け",
    ),
    (
        SUICIDE,
        "いない(?:ほう|方)が(?:いい|まし|楽)|いなくなっても(?:誰|だれ)も|いなくなれば[^。]{0,14}(?:楽|らく|助か)",
    ),
    (
        SUICIDE,
        "(?:腕|手首|うで|てくび)に(?:切り傷|傷|きず|切った跡)|(?:飛んだら|飛び降りたら|落ちたら)[^。]{0,14}(?:楽|らく)",
    ),
    (
        SUICIDE,
        "もう準備は(?:できて|整って)|(?:あと|後)は(?:よろしく|頼む|頼んだ|たのむ)|(?:今日|明日|今夜|あした|きょう)で最後|最後に(?:誰か|だれか|声|話)",
    ),
    (
        SUICIDE,
        "(?:私|自分|俺|僕|わたし)の(?:生命)?保険金|保険金で[^。]{0,10}(?:返|払)|自分のことは(?:もう)?いい(?:んです|の|んだ)",
    ),
    (
        SUICIDE,
        "生きていくのが(?:もう)?(?:限界|つら|辛|しんど)|(?:誰|だれ)にも必要とされて(?:い)?ない|(?:私|自分|わたし)がいると[^。]{0,8}(?:迷惑|不幸|負担|邪魔|足手まとい)",
    ),
    (SUICIDE, "線路の(?:近く|そば)|踏切の(?:前|近く)|ドアノブ|(?:そのとおり|その通り)かもしれないと思"),
    (
        SUICIDE,
        "(?:眠|ねむ)って(?:そのまま)?(?:起|お)きたくない|二度と(?:目覚め|起き)たくない|消えて(?:まい|もう|しも)たい",
    ),
    # --- violence: now or soon ---
    (
        VIOLENCE,
        f"{NAGU}(?:られ|ら|り|って|る|った)|蹴(?:られ|ら|り|って|る|った)|(?:[をにでアあ、]|^)けられ|(?:おなか|お腹|腹|顔|頭)(?:を)?けられ|殴りかか",
    ),
    (VIOLENCE, "(?:叩|たた)(?:かれ|いて|く(?!さ)|いた|いちゃ|いてしま|きます|かれます)|(?:ぶた|ぶっ)れ|平手"),
    (
        VIOLENCE,
        "暴力|暴れ(?:て|と|た|出|だし|ます|るかも|るんじゃ|るのが怖)|また暴れ|手(?:を|え)?(?:上|あ)げ|てを(?:あげ|上げ)|手が出|物を投げ|物が飛んで|壁を(?:殴|蹴)",
    ),
    (
        VIOLENCE,
        "首を(?:絞|締|し)め|首を(?:つかま|掴ま)|のどを絞め|馬乗り|髪(?:の毛)?(?:を)?(?:引っ張|つかま|掴ま|つかん|掴ん)|突き飛ば|引きずら|引きずり",
    ),
    (
        VIOLENCE,
        f"{KOROSU}(?:す|される|されそう|してやる|したい|してしまいそう|しそう|すぞ|すと|すって|され|し(?:か|て)ね)|ぶっ殺",
    ),
    (
        VIOLENCE,
        "(?:包丁|ナイフ|刃物|はもの|ほうちょう|バット|カッター|はさみ|ハサミ)(?:を|で)?(?:持|向|振|突き|出し|もって|むけ|ちらつか|見せ|みせ|つきつけ)|刃物",
    ),
    (
        VIOLENCE,
        "脅(?:さ|し|迫)|おどさ|監禁|閉じ込め(?:られ|て|る|た)|外に出してもらえ|逃げ(?:てき|たい|られない|出した|てる|ている)|にげたい|にげてき",
    ),
    (VIOLENCE, "どうなってもいいのか|どうなっても知らない|ただじゃおかない|痛い目|やり返す"),
    (
        VIOLENCE,
        "(?:トイレ|押し入れ|車|クローゼット|物置|部屋)(?:に|の中に)(?:隠|かく)れ|(?:隠|かく)れて(?:いる|る|います)",
    ),
    (
        VIOLENCE,
        "虐待|ぎゃくたい|ネグレクト|性的(?:な)?(?:被害|暴行|虐待)|(?:無理やり|むりやり)(?:(?:性|関係|触|キス|お金|金)|[^。]{0,6}(?:され|させられ))|レイプ|ドメスティック",
    ),
    (
        VIOLENCE,
        "dv(?:を受け|され|がひど|が続|に遭|にあ|を受けて|が始ま)|dv夫|dv[^。]{0,6}(?:助けて|たすけて)",
    ),
    (
        VIOLENCE,
        "(?:あざ|痣|アザ)(?:が|だらけ|を)|(?:やけど|火傷|あざ|痣|傷)(?:の|のような|みたいな)?(?:跡|あと)|怪我をさせ|やけどをさせ|タバコを押し付け",
    ),
    (
        VIOLENCE,
        "食事を(?:与えられ|もらえ)(?:てい)?ない|ご飯を(?:もらえ|食べさせてもらえ)|ベランダに(?:出され|締め出|閉め出)|(?:家|外)に(?:締め出|閉め出)",
    ),
    (
        VIOLENCE,
        "悲鳴|泣き叫|叫び声|ごめんなさい(?:って|と)(?:何度|声|言って|叫)|怒鳴り声[^。]{0,10}(?:泣|悲鳴|物音|ぶつかる)",
    ),
    (
        VIOLENCE,
        "ストーカー|つきまと|付きまと|待ち伏せ|家の前に(?:いる|来)|(?:元夫|元妻|元彼|元カレ)が(?:来|押しかけ)|家に来るって",
    ),
    (VIOLENCE, "火をつけ|放火|ガソリン"),
    (
        VIOLENCE,
        "痴漢|盗撮|性被害|わいせつ|帰ってくるのが(?:怖|こわ)|(?:夫|彼|父|母|親)が(?:怖|こわ)くて(?:帰れ|家に)",
    ),
    (VIOLENCE, "hitsme|hitme|beatme|beatsme|abuse|violence|threaten"),
    (
        VIOLENCE,
        "性的な(?:こと|行為)を?(?:され|させられ)|(?:体|からだ|胸|下着)を(?:触|さわ)られ|(?:ごはん|ご飯|食事|食べ物)を?(?:くれない|もらえない|与えられ(?:てい)?ない)",
    ),
    (VIOLENCE, "(?:元夫|元妻|元彼|元カレ|知らない(?:男|人)|男)に(?:後を|あとを)?(?:つけ|付け)られ"),
    (
        VIOLENCE,
        "首に手を(?:かけ|掛け)|物(?:の|が)(?:割れる|壊れる)|割れる音|(?:物|もの)を(?:投げ|なげ)|揺さぶ|道連れにして(?:やる|やろう)|(?:夫|おっと|父|ちち|おとうさん|お父さん|旦那|だんな|彼氏|彼|元夫|親)(?:さん)?が(?:こわい|怖い)",
    ),
    (
        VIOLENCE,
        "(?:お酒|おさけ|酒)[^。]{0,8}(?:こわい|怖い)|(?:怖|こわ)くて(?:家に|いえに)?(?:帰れ|かえれ)|食事を?もらって(?:い)?ない|殴っ|(?:叩|たた)[かが]れ|暴れで",
    ),
    # --- medical emergency: now ---
    (MEDICAL, "意識(?:が|は)?(?:ない|無い|なく|戻らな|もうろう|朦朧|がおかしい|が遠)|意識不明|いしきがない"),
    (
        MEDICAL,
        "(?:息|呼吸|いき)(?:を|が)?(?:していな|してな|してね|してい?ない|してるかわから|止ま|とま|できな|でき(?:ん|ません)|苦しそう|が荒|がおかしい|が弱|が浅)",
    ),
    (MEDICAL, "(?:息|いき)が(?:苦し|くるし)|(?:呼吸|こきゅう)が(?:苦し|くるし)"),
    (
        MEDICAL,
        "(?:倒|たお)れ[^。]{0,12}。?[^。]{0,6}(?:動か|うごか|動け|うごけ|動きません|うごきません|意識|起き|おき|返事|へんじ|反応|はんのう|息|いき)|(?:倒|たお)れて(?:い|と|)る|(?:倒|たお)れてます|(?:今|いま|さっき|急に|突然|とつぜん|いきなり|目の前で)(?:倒|たお)れ",
    ),
    (
        MEDICAL,
        f"{PERSON}(?:が|は)?(?:うご|動)か(?:ない|なく|ん|ねえ)|呼びかけに(?:応|こた|答|反応)|(?:呼|よ)んでも(?:起き|おき|反応|はんのう|返事|へんじ|目を覚まさ|答え)",
    ),
    (
        MEDICAL,
        "血が(?:出て(?:る|いる|います)|でてる)|血が止まら|血がとまら|血が止まりません|出血(?:して(?:いる|る|います|いて)|がとまらな|が止まらな|が多)|しゅっけつ(?:が|して)|吐血|血を吐|下血",
    ),
    (
        MEDICAL,
        "けいれん|痙攣|ひきつけ|(?:発作|ほっさ)が(?:止まらな|とまらな|\\d+分)|ろれつが回ら|呂律が回ら|顔が(?:ゆが|歪)|片方の(?:手足|腕)",
    ),
    (
        MEDICAL,
        "(?:胸|むね)が(?:痛|いた)(?:い|くて)|(?:胸|むね)が(?:苦し|くるし)|胸を(?:押さえ|おさえ)|(?:喉|のど)に?(?:詰|つま)|誤嚥|誤飲",
    ),
    (
        MEDICAL,
        "救急車(?:を)?(?:呼|よ)(?:んだ|んで|ぶ(?:べき|か)|びたい)|きゅうきゅうしゃ|119(?:番)?(?:に|を|した|する|へ)",
    ),
    (
        MEDICAL,
        "冷たくなって|頭を(?:強く)?打[っちた]|(?:階段|屋根|脚立|はしご)から(?:落|転)(?!ちそう|びそう|ちかけ|びかけ)",
    ),
    (
        MEDICAL,
        "(?:呼|よ)んでも(?:出てこ|でてこ)|新聞が[^。]{0,6}(?:たま|溜ま)|異臭|何日も(?:食べて|たべて)(?:い)?ない|呼吸が(?:変|へん|おかし)|"
        "(?:喉|のど)(?:に|を)?(?:詰|つま)|(?:もち|餅|食べ物|ごはん)を?(?:詰ま|つま)らせ|物音がしな|生きているのか(?:心配|わから)|頭を[^。]{0,6}(?:叩|たた|打|ぶつけ)[^。]*[。、][^。]{0,16}(?:吐|は)い|ろれつが回って(?:い)?な|(?:ひどい|激しい)頭痛|頭が割れ|目がチカチカ|"
        "(?:おなか|お腹|腹)[^。]{0,4}(?:いたい|痛)[^。]{0,10}(?:にんしん|妊娠)|(?:にんしん|妊娠)[^。]{0,10}(?:おなか|お腹)が?(?:いたい|痛)|"
        "(?:熱|ねつ)が?(?:4[0-2]|39)(?:度|ど|℃)|高熱で(?:動けな|意識|ぐったり)|ぐったり|いびき[^。]{0,10}(?:起き|おき|息)",
    ),
    (
        MEDICAL,
        "(?:薬|くすり|睡眠薬)を?(?:大量|ぜんぶ|全部|まとめて|たくさん|いっぱい|一気に)[^。]{0,6}(?:飲|の)(?:んだ|んで|みました)|大量(?:に|の)(?:薬|くすり|睡眠薬)を?(?:飲|の)|odした",
    ),
    (
        MEDICAL,
        "(?:薬|くすり|睡眠薬|眠剤|錠剤)を?\\d+錠(?:以上|も|くらい|ぐらい)?(?:飲|の)んだ|"
        "(?:お酒|酒)と一緒に(?:薬|睡眠薬)|(?:電池|でんち|洗剤|漂白剤|たばこ|タバコ)を?(?:のんだ|飲んだ|飲み込|のみこ|食べ)",
    ),
    (MEDICAL, "(?:唇|くちびる|くち|口|顔)が(?:紫|むらさき|青|真っ青|まっさお)|ガス(?:くさ|臭|漏れ|もれ)"),
    (
        MEDICAL,
        "心臓が止ま|脈がな|血だらけ|大量の血|大やけど|アナフィラキシー|窒息|溺れ|おぼれ|破水|急に(?:話せ|しゃべれ|喋れ)なく",
    ),
    (MEDICAL, "熱中症で(?:倒れ(?:た|て)|意識|動け|ぐったり)|notbreathing|unconscious|ambulance|emergency"),
    # --- generalisations found by tests/nlp/data/risk_unseen.jsonl ---
    # "somewhere far away, not coming back"; net spellings of 死 (氏/タヒ); kana 自殺; dialect 生きとうない
    (
        SUICIDE,
        "遠く(?:へ|に)(?:行|い)きたい|(?:戻|もど)って(?:こ|き)なくて(?:いい|ええ)|じさつ|(?:氏|たひ)に(?:たい|たく|て[えぇ])|(?:生|い)きとう(?:ない|なか|ねえ)",
    ),
    # "if I jumped in / drove into the sea it would be over / easier"
    (
        SUICIDE,
        "(?:飛び込|とびこ|突っ込|つっこ)(?:んだら|めば)[^。]{0,14}(?:楽|らく|終わ|おわ)|(?:飛び(?:降|お)り|とびおり)(?:たら|れば)[^。]{0,14}(?:終わ|おわ)",
    ),
    # looking down from a height / at the tracks; stockpiling medicine in any verb
    (
        SUICIDE,
        "(?:ベランダ|屋上|窓|橋|ビル|マンション|崖|がけ|高いところ|高い所)(?:の上)?から(?:下|した)を(?:見|み|のぞ|眺|なが)"
        "|(?:線路|踏切|ふみきり)を(?:ずっと)?(?:見|み|眺|なが)(?:て|つめ)",
    ),
    (
        SUICIDE,
        "(?:薬|くすり|睡眠薬|眠剤|錠剤)を?[^。]{0,12}(?:ため|貯め|溜め)(?:こ|込)|(?:薬|くすり|睡眠薬|眠剤|錠剤)を?[^。]{0,12}(?:集め|あつめ)(?:て|た)|(?:薬|くすり|睡眠薬)を(?:飲|の)まずに",
    ),
    (
        SUICIDE,
        "(?:私|自分|俺|僕|わたし|あたし)の(?:生命)?保険(?:金)?(?:で|が|を)|生命保険で[^。]{0,10}(?:返|払|楽|助か)",
    ),
    (
        SUICIDE,
        "don'?twant(?:to|a)live|killingmyself|killmyself|wants?todie|endit(?:all)?|cutting(?:my|her|him)self|selfharm|overdos"
        "|(?:pills|tablets)[a-z]{0,40}(?:takeall|takethemall|allofthem|allthepills)",
    ),
    # violence in dialect (しばく, どつく, 手え出す), ongoing verbs (蹴っとる),
    # intent to stab or to "really do it"
    (
        VIOLENCE,
        "しばか(?:れ|る)|しばいた|しばくぞ|どつかれ|どつい|すぐ手(?:を|え)?出|手え出|蹴っ|殴っと|(?:叩|たた)いと(?:る|ん)",
    ),
    (
        VIOLENCE,
        "刺して(?:やる|やろ|しま|やりたい)|刺し殺|刺そう|(?:本当に|ほんとうに|ほんとに|ほんまに|まじで)(?:やって|殺して|刺して)(?:しまい|しま|まい)そう",
    ),
    # a person found on the floor; swelling throat; drowning; bleeding from the head
    (MEDICAL, "(?:床|ゆか|部屋|風呂|ふろ|トイレ|道|玄関|廊下|台所)(?:に|で)(?:倒|たお)れ(?:て|た)"),
    (
        MEDICAL,
        "(?:息|いき|呼吸)が(?:し|で)にく|(?:のど|喉|唇|くちびる|舌)が(?:腫|は)れ|アレルギー[^。]{0,10}(?:腫|は)れ"
        "|(?:水|風呂|ふろ|湯船|浴槽|プール|川|池|海)(?:の中)?(?:に|で)(?:沈|しず)ん",
    ),
    (
        MEDICAL,
        "(?:頭|あたま|口|くち|耳|みみ)から(?:血|ち)が|血が(?:出て|でて)(?:止|と)まらな|血が(?:いっぱい|たくさん|どくどく|大量)"
        "|(?:目|め)を(?:あけ|開け|覚まさ|さまさ)(?:ない|ません|へん|ん)",
    ),
    (
        MEDICAL,
        "isn'?tbreathing|stoppedbreathing|can'?tbreathe|collapsed|seizure|unresponsive|passedout|choking",
    ),
    # --- second unseen batch: farewells, lethal-dose questions, ligatures, heights, self-cutting ---
    (
        SUICIDE,
        "(?:全部|ぜんぶ|すべて|何もかも|もう|人生|いっそ|今日で|きょうで)(?:を)?(?:おしまい|終わり|おわり)に(?:する|します|しよう)"
        "|(?:探|さが)さないで|(?:私|わたし|僕|俺|自分|みんなの前から|前から)(?:は|が)?(?:消|き)えます"
        f"|{SHI}んでも(?:誰|だれ)も(?:悲し|かなし|困ら|気づか|きづか|気にし)|生まれてきて(?:ごめん|すみません|申し訳)",
    ),
    (
        SUICIDE,
        f"{SHI}ね(?:る|ます)(?:か|の|方法|薬|くすり|場所|ところ|かな|だろう)"
        "|(?:何錠|なんじょう|どれくらい|どのくらい|何個|どれだけ)[^。]{0,8}(?:飲|の)(?:んだら|めば)"
        "|(?:ずっと|永遠に|二度と)(?:眠|ねむ)(?:って|れ)(?:いられ|られ|る薬)|(?:薬|くすり)を?(?:たくさん|大量|いっぱい)(?:持|も)って",
    ),
    (
        SUICIDE,
        "から(?:落ち|おち)たい|から(?:飛び|とび)(?:降|お)りたい|(?:落ち|飛び降り|飛び込み)たい衝動"
        "|ホームの(?:端|はし|へり|ぎりぎり)|(?:柵|さく|フェンス|手すり|欄干)を(?:越え|こえ|乗り越|のりこ)|(?:柵|フェンス|手すり|欄干)の(?:外|向こう)"
        "|目張り|めばり|(?:車|くるま)の中で(?:七輪|炭)",
    ),
    (
        SUICIDE,
        "(?:腕|うで|太もも|ふともも)を(?:カッターで|刃物で)?(?:切|き)(?:る|っ|り)|カッターで(?:腕|手首|自分)"
        "|(?:包丁|ナイフ|刃物|カッター)を(?:自分|じぶん|首|のど|喉|胸)に(?:向け|当て|あて)"
        "|首に(?:ベルト|ひも|紐|ロープ|縄|コード|タオル)を?(?:巻|ま|かけ|掛け)|(?:ベルト|ひも|紐|コード)を?(?:ドアノブ|首)に"
        "|最後に(?:会|あ)いたい",
    ),
    (
        SUICIDE,
        "end(?:my|her|his|their)life|nopointin(?:living|life)|goodbye(?:letter|note)|suicidenote|disappearforever"
        "|wanttodisappear|betteroffwithoutme|betteroffdead",
    ),
    # --- violence: thrown objects, scalding, burns, smashing while drunk/angry, threats in English ---
    (
        VIOLENCE,
        "を(?:投げ|なげ)(?:つけ|てき|てく|られ)|投げつけ"
        "|(?:熱湯|お湯|おゆ|熱いお?茶|熱い(?:もの|物|味噌汁|みそ汁|コーヒー)|水|灯油)を(?:頭から)?(?:かけ|浴びせ)られ"
        "|(?:タバコ|たばこ|煙草)の?(?:火)?を(?:押し付|押しつ|おしつ)|根性焼き"
        "|(?:怒鳴|どな|キレ|酔)[^。]{0,10}(?:物|もの)を(?:壊|こわ)"
        "|(?:今にも|いまにも)[^。]{0,8}(?:手を出|殴|なぐ|叩|たた)|手を出してき(?:そう|た)|手を出され",
    ),
    (
        VIOLENCE,
        "(?:goingto|gonna|will|wantsto|threatenedto|tryingto)killme|followingme|stalk|wait(?:s|ing)outside(?:my|the)",
    ),
    # --- medical: a child swallowed something, stroke signs, English ---
    (
        MEDICAL,
        "(?:薬|くすり|洗剤|漂白剤|電池|たばこ|タバコ|灯油|殺虫剤)を(?:子ども?|こども|赤ちゃん|あかちゃん|息子|娘|孫)が?(?:飲|の|食|た)"
        "|(?:子ども?|こども|赤ちゃん|あかちゃん|\\d+歳の?子?)が[^。]{0,12}(?:飲|の)んでしま|誤って(?:飲|の)"
        "|半身(?:が|に)?(?:しびれ|痺れ|麻痺|動か|うごか|不随)|(?:しゃべ|喋)れなくなっ",
    ),
    (MEDICAL, "can'?tgetup|isbleeding|bleedingalot|tooktoomany|won'?twakeup|notwakingup|overdos"),
    # --- third unseen batch ---
    (
        SUICIDE,
        f"{SHI}にたさ|希死念慮|きしねんりょ|自殺念慮|(?:生|い)きて(?:て|い)?(?:も)?(?:いい|良い)の(?:か|かな)"
        "|いなくなる(?:の|こと)が(?:一番|いちばん|いい|楽)|(?:消える|死ぬ)(?:の|こと)が(?:一番|いちばん)"
        f"|(?:今から|いまから|これから|今夜|こんや|今日|きょう|明日|あした)(?:は)?{SHI}(?:にます|にに|ぬ)",
    ),
    (
        SUICIDE,
        "(?:薬|くすり|睡眠薬|眠剤|錠剤|市販薬|風邪薬|かぜ薬|鎮痛剤|痛み止め|睡眠改善薬|安定剤)を?(?:何箱|何十箱|何個|何十錠|たくさん|大量に)[^。]{0,4}(?:買|集|ため)"
        "|大量(?:に|の)(?:市販薬|錠剤|風邪薬|鎮痛剤|痛み止め|睡眠改善薬|安定剤)|薬局を(?:何軒|回って|はしご)",
    ),
    (
        SUICIDE,
        "(?:お?葬式|葬儀)[^。]{0,6}(?:ばかり|ばっかり)|(?:大事|大切)[^。]{0,8}(?:物|もの)を[^。]{0,6}(?:あげ|配|くば|譲|ゆず)"
        "|(?:屋上|ビル|橋|ベランダ|窓|崖|マンション)(?:の上)?から(?:飛|と)(?:ぶ|び|ん|ぼう)"
        "|(?:海|川|湖)に(?:入|はい)って(?:そのまま|二度と)|そのまま(?:帰|かえ|戻|もど)らない"
        "|(?:ごめん|ごめんなさい)[^。]{0,4}。?[^。]{0,4}(?:先に(?:行|い|逝)き|さよう?なら)|先に逝",
    ),
    (SUICIDE, "ending(?:it|mylife)|planto(?:kill|end)"),
    # --- fourth unseen batch ---
    (
        SUICIDE,
        "(?:手首|てくび|腕|うで)に[^。]{0,6}(?:線|傷|きず|跡|あと)"
        "|飛び(?:降|お)り(?:れ|られ)る|この世に(?:は)?(?:もう)?(?:いない|いません|おらん)"
        "|(?:来週|明日|あした|明後日|来月|今夜)(?:に)?(?:は)?[^。]{0,6}(?:いない|いません)(?:と思|でしょう|かも|はず)"
        "|(?:柵|さく|フェンス|手すり|欄干)(?:に|を)(?:足|あし)?を?(?:かけ|掛け|乗り越|越え|こえ|のぼ|登)"
        "|kietai|kieteshimaitai|shinitai|jisatsu|ikitakunai|ifi(?:was|were)(?:gone|dead|notaround|ntaround)",
    ),
    (
        VIOLENCE,
        "つきとばされ|つきとばし|突き落と|つきおと|(?:腕|うで|胸ぐら|えり|襟)を(?:つかま|掴ま|つかん|掴ん)"
        "|(?:元夫|元妻|元彼|元カレ|夫|加害者|相手|父|親)に[^。]{0,4}(?:住所|居場所|引っ越し先|家)が?(?:ばれ|バレ|知られ)"
        "|(?:やめて|助けて|たすけて|痛い|いたい)(?:って|と)[^。]{0,4}(?:叫|さけ|泣)"
        f"|{KOROSU}して(?:俺|おれ|私|わたし|自分|僕)も|(?:お前|おまえ|あんた|てめえ|てめー|きさま)を{KOROSU}"
        "|性的な(?:こと|行為|関係)を?(?:強要|強制)|性行為を?(?:強要|強制)"
        "|beats(?:my|her|him|me)|hits(?:my|her|him)|(?:is|keeps)hitting",
    ),
    # --- fifth unseen batch ---
    (
        SUICIDE,
        "(?:生|い)きて?(?:いく|ゆく|いける)(?:気|自信|気力)が(?:しな|しません|ない|ありません)"
        f"|{SHI}んで(?:しま|しも)え(?:たら|ば)|{SHI}ぬ(?:の|こと)が(?:怖|こわ)くなくな"
        "|(?:だめ|ダメ|無理|むり|限界|疲れた|つかれた)[^。]{0,4}。?(?:さよう?なら|さよなら|ばいばい)"
        "|(?:来週|明日|あした|明後日|来月|今夜)(?:に)?(?:は)?[^。]{0,6}(?:いない|いません)から"
        "|(?:目|め)が(?:覚め|さめ)なくて(?:いい|ええ|も)|(?:目覚め|めざめ)なくて(?:いい|ええ)"
        "|(?:ひも|紐|ベルト)を?(?:用意|準備)|自分(?:の|で)(?:首|くび)を(?:絞|締|し)め"
        "|(?:そっち|あっち|そちら|あちら|天国)(?:へ|に)(?:早く)?(?:行|い|逝)きたい"
        "|ifidie[a-z]{0,6}noone|noonewould(?:care|miss)|cutmyself|cutmywrist|hurtmyself|harmmyself",
    ),
    (
        VIOLENCE,
        "(?:外|そと)に(?:放り出|ほうりだ|放り投げ)|(?:放り出|ほうりだ)され"
        # a man of the house coming into a child's room at night: the usual first words of sexual abuse
        "|(?:継父|義父|父|兄|叔父|おじ|彼氏|母の彼氏|ママの彼氏|お父さん|とうさん)が[^。]{0,4}(?:夜|夜中|よる|よなか)に?"
        "(?:部屋|布団|ふとん|寝室)に(?:入|はい)って(?:く|き)"
        "|(?:元夫|元妻|元彼|元カレ|元交際相手)から(?:毎日|何十|何百)"
        "|(?:子ども?|こども|子供)に(?:ごはん|ご飯|食事|食べ物)を?(?:あげ|与え|食べさせ)(?:て)?(?:い)?ない"
        "|(?:子ども?|こども|子供)が(?:ガリガリ|やせ細|痩せ細)|wouldkillme|killmeif",
    ),
    # --- sixth unseen batch ---
    (
        SUICIDE,
        f"(?:二度と|もう)(?:目|め)を(?:覚まし|さまし)たくない|{SHI}にたひ|自分を(?:痛めつけ|いためつけ|罰し|傷め)"
        "|(?:欄干|手すり|柵|フェンス|屋上の(?:端|縁|へり))(?:に|の上に)(?:座|すわ|立|た|腰かけ|のぼ|登)"
        "|(?:この世|人生|生きること)に(?:もう)?(?:未練|みれん)(?:は|も)?(?:ない|ありません|なし)",
    ),
    (
        VIOLENCE,
        "(?:私|わたし|子ども?|こども)に(?:向かって|むかって|襲いかか|おそいかか)(?:き|く)"
        "|(?:首|のど|喉|体|からだ|頭)を(?:押さえ|おさえ)(?:つ|込|こ)|押し倒さ|おしたおさ"
        "|蹴(?:破|やぶ)|けやぶ|(?:ドア|扉|窓)を(?:壊|こわ|破|やぶ)(?:そう|ろう|され|して)"
        "|threw[a-z]{0,12}atme|throwing[a-z]{0,12}atme",
    ),
    (MEDICAL, "fell(?:down)?(?:the)?stairs|(?:is)?notmoving|isn'?tmoving|won'?tmove"),
    # --- seventh unseen batch ---
    (
        SUICIDE,
        "(?:朝|明日|あした|あす)(?:なんて|なんか|が|は)?(?:来|こ)なくて(?:いい|ええ|も)"
        "|(?:もうすぐ|やっと)(?:楽|らく)になれる(?:と思うと|んだ)"
        "|(?:もう|二度と)(?:会|あ)えない[^。]{0,6}(?:ごめん|さよう?なら|ありがとう)"
        "|justdisappear|shoulddisappear|wanttovanish|shouldjustdie|shouldbedead",
    ),
    (VIOLENCE, "せっかん|折檻|(?:傷|きず|あざ)だらけ|hurtsme|hurtme"),
    # --- eighth unseen batch ---
    (
        SUICIDE,
        "(?:私|自分|わたし|僕|俺|うち|あたし)(?:なんて|なんか|は|が)?(?:消|き)えれば"
        "|(?:楽|らく)に(?:逝|死|し)(?:け|ね)る|逝きたい|逝ける",
    ),
    (VIOLENCE, "(?:無理やり|むりやり|無理矢理)[^。]{0,8}られ"),
    (
        MEDICAL,
        "(?:子ども?|こども|子供|赤ちゃん|あかちゃん|息子|娘|孫)が[^。]{0,14}(?:飲み込|のみこ)ん"
        "|(?:足|腕|手|脚)が(?:変な|へんな|ありえない|あり得ない|おかしな)方向",
    ),
    (
        MEDICAL,
        "(?:ひどい|広い|広範囲の?)(?:やけど|火傷)|(?:熱湯|熱いお湯|お湯|油)を(?:かぶ|浴び)"
        "|drank(?:bleach|detergent|poison)|swallowed|poison",
    ),
    (
        MEDICAL,
        "(?:ベランダ|窓|まど|二階|2階|屋上|木|遊具|ベッド)から(?:落|転|お)ち(?:た|て)"
        "|目がうつろ|(?:急に|きゅうに|突然)(?:しゃべ|喋|話さ|はなさ)(?:ら|れ)?なくな|意識(?:レベル|れべる)が(?:下が|低|落ち)"
        "|顔色が(?:悪|わる)[^。]{0,6}(?:泣かな|動かな|反応|ぐったり|息)|heartattack|havingastroke",
    ),
    (
        MEDICAL,
        "(?:息|いき)(?:を)?(?:しとらん|しちょらん|してへん|しとらへん|しとりません)|(?:泡|あわ)を(?:ふ|吹)いて|(?:口|くち)から(?:泡|あわ)"
        f"|{PERSON}が(?:急に|突然|いきなり|さっき|今)?(?:倒|たお)れ(?:た|ました)(?!ら|[^。]{{0,4}}(?:こと|後|あと|時|とき|の|から|年|けど|が))"
        "|顔の(?:半分|片側|片方|右側|左側)(?:が|も)?(?:動か|うごか|しびれ|痺れ|ゆが|歪|下が)"
        "|(?:ぼーっと|ぼんやり)して(?:て)?[^。]{0,6}(?:話が通じ|返事|反応|会話)",
    ),
    (
        VIOLENCE,
        "(?:元夫|元妻|元彼|元カレ|元交際相手|元恋人|別れた(?:夫|彼|妻))(?:が|に)[^。]{0,8}(?:押しかけ|おしかけ|待ち伏せ|待って|まって|つけ(?:て|られ)|脅|来て(?:る|いる)|きて(?:る|いる))"
        "|押しかけて(?:き|く)"
        "|(?:テーブル|ちゃぶ台|机)を(?:ひっくり返|ひっくりかえ)|次は(?:私|わたし|子ども)(?:かも|の番)"
        "|つねられ|抓られ|(?:あざ|痣)(?:に|が)(?:なって|でき)|蹴(?:飛ば|とば)|けとばされ",
    ),
    (
        VIOLENCE,
        "(?:外|家|部屋|そと|いえ)(?:から|に|の外に)?出して(?:もらえ|くれな)|出させてもらえ|(?:スマホ|携帯|財布)を(?:取り上げ|とりあげ)られ"
        "|(?:待|ま)って(?:て|いて|る)[^。]{0,6}(?:出られ|でられ)|chokedme|strangled|punchedme|kickedme|slappedme",
    ),
    (
        MEDICAL,
        "意識を(?:失|うしな)|血が(?:どばどば|だらだら|ぼたぼた|ぽたぽた)"
        "|返事を?(?:しない|しません|せえへん)[^。]{0,3}。?[^。]{0,6}(?:冷た|つめた|動か|うごか|息|いき|倒|たお|顔色)"
        "|(?:胸|むね)が(?:しめつけ|締め付け|締めつけ)|(?:左腕|左肩|ひだりうで)(?:も|が)?(?:しびれ|痺れ)"
        "|(?:息|いき|呼吸)が?(?:ひゅーひゅー|ぜーぜー|ぜいぜい)|全身(?:じんましん|蕁麻疹)"
        "|(?:妊娠|にんしん|妊婦)[^。]{0,16}(?:出血|しゅっけつ|(?:お腹|おなか|腹)が?[^。]{0,4}(?:痛|いた))"
        "|(?:倒|たお)れた[!！]|fainted|won'?trespond|notresponding",
    ),
]

# Short urgent messages: a symptom + a sign of acute helplessness, anywhere in the message.
_SYMPTOM = re.compile(
    "(?:頭|あたま|胸|むね|お腹|おなか|腹)が?(?:すごく|急に|激しく)?(?:痛|いた)|(?:吐|は)きそう|吐いて|めまい|目が回|めがまわ"
    "|出血|しゅっけつ|顔色|かおいろ|熱|ねつ|苦し|くるし|しびれ"
)
_HELPLESS = re.compile(
    "たすけて|助けて|(?:歩|ある)けな|(?:動|うご)け(?:ない|ません)|(?:動|うご)きません|(?:動|うご)かない|(?:立|た)て(?:ない|ません)|どうしよう|どうしたら"
)
_SHORT_MESSAGE = 120

# Negation right after a hit.
_NEGATION_SOURCE = (
    "^(?:"
    # 死にたいとは思っていない / 死にたいなんて思ったことは一度もありません / 死にたいと言ったことはない
    "(?:っていう|という|と|とは|なんて|とか|って|とも|とまでは)(?:は|も)?(?:全然|まったく|全く|一度も|別に|少しも|今は|もう)?"
    "(?:(?:思|おも|考|かんが)(?:わ|い|え|えて|って|ったこと|えたこと|うような(?:こと)?)(?:い|は|も)?"
    "|(?:言|い)(?:って(?:い)?|わ|ったこと))"
    "(?:は|も)?(?:一度も|全然|全く)?(?:ない|ありません|ません|なかった|ないです|ず|なく)"
    # 死んでもいいかなって思うくらい美味しい / 消えたいと思うほど恥ずかしい (hyperbole)
    "|い?(?:ように|みたいに)(?:見える|みえる)(?:ほど|くらい|ぐらい)"
    "|[^。]{0,10}(?:くらい|ほど|ぐらい)(?:美味|おいし|恥ずかし|はずかし|高|寒|さむ|暑|あつ|眠|ねむ|忙|面白|楽し|嬉し|うれし|笑|幸せ|好き|可愛|かわい)"
    # 「消えたい」という歌詞 / 自殺した人の記事
    # (not のことばかり: 練炭のことばかり考えてる is a crisis)
    "|(?:という|って|の)(?:歌詞|曲|歌|タイトル|セリフ|本|映画|ドラマ|言葉|ことば(?!かり)|単語)"
    "|[^。]{0,8}(?:の|という)(?:記事|ニュース|報道|番組)"
    # 暴力はふるいません
    "|(?:は|を)?(?:ふるい|振るい|ふるわ|振るわ)(?:ません|ない)"
    # 殴ったりはしません
    "|(?:っ)?(?:た)?り(?:は|も)?(?:しません|しない|していない|してない)"
    # 首つるかと思うくらい家賃が高い
    "|かと(?:思|おも)う?(?:くらい|ほど|ぐらい)"
    # もう死ぬと冗談で言う
    "|(?:気分|気持ち)?(?:って|と)(?:冗談|ふざけて)"
    # 暴力シーンが苦手 (fiction)
    "|(?:シーン|描写)"
    # 死にたいわけじゃない
    "|(?:って|という)?(?:わけ|訳)(?:じゃ|では|で)(?:は)?(?:ない|ありません|なく)"
    # 死ぬつもりはない / 暴力はありません / 暴力とかはない / 殴られたことはありません
    "|(?:られ)?(?:た|て)?(?:こと|事)?(?:は|も|とかは)(?:全く|全然|まったく|さらさら|一度も)?(?:ない|ありません|無い|ないです)"
    # 虐待ではない / 消えたいとかじゃないよ / 死にたいとかではなく / 死にたいほどやない
    "|(?:とか|とかは|ほど|ってほど|というほど)?(?:では|じゃ|や)(?:ない|なく|ありません|あらへん|ねえ)"
    "|(?:とか|ほど)(?:は|も)?(?:マジで|本当に|ほんとに|全然)?(?:ない|ありません|なくて)"
    ")"
)
# The hiragana view needs the hiragana form of the negation too (マジで → まじで).
_NEGATIONS = (re.compile(_NEGATION_SOURCE), re.compile(to_hiragana(_NEGATION_SOURCE)))
# ... unless the negation is negated again: 死にたいと思わない日はない.
_DOUBLE_NEGATION = re.compile("^(?:日|ひ|時|とき|ことは|事は|夜)(?:は|も)?(?:ない|ありません|無い)")
# Told as the past ...
_PAST = re.compile(
    "以前|昔|前は|前に|まえは|長年|幼い(?:ころ|頃)|かつて|当時|去年|昨年|子ども?の(?:ころ|頃)|小さい(?:ころ|頃)|若い(?:ころ|頃)|\\d+年前|yearsago|monthsago|たときは|た時は"
    "|時期|ていました|ていた|ありましたが|でしたが|ことがあります|ことがありました|(?:頃|ころ)は|ことも何度も|ことも"
)
# ... and over now (both must hold to drop a hit).
_RESOLVED = re.compile(
    "今は(?:もう)?(?:安全|落ち着|平穏|元気|大丈夫|穏やか|支援を受け|連絡も|完全に|子どもと安全)|今はもう"
    "|離婚して\\d|別居して|縁が切れ|(?:解決|落ち着)しています|安全に暮らして|安全です|別人のよう"
    "|今は(?:通院して|平和|へいき|平気)|今は[^。]{0,8}(?:離れて暮らし|幸せ|平和)|今の[^。]{0,4}は平和|落ち着きました"
    "|(?:母|父|夫|相手|親)は?もう亡くな|いまは(?:へいき|平気|だいじょうぶ)|(?:私|わたし)は大丈夫|でも大丈夫"
    "|思い出(?:す|して|します|した)|(?:縫って|縫ってもらって|手当てして|治療して)[^。]{0,4}(?:終わ|済)|i'?mfinenow|i'?mokaynow|(?:年前|前)に(?:終わ|おわ)りました|今は[^。]{0,8}(?:良好|仲良|仲がいい|仲がよい)|今は離婚して|(?:平穏|穏やか)に暮ら|今は[^。]{0,4}(?:楽しく|幸せに|元気に)"
)


@dataclass(frozen=True)
class RiskHit:
    flag: str
    start: int
    end: int
    phrase: str


_SMALL_VOWELS = str.maketrans("ぁぃぅぇぉァィゥェォ", "あいうえおアイウエオ")
_QUOTES = re.compile("[「」『』\"“”'‘’()（）【】]")


def risk_views(text: str) -> tuple[str, str]:
    """The two texts the lexicon reads: normalised (no spaces, no quotes), and that in hiragana.

    Quotes go so that 「死にたい」とは思っていない reads like 死にたいとは思っていない; spaces go
    because やさしい日本語 and kana-only writers put them between every word.
    """
    view = _QUOTES.sub("", normalize(text).replace(" ", "")).translate(_SMALL_VOWELS)
    return view, to_hiragana(view)


_COMPILED = tuple(
    (re.compile(convert(_TRAP_SOURCE)), [(flag, re.compile(convert(p))) for flag, p in _LEXICON])
    for convert in (lambda s: s, to_hiragana)
)

# LINE writers split one phrase over several short lines (くすり / ためてある, ろーぷ / かった);
# normalising turned those line breaks into "。". Runs of such short fragments are read once
# more joined up. Only short pieces are joined, so two real sentences never make a phrase.
_FRAGMENT_CHARS = 10


def _joined_fragments(view: str) -> str:
    pieces = view.split("。")
    out = pieces[0]
    for prev, piece in itertools.pairwise(pieces):
        short = 0 < len(prev) <= _FRAGMENT_CHARS and 0 < len(piece) <= _FRAGMENT_CHARS
        out += piece if short else "。" + piece
    return out


def _views(
    text: str,
) -> list[tuple[str, tuple[re.Pattern[str], list[tuple[str, re.Pattern[str]]]], re.Pattern[str]]]:
    """(view, (trap pattern, lexicon), negation pattern) for each way the lexicon reads `text`."""
    views = list(risk_views(text))
    joined = _joined_fragments(views[0])
    if joined != views[0]:
        views += [joined, to_hiragana(joined)]
    return [(view, _COMPILED[i % 2], _NEGATIONS[i % 2]) for i, view in enumerate(views)]


def _blank(match: re.Match[str]) -> str:
    return "＿" * (match.end() - match.start())


def find_risks(text: str) -> list[RiskHit]:
    """All lexicon hits that survive traps and negation, in text order (both views merged)."""
    hits: dict[tuple[str, int], RiskHit] = {}
    views = risk_views(text)
    resolved = bool(_RESOLVED.search(views[0]))
    for view, (trap_re, lexicon), negation_re in _views(text):
        view = trap_re.sub(_blank, view)
        for flag, pattern in lexicon:
            for match in pattern.finditer(view):
                if _negated(view, match.end(), negation_re) or (
                    resolved and _told_as_past(view, match.start())
                ):
                    continue
                hits.setdefault(
                    (flag, match.start()), RiskHit(flag, match.start(), match.end(), match.group())
                )
    if len(views[0]) <= _SHORT_MESSAGE and not any(h.flag == MEDICAL for h in hits.values()):
        symptom, helpless = _SYMPTOM.search(views[1]), _HELPLESS.search(views[1])
        if symptom and helpless:
            hits[(MEDICAL, symptom.start())] = RiskHit(
                MEDICAL, symptom.start(), symptom.end(), symptom.group()
            )
    return sorted(hits.values(), key=lambda h: h.start)


def strip_idioms(text: str) -> str:
    """`text` (normalised) without the harmless idioms the lexicon ignores (ゲームで死んだ …)."""
    return _COMPILED[0][0].sub("", text)


def _negated(view: str, end: int, negation_re: re.Pattern[str]) -> bool:
    tail = view[end : end + 30]
    negation = negation_re.match(tail)
    if not negation:
        return False
    return not _DOUBLE_NEGATION.match(tail[negation.end() :])


def _told_as_past(view: str, start: int) -> bool:
    sentence_start = max(view.rfind("。", 0, start), view.rfind("!", 0, start), view.rfind("?", 0, start)) + 1
    sentence_end = view.find("。", start)
    sentence = view[sentence_start : sentence_end if sentence_end >= 0 else len(view)]
    return bool(_PAST.search(sentence))


def detect(text: str) -> list[str]:
    """The risk flags present in `text`, in a fixed order."""
    return list(_detect(text))


@lru_cache(maxsize=512)
def _detect(text: str) -> tuple[str, ...]:
    # Cached: the analyzer asks once for the message and the classifier's cue features ask
    # again for the same (normalised) text.
    found = {hit.flag for hit in find_risks(text)}
    return tuple(flag for flag in FLAG_ORDER if flag in found)


# --- The soft hint: crisis roots and discarded hits -------------------------------------------
# Used only to show the safety numbers gently (never a flag): a crisis word that survives idiom
# removal, negation and "over now" counts, even when no lexicon phrase matched it.
_ROOTS = re.compile(
    # Each root with the few continuations that point at the writer's own danger: 死 alone is
    # mostly hyperbole (暑くて死にそう, 電池が死んだ), 死にたい / 死のう is not.
    "(?:死|し)に(?:たい|たく|てえ|てー)|死のう|死ねたら|死ねば|死んで(?:しまいたい|しまおう|もいい|もかまわ|楽に)|自殺|自死"
    "|(?:消|き)え(?:たい|たく|てしまいたい|てしまおう|てなくなりたい)"
    "|(?:殺|ころ)(?:される|されそう|されかけ|すぞ|してやる|すって|してしまいそう)"
    "|首を(?:吊|つ|絞|しめ|締)|首つり|首吊|飛び降|とびおり|(?:手首|リスカ|腕)を?(?:切|き)"
    "|暴力を?(?:ふるわれ|振るわれ|受け)|(?:殴|なぐ)(?:られ|って(?:く|き))|蹴(?:られ|って(?:く|き))"
    "|血が(?:止ま|とま)ら|血を(?:吐|は)|吐血|血だらけ|血まみれ"
    "|(?:倒|たお)れ(?:て(?:いて|いる|る|動|うご|意識|返事)|たまま)"
    "|意識が(?:ない|なく|もうろう|朦朧|遠の|おかし)|(?:息|いき)が(?:でき|苦し|くるし|止ま|とま|吸え|すえ|しにく)"
)
# Words that carry a root but no danger (心中 stories, 過去の自殺対策 are traps already).
_ROOT_NEIGHBOURS = re.compile(
    "自殺(?:対策|予防|防止)|(?:小説|ドラマ|映画|ニュース|記事)[^。]{0,6}(?:自殺|殺され)"
)
_CLAUSE_END = re.compile("[。、!?,]")


def hint_roots(text: str) -> list[str]:
    """Crisis roots (死, 消えたい, 殴 …) left after idioms and harmless neighbours are removed and
    that are not negated right after (死にたいとは思っていない) or told as the past when the
    message says it is over (以前は…今は落ち着いて)."""
    found: list[str] = []
    resolved = bool(_RESOLVED.search(risk_views(text)[0]))
    for view, (trap_re, _lexicon), negation_re in _views(text):
        view = _ROOT_NEIGHBOURS.sub(_blank, trap_re.sub(_blank, view))
        for match in _ROOTS.finditer(view):
            if (resolved and _told_as_past(view, match.start())) or _negated_in_clause(
                view, match.end(), negation_re
            ):
                continue
            found.append(match.group())
    return found


def _negated_in_clause(view: str, end: int, negation_re: re.Pattern[str]) -> bool:
    """A negation anywhere in the rest of the word's clause: the root (死) is shorter than the
    phrase the negation follows (死にたい|とは思っていない)."""
    clause_end = _CLAUSE_END.search(view, end)
    stop = min(clause_end.start() if clause_end else len(view), end + 12)
    return any(_negated(view, i, negation_re) for i in range(end, stop + 1))


def discarded_flags(text: str, *, idioms: bool = True) -> set[str]:
    """Flags whose lexicon phrase is in the text but was discarded: negated (殴られたことは
    ありません, 消えたいって歌詞), told as over, or (with `idioms`) blanked as an idiom. The model
    must not bring such a flag back."""
    found: set[str] = set()
    kept = set(detect(text))
    resolved = bool(_RESOLVED.search(risk_views(text)[0]))
    for view, (trap_re, lexicon), negation_re in _views(text):
        blanked = trap_re.sub(_blank, view)
        for flag, pattern in lexicon:
            if flag in kept:
                continue
            for match in pattern.finditer(view):
                if (
                    (idioms and "＿" in blanked[match.start() : match.end()])
                    or _negated(view, match.end(), negation_re)
                    or (resolved and _told_as_past(view, match.start()))
                ):
                    found.add(flag)
    return found
