"""Normalisation keeps a map back to what the trainee typed; the analyser loads once."""

from simulator.text import get_tokenizer, japanese_share, lemma_of, normalize, split_sentences, tokenize


def test_nfkc_folds_width_and_keeps_offsets():
    raw = "ｹｲﾔｸ外のＡＢＣ作業"
    n = normalize(raw)
    assert n.text == "ケイヤク外のABC作業"
    s, e = n.span(0, 4)
    assert raw[s:e] == "ｹｲﾔｸ"


def test_voiced_half_width_kana_compose_into_one_character():
    n = normalize("ﾀﾞﾒ")
    assert n.text == "ダメ"
    assert n.span(0, 2) == (0, 3)


def test_html_tags_are_dropped_and_offsets_skip_them():
    raw = "<p>大声は<b>お控え</b>ください</p>"
    n = normalize(raw)
    assert n.text == "大声はお控えください"
    i = n.text.index("お控え")
    s, e = n.span(i, i + 3)
    assert raw[s:e] == "お控え"


def test_spaces_between_japanese_words_disappear_but_not_between_english_ones():
    assert normalize("お控え　ください").text == "お控えください"
    assert normalize("please  stop").text == "please stop"


def test_ellipsis_stays_one_character():
    assert normalize("困ります…").text == "困ります…"


def test_sentences_split_on_japanese_and_ascii_punctuation():
    text = "承知しました。ただ、お受けできません！なぜ？\n以上"
    parts = [text[s:e] for s, e in split_sentences(text)]
    assert parts == ["承知しました。", "ただ、お受けできません！", "なぜ？", "以上"]


def test_tokens_carry_normalised_lemmas_and_offsets():
    toks = tokenize("お受けできません")
    lemmas = [t.lemma for t in toks]
    assert "受ける" in lemmas and "出来る" in lemmas
    assert all("お受けできません"[t.start : t.end] == t.surface for t in toks)
    assert lemma_of("やる") == "遣る"


def test_the_shared_tokenizer_gives_the_same_tokens_from_several_threads():
    import threading

    texts = ["お受けできません", "承知しました、対応いたします。", "録音させていただきます。"] * 20
    serial = [[t.lemma for t in tokenize(x)] for x in texts]
    out: list[list[list[str]]] = []

    def work() -> None:
        out.append([[t.lemma for t in tokenize(x)] for x in texts])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert get_tokenizer() is get_tokenizer()
    assert len(out) == 4 and all(o == serial for o in out)


def test_long_text_without_punctuation_is_tokenised_in_chunks():
    toks = tokenize("あ" * 5000)
    assert toks and toks[-1].end == 5000


def test_japanese_share():
    assert japanese_share("Please stop.")[0] == 0
    jp, share = japanese_share("OK、承知しました")
    assert jp >= 5 and share > 0.5
