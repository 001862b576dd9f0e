import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentiment.tokenize import _HTML_TAG, _TOKEN, tokenize, tokenize_all


def test_lowercases_strips_html_and_keeps_apostrophes_and_marks():
    assert tokenize("Great<br /><br />film, DON'T miss it!") == ["great", "film", "don't", "miss", "it", "!"]


def test_unicode_words_stay_whole():
    assert tokenize("Café naïve — déjà vu?") == ["café", "naïve", "déjà", "vu", "?"]


def test_underscores_and_punctuation_are_separators():
    assert tokenize("a_b...c") == ["a", "b", "c"]


def test_bare_string_is_refused_where_many_texts_are_expected():
    with pytest.raises(TypeError):
        tokenize_all("one text")
    with pytest.raises(TypeError):
        tokenize(None)


# The ASCII fast path (str.translate + split) must give exactly the Unicode regex's tokens.
_ASCII_PIECES = st.sampled_from(["a", "Z", "9", "'", "''", "!", "?", "_", " ", "\t", "\n", "<br />", "<b>", ">", "<",
                                 "don't", "-", ".", ",", "rock'n'roll", "'quoted'", "x'", "'y", "~"])  # fmt: skip


@given(st.lists(_ASCII_PIECES | st.text(st.characters(max_codepoint=127), max_size=8), max_size=30))
def test_the_ascii_fast_path_gives_the_regex_tokens(pieces):
    text = "".join(pieces)
    assert tokenize(text) == _TOKEN.findall(_HTML_TAG.sub(" ", text.lower()))


@pytest.mark.shared_data
def test_the_ascii_fast_path_gives_the_regex_tokens_on_imdb(shared_data):
    import pandas as pd

    texts = pd.read_csv(shared_data / "imdb" / "imdb_train.csv.gz", nrows=3000)["text"].tolist()
    assert [tokenize(t) for t in texts] == [_TOKEN.findall(_HTML_TAG.sub(" ", t.lower())) for t in texts]
