"""Crisis detection: every example and trap named in the issue, plus variants in LINE writing.

A missed crisis is the worst bug, so the positive table is the long one; the negative table
holds the idioms and neighbours that must not set off safety numbers.
"""

from __future__ import annotations

import pytest

import nlp
from nlp.risk import detect

S, V, M = "suicide_risk", "violence_risk", "medical_emergency"

POSITIVE = [
    # spoken ちゃう/じゃう for てしまう
    ("朝起きるのがつらい。消えちゃいそう", S),
    ("もう死んじゃおうかな", S),
    ("いなくなっちゃいたい", S),
    # the examples
    ("消えたい", S),
    ("朝が来なければいいのに", S),
    ("ロープを買った", S),
    ("今トイレに隠れてる", V),
    ("母が倒れて意識がない", M),
    # direct, about the writer
    ("もう死にたい", S),
    ("死にたくなる夜がある", S),
    ("自殺しようと思ってる", S),
    ("死んだほうがましだ", S),
    ("リスカがやめられない", S),
    ("薬を少しずつためています", S),
    ("いま薬ぜんぶのんだ", S),
    # indirect
    ("生きてる意味がない", S),
    ("もう生きていたくない", S),
    ("私がいない方がみんな幸せだと思う", S),
    ("いなくなりたい", S),
    ("いま橋の上にいる", S),
    ("明日が来なければいいのに", S),
    ("ロープ買った　もうつかれた", S),
    ("友達から「今までありがとう」ってLINEが来た", S),
    # about someone else
    ("息子が「死にたい」と言っています", S),
    ("夫が遺書のようなものを書いていた", S),
    # kana-only, katakana, spaced, dialect, emoji, full width
    ("もう生きる意味なんてない", S),
    ("睡眠薬を30錠飲んだ", S),
    ("睡眠薬を30錠飲んだ", M),
    ("しにたい", S),
    ("シニタイ", S),
    ("し に た い", S),
    ("しにてぇ", S),
    ("もう生きとってもしゃあない", S),
    ("おらも一緒にいなぐなりてえ", S),
    ("もう死にたい😭😭", S),
    ("もう\n死にたい", S),
    ("ｼﾆﾀｲ", S),
    # double negation still fires
    ("死にたいと思わない日はない", S),
    # violence
    ("夫に殴られています", V),
    ("旦那がまた酒飲んで暴れとる", V),
    ("おっと が わたし を たたきます。にげたい です", V),
    ("包丁を向けられた", V),
    ("元夫が家の前にいる", V),
    ("隣の部屋から子どもの悲鳴が聞こえる", V),
    ("子どもに手をあげてしまいそう", V),
    ("殺すぞと脅されています", V),
    ("父親から性的なことをされる", V),
    ("母親がごはんをくれない", V),
    ("元夫につけられている", V),
    # やさしい日本語 / English from foreign residents
    ("しにたい です", S),
    ("I want to die", S),
    ("my husband hits me", V),
    ("my father is not breathing", M),
    ("首をくくりたい", S),
    ("自分なんていなくていい", S),
    # medical emergency
    ("父が息をしていない", M),
    ("ちちがうごかない　いきしてるかわからない", M),
    ("祖母が転んで頭を打って血が止まりません", M),
    ("むね が いたい。 うごけない", M),
    ("赤ちゃんが熱40度でぐったりしてる", M),
    ("子どもがボタン電池を飲んだかもしれない", M),
    ("けいれんが止まらない", M),
    # one phrase split over short LINE lines, and kana
    ("くすり\nためてある", S),
    ("ろーぷ\nかった\nまだつかってない", S),
    ("ろーぷかった", S),
    ("このまま寝て起きなければいいのに", S),
    # constructions generalised from the training split (own sentences, not corpus copies)
    # farewell as a last message
    ("今まで本当にありがとう。みんなによろしく", S),
    ("これを読むころには私はもういません", S),
    ("お世話になりました。もう連絡しません", S),
    ("兄ちゃん、俺もう限界だわ。父さんのことよろしく", S),
    # the absent future
    ("来月にはもうこの世にいないと思う", S),
    ("来年の桜はもう見ないと思う", S),
    ("今日が最後の日だったらいいのに", S),
    # a decided plan
    ("今晩で全部終わりにします", S),
    ("その日を決めたら気持ちが軽くなった", S),
    ("母を見送ったら自分も後を追うつもり", S),
    # means + intent
    ("ネットで睡眠薬をたくさん注文した", S),
    ("練炭の用意はできた", S),
    ("踏切に行こうと思う", S),
    ("車の中で排気ガスのことを調べてた", S),
    ("痛くない方法ばかり検索してしまう", S),
    ("今、屋上", S),
    ("ホームに立ってたら足が勝手に前に出そうになる", S),
    ("山に行ったら帰らないつもり", S),
    ("祖父が毎日早くおばあちゃんのところに行きたいと言う", S),
    # "dying would fix it", self-harm told indirectly
    ("自分が死ねば借金はチャラになる", S),
    ("俺がいなければ家族は楽になる", S),
    ("自分に保険金がかかっていることばかり考える", S),
    ("たばこの火を腕に押しつけた", S),
    # dialect, slang, kana, romaji
    ("会社に行くぐらいなら消えた方がましや", S),
    ("もう生ぎでだくね", S),
    ("うちがいなくなったらええのに", S),
    ("人生ログアウトしたい", S),
    ("らいげつは もう いないと おもう", S),
    ("ねんたん かった", S),
    ("せんろに いこうと おもう", S),
    ("死んだらええねん、うちなんか", S),
    ("shinitai", S),
    ("mou kietai", S),
    # violence: threats, now, signs, a carer afraid
    ("別れるなら実家を燃やすって言われた", V),
    ("お前の家は知ってるからなと言われた", V),
    ("元彼から毎晩電話が来る", V),
    ("夫に首しめられた", V),
    ("彼がまた皿投げてきた", V),
    ("夫に外から鍵をかけられた", V),
    ("父が包丁を持って立ってる", V),
    ("子どもの背中に線状の痕がある", V),
    ("あの子は家に帰りたくないと言う", V),
    ("泣き止まないと叩きそうになる", V),
    ("この子を連れて一緒に死のうかと思った", V),
    ("かくまってくださいと隣の人が来た", V),
    ("otto ni korosareru", V),
    ("korosu zo to iwareta", V),
    # medical now
    ("子どもが洗剤を飲んじゃった", M),
    ("祖父の顔色が真っ青で返事がない", M),
    ("揺すっても起きない", M),
    ("父が急に胸を押さえてうずくまった", M),
    ("妻が出産したばかりで出血が止まらない", M),
    ("まだ30週なのに陣痛みたいな痛みがある", M),
    ("夫に殴られて起き上がれない", M),
    ("さっき睡眠薬とお酒を一緒に飲んだ", M),
    ("おなかがとてもいたい。ちがでた。たすけて", M),
    ("ima taorete ugokenai", M),
    ("ちち が いしき ない", M),
    # "now it is fine" must not be read into "now it is not fine"
    ("今は大丈夫じゃない。前は死にたいと思っていたけど、また思う", S),
]

