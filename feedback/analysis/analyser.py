"""`analyse`: language, sentences, clause-weighted polarity, label with the score, aspects and topics."""

from __future__ import annotations

from afterglow.kinds import STARS_SCALE
from feedback.analysis.label import CONTRAST_WEIGHT, LATER_WEIGHT_STEP, MIXED_POLE, combine, normalise_score
from feedback.analysis.language import detect_language, normalise_language
from feedback.analysis.lexicons import (
    LANGUAGES_WITH_LEXICON,
    clause_spans,
    is_opinion_word,
    lexicon_language,
    split_sentences,
    tag,
)
from feedback.analysis.lexicons import score as score_text
from feedback.analysis.model import Analysis, Aspect, SentenceSentiment
from feedback.analysis.topics import topic_for

NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})


def analyse(
    text: str, *, score: int | None = None, scale: tuple[int, int] | None = None, language: str | None = None
) -> Analysis:
    """Tag one comment; `score` on `scale` (default 1–5 stars) weighs into the label; `language` is a hint that wins."""
    text = text.strip()
    normalised = None if score is None else normalise_score(score, scale or STARS_SCALE)
    lang = normalise_language(language) if language else detect_language(text) or lexicon_language(text)
    if not text or lang not in LANGUAGES_WITH_LEXICON:
        verdict = combine(None, False, normalised)
        return Analysis(lang if text or language else "", None, None, verdict.label, verdict.source, False, (), (), ())

    sentences: list[SentenceSentiment] = []
    aspects: list[Aspect] = []
    weighted: list[tuple[float, float, float]] = []  # (weight, polarity, subjectivity) of clauses with opinions
    poles: list[float] = []
    position = 0
    for sentence in split_sentences(lang, text):
        whole = score_text(lang, sentence)
        sentences.append(
            SentenceSentiment(_untokenise(sentence), round(whole.polarity, 4), round(whole.subjectivity, 4))
        )
        if whole.opinion_words:
            poles.append(whole.polarity)
        tokens = sentence.split()
        # Each token's sentiment is its clause's ("the battery is terrible but the screen is gorgeous"), or the
        # whole sentence's where its clause has no opinion of its own.
        near = [round(whole.polarity, 4)] * len(tokens)
        for start, end, contrast in clause_spans(lang, sentence):
            part = score_text(lang, " ".join(tokens[start:end]))
            if part.opinion_words:
                weight = (1 + LATER_WEIGHT_STEP * position) * (CONTRAST_WEIGHT if contrast else 1)
                weighted.append((weight, part.polarity, part.subjectivity))
                poles.append(part.polarity)
                near[start:end] = [round(part.polarity, 4)] * (end - start)
            position += 1
        aspects.extend(_aspects(lang, sentence, near))

    polarity = subjectivity = None
    if weighted:
        total = sum(w for w, _, _ in weighted)
        polarity = round(sum(w * p for w, p, _ in weighted) / total, 4)
        subjectivity = round(sum(w * s for w, _, s in weighted) / total, 4)
    mixed = any(p >= MIXED_POLE for p in poles) and any(p <= -MIXED_POLE for p in poles)
    verdict = combine(polarity, mixed, normalised)
    topics = tuple(dict.fromkeys(a.topic for a in aspects if a.topic))
    return Analysis(
        lang,
        polarity,
        subjectivity,
        verdict.label,
        verdict.source,
        verdict.flagged,
        tuple(sentences),
        tuple(aspects),
        topics,
    )


def _aspects(language: str, sentence: str, near: list[float]) -> list[Aspect]:
    """Runs of nouns inside noun-phrase chunks (English) or capitalised words (German), plus other words that
    name a topic ("geliefert", "arrived"), each with the sentiment `near` its first word."""
    tokens = tag(language, sentence)
    if len(tokens) != len(near):  # the tagger split differently: the sentence's sentiment for all
        near = [near[0] if near else 0.0] * len(tokens)
    phrases: list[tuple[int, list[str]]] = []
    run: list[str] = []
    run_start = 0
    for i, token in enumerate(tokens):
        in_np = language != "en" or token.chunk.endswith("NP")
        # Opinion words tagged as nouns ("Great, …" → NNP, "I love it" → NN) are no aspect unless they name a topic.
        is_noun = (
            token.tag in NOUN_TAGS
            and in_np
            and not (is_opinion_word(language, token.word) and not topic_for(token.word, language))
        )
        continues = run and token.chunk != "B-NP" and tokens[i - 1].tag in NOUN_TAGS
        if is_noun and (continues or not run):
            if not run:
                run_start = i
            run.append(token.word)
            continue
        if run:
            phrases.append((run_start, run))
        run, run_start = ([token.word], i) if is_noun else ([], i)
        if not is_noun and token.word.isalpha() and topic_for(token.word, language):
            phrases.append((i, [token.word]))
    if run:
        phrases.append((run_start, run))
    return [Aspect(" ".join(p), topic_for(" ".join(p), language), near[start]) for start, p in phrases]


def _untokenise(sentence: str) -> str:
    # The splitter spaces punctuation off ("late !"); give the customer's spelling back.
    for mark in (" .", " ,", " !", " ?", " ;", " :", " )", " n't", " 's", " 'll", " 're", " 've", " 'd", " 'm"):
        sentence = sentence.replace(mark, mark[1:])
    return sentence.replace("( ", "(")
