import pytest

from sentiment.tokenize import tokenize, tokenize_all


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
