"""`analyse`: language, sentences, clause-weighted polarity, label with the score, aspects and topics."""

from __future__ import annotations

from feedback.analysis import label as policy
from feedback.analysis.language import detect_language, normalise_language
from feedback.analysis.lexicons import LANGUAGES_WITH_LEXICON, clauses, lexicon_language, split_sentences, tag
from feedback.analysis.lexicons import score as score_text
from feedback.analysis.model import Analysis, Aspect, SentenceSentiment
from feedback.analysis.topics import topic_for

DEFAULT_SCALE = (1, 5)
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})


def analyse(
    text: str, *, score: int | None = None, scale: tuple[int, int] | None = None, language: str | None = None
) -> Analysis:
    """Tag one comment; `score` on `scale` (default 1–5 stars) weighs into the label; `language` is a hint that wins."""
    text = text.strip()
    normalised = None if score is None else policy.normalise_score(score, scale or DEFAULT_SCALE)
    lang = normalise_language(language) if language else detect_language(text) or lexicon_language(text)
    if not text or lang not in LANGUAGES_WITH_LEXICON:
        verdict = policy.combine(None, False, normalised)
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
        for clause, contrast in clauses(lang, sentence):
            part = score_text(lang, clause)
            if part.opinion_words:
                weight = (1 + policy.LATER_WEIGHT_STEP * position) * (policy.CONTRAST_WEIGHT if contrast else 1)
                weighted.append((weight, part.polarity, part.subjectivity))
                poles.append(part.polarity)
            position += 1
        aspects.extend(_aspects(lang, sentence, round(whole.polarity, 4)))

    polarity = subjectivity = None
    if weighted:
        total = sum(w for w, _, _ in weighted)
        polarity = round(sum(w * p for w, p, _ in weighted) / total, 4)
        subjectivity = round(sum(w * s for w, _, s in weighted) / total, 4)
    mixed = any(p >= policy.MIXED_POLE for p in poles) and any(p <= -policy.MIXED_POLE for p in poles)
    verdict = policy.combine(polarity, mixed, normalised)
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


def _aspects(language: str, sentence: str, polarity: float) -> list[Aspect]:
    """Runs of nouns inside noun-phrase chunks (English) or capitalised words (German), plus other words that
    name a topic ("geliefert", "arrived"), each with its sentence's polarity."""
    tokens = tag(language, sentence)
    phrases: list[list[str]] = []
    run: list[str] = []
    for i, token in enumerate(tokens):
        in_np = language != "en" or token.chunk.endswith("NP")
        # Opinion words tagged as nouns ("Great, …" → NNP, "I love it" → NN) are no aspect unless they name a topic.
        is_noun = (
            token.tag in NOUN_TAGS
            and in_np
            and not (score_text(language, token.word).opinion_words and not topic_for(token.word, language))
        )
        continues = run and token.chunk != "B-NP" and tokens[i - 1].tag in NOUN_TAGS
        if is_noun and (continues or not run):
            run.append(token.word)
            continue
        if run:
            phrases.append(run)
        run = [token.word] if is_noun else []
        if not is_noun and token.word.isalpha() and topic_for(token.word, language):
            phrases.append([token.word])
    if run:
        phrases.append(run)
    return [Aspect(" ".join(p), topic_for(" ".join(p), language), polarity) for p in phrases]


def _untokenise(sentence: str) -> str:
    # The splitter spaces punctuation off ("late !"); give the customer's spelling back.
    for mark in (" .", " ,", " !", " ?", " ;", " :", " )", " n't", " 's"):
        sentence = sentence.replace(mark, mark[1:])
    return sentence.replace("( ", "(")