NEGATIVE = [
    "消えてしまいそうなくらい小さな声で話す子です",
    # the traps
    "死ぬほど忙しい",
    "笑い死ぬかと思った",
    "ゲームで死んだ",
    "首になった",
    "父が亡くなって相続の相談です",
    "自殺対策の講座に参加したい",
    "殺虫剤はどこで買えますか",
    "死にたいとは思っていない",
    # more neighbours
    "死にたいなんて思ったことは一度もありません",
    "消えたいとかじゃないよ、ただ疲れてるだけ",
    "死ぬ気で頑張って資格を取りたい",
    "清水の舞台から飛び降りるつもりで買いました",
    "彼との関係をもう終わりにしたい",
    "ネットで叩かれて落ち込んでる",
    "首が回らないほど借金がある",
    "息ができないくらい笑った",
    "上司に殺されるかと思うほど怒られた",
    "以前は死にたいと思っていた時期もありましたが、今は落ち着いています",
    "昔は元夫からDVがありましたが、離婚して今は安全に暮らしています",
    "去年、母が救急車で運ばれましたが、今は元気です",
    "息子が学校にいきたくないと言っています",
    "介護を続けられるか不安です",
    "手が出そうなほど腹が立つけど、もちろん出さない",
    "死ぬまでに一度は海外に行きたい",
    "市に対して要望があります",
    "詐欺の電話で心臓が止まるかと思いました",
    "熱中症で倒れる人が多いってニュースで見た",
    "ロープワーク講習に参加したい",
    "推しが尊くて死ぬ",
    "仕事で死にかけた笑",
    "DV防止の講演会に行きたい",
    "自殺予防週間のポスターを作りたい",
    "名前につけられた漢字の意味",
    # joining short lines must not join two real sentences into a phrase
    "縄跳びのロープを新しくしたいです。買った服が小さくなったので交換したいです",
    "ロープワーク教室\nかいさいしてますか",
    # neighbours found on the training split: education, fiction, sport, hobby, past and over
    "いじめ防止の研修を受けたい",
    "虐待の防止について学べる講座はありますか",
    "自殺がテーマの映画を見て考えさせられた",
    "ドラマの犯人が最後に首をつった",
    "ころしてやるってアニメのセリフをまねしている",
    "弟と殺すぞやってみろって言い合うのはいつものこと",
    "サッカーで自殺点を入れてしまった",
    "死海で浮いてみたい",
    "登山用のロープを買いました",
    "練炭で焼くとおいしい",
    "包丁の研ぎ方を教えてほしい",
    "害獣でも殺すのはかわいそう",
    "終活セミナーで死に方について話を聞いた",
    "祖父が自殺して十年がたちます。遺族の会はありますか",
    "大学のときリスカしてたけど、もう5年やってない",
    "死にたい気持ちはまったくありません",
    "言葉の暴力がつらい",
    "ﾀﾋぬかと思うほど走った",
    "将来どうなるかわからなくて不安です",
    "息止まるかと思ったけど合格してた",
    # everyday sentences that share words with the new constructions
    "子どもと一緒に海に行きたい",
    "窓から一緒に花火を見た",
    "トイレを詰まらせた",
    "声をかけたら返事してくれた",
    "母の薬の準備ができた",
    "家の前に車を止めてもいいですか",
    "仕事はよ終わらしたい",
    "親を楽にさせてあげたい",
    "老人ホームに行こうと思う",
    "ルールに縛られて疲れる",
    "山形まで片道いくらですか",
    "元夫からずっと連絡がない",
    "警察に言ったら相手にされなかった",
    "骨折のあとリハビリに通っています",
    "今飲んでいる薬とお酒の飲み合わせは大丈夫ですか",
    "ミスをやりそうで怖い",
    "週末はお母さんのところに行きたいので子どもを預けたい",
    "十年前の元夫の暴力は、もう思い出さなくなりました",
    "傷あとの治療ができる皮膚科を教えてください",
    "去年、父が倒れて救急車で運ばれたけど、もう治りました",
    "",
]


@pytest.mark.parametrize(("text", "flag"), POSITIVE)
def test_risk_fires(text: str, flag: str) -> None:
    assert flag in detect(text)


@pytest.mark.parametrize("text", NEGATIVE)
def test_risk_stays_quiet(text: str) -> None:
    assert detect(text) == []


def test_risk_at_the_end_of_a_long_rant_is_found(analyzer: nlp.Analyzer) -> None:
    rant = "仕事のことで愚痴を聞いてほしい。上司がうるさくて毎日つまらない。" * 400 + "もう消えたい。"
    assert len(rant) > 10_000
    assert analyzer.risk(rant) == [S]
    assert S in analyzer.analyze(rant).risk


def test_analyzer_risk_matches_rules(analyzer: nlp.Analyzer) -> None:
    assert analyzer.risk("夫に殴られて今トイレに隠れてる。母が倒れて意識がない") == [V, M]


# A message that is only an idiom the lexicon ignores: the model, reading the same words, must
# not bring the flag or the hint back. With more than the idiom, the model still reads the rest.
@pytest.mark.parametrize(
    "text", ["スマホの電池が死んだ", "パソコンが死んだ笑", "ゲームでまた死んだｗ", "死ぬほど忙しい"]
)
def test_a_message_of_idioms_only_stays_quiet_with_the_model(analyzer: nlp.Analyzer, text: str) -> None:
    assert analyzer.crisis(text) == ([], False)


def test_a_hyperbole_with_words_left_over_may_hint_but_never_flags(analyzer: nlp.Analyzer) -> None:
    # 推しが尊すぎて息できない: the idiom is blanked, 推しが…できない is left for the model to read;
    # a gentle hint there is the price of the low hint bar, a flag would be a false alarm.
    assert analyzer.risk("推しが尊すぎて息できない") == []


@pytest.mark.parametrize(
    ("text", "flag"),
    [("死ぬほど疲れた。朝が来なければいいのに", S), ("ゲームばっかりの夫に今日も殴られた", V)],
)
def test_an_idiom_beside_a_crisis_does_not_hide_it(analyzer: nlp.Analyzer, text: str, flag: str) -> None:
    assert flag in analyzer.risk(text)
