"""`analyse`: language, sentences, clause-weighted polarity, label with the score, aspects and topics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from afterglow.kinds import STARS_SCALE
from feedback.analysis.complaint_register import COMPLAINT_SUBJECTIVITY
from feedback.analysis.complaints import Complaint, find_complaints
from feedback.analysis.label import (
    CONCLUSION_FROM,
    CONCLUSION_WEIGHT,
    CONTRAST_WEIGHT,
    LATER_WEIGHT_STEP,
    NO_OPINION_CONFIDENCE,
    Verdict,
    combine,
    is_mixed,
    normalise_score,
)
from feedback.analysis.language import choose_language
from feedback.analysis.lexicons import (
    LANGUAGES_WITH_LEXICON,
    Scored,
    clause_spans,
    is_opinion_word,
    lexicon_language,
    split_sentences,
    tag,
)
from feedback.analysis.lexicons import score as score_text
from feedback.analysis.model import Analysis, Aspect, Clauses, SentenceSentiment
from feedback.analysis.topics import active_keywords, topic_for

if TYPE_CHECKING:
    from feedback.analysis.learned import LearnedModel

NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})


def analyse(
    text: str,
    *,
    score: int | None = None,
    scale: tuple[int, int] | None = None,
    language: str | None = None,
    model: LearnedModel | None = None,
) -> Analysis:
    """Tag one comment; `score` on `scale` (default 1–5 stars) weighs into the label; `language` (the customer's
    locale) decides only where the text is too short to tell its own language.
    With the shop's learned `model` (feedback.analysis.learned), the model reads the text instead of the lexicon."""
    found, clauses = _lexicon_analysis(text, score=score, scale=scale, language=language)
    if model is None:
        return found
    from feedback.analysis.learned import with_model  # scikit-learn loads only where a model is in use

    normalised = None if score is None else normalise_score(score, scale or STARS_SCALE)
    return with_model(found, model, text, normalised, clauses)


def _lexicon_analysis(
    text: str, *, score: int | None = None, scale: tuple[int, int] | None = None, language: str | None = None
) -> tuple[Analysis, Clauses]:
    text = text.strip()
    normalised = None if score is None else normalise_score(score, scale or STARS_SCALE)
    # The text's own language where it is clear; the hint (the customer's locale) only where it is too short to tell.
    lang = choose_language(text, language) or lexicon_language(text)
    if not text or lang not in LANGUAGES_WITH_LEXICON:
        verdict = combine(None, False, normalised)
        return Analysis(
            lang if text or language else "",
            None,
            None,
            verdict.label,
            verdict.source,
            False,
            (),
            (),
            (),
            source="score",
            confidence=verdict.confidence,
        ), Clauses()

    sentences: list[SentenceSentiment] = []
    aspects: list[Aspect] = []
    weighted: list[tuple[float, float, float]] = []  # (weight, polarity, subjectivity) of clauses with opinions
    sentence_of: list[int] = []  # the sentence of each of them
    clauses = Clauses()
    split = split_sentences(lang, text)
    position = 0
    for number, sentence in enumerate(split):
        tokens = sentence.split()
        complaints = find_complaints(lang, [t.lower() for t in tokens])
        whole = _with_complaints(score_text(lang, sentence), complaints)
        sentences.append(SentenceSentiment(_untokenise(sentence), whole[0], whole[1]))
        # Each token's sentiment is its clause's ("the battery is terrible but the screen is gorgeous"), or the
        # whole sentence's where its clause has no opinion of its own.
        near = [whole[0]] * len(tokens)
        where = [len(clauses.texts)] * len(tokens)  # the clause of each token
        for start, end, contrast in clause_spans(lang, sentence):
            mine = [c for c in complaints if start <= c.start < end]
            part = _with_complaints(score_text(lang, " ".join(tokens[start:end])), mine)
            weight = (1 + LATER_WEIGHT_STEP * position) * (CONTRAST_WEIGHT if contrast else 1)
            where[start:end] = [len(clauses.texts)] * (end - start)
            clauses.texts.append(_untokenise(" ".join(tokens[start:end])))
            clauses.weights.append(weight)
            if part[2]:
                weighted.append((weight, part[0], part[1]))
                sentence_of.append(number)
                near[start:end] = [part[0]] * (end - start)
            position += 1
        found_aspects = _aspects(lang, sentence, near) + _complaint_aspects(tokens, complaints, near)
        aspects.extend(aspect for aspect, _ in found_aspects)
        clauses.of_aspect.extend(where[min(start, len(where) - 1)] if where else 0 for _, start in found_aspects)

    long_text = len(split) >= CONCLUSION_FROM
    if long_text and weighted:  # the last sentence with an opinion is the writer's verdict
        weighted = [
            (w * CONCLUSION_WEIGHT, p, s) if n == sentence_of[-1] else (w, p, s)
            for (w, p, s), n in zip(weighted, sentence_of, strict=True)
        ]
    polarity = subjectivity = None
    if weighted:
        total = sum(w for w, _, _ in weighted)
        polarity = round(sum(w * p for w, p, _ in weighted) / total, 4)
        subjectivity = round(sum(w * s for w, _, s in weighted) / total, 4)
    mixed, torn = is_mixed([(w, p) for w, p, _ in weighted], long_text=long_text)
    verdict = combine(polarity, mixed, normalised, torn=torn)
    if polarity is None and normalised is None:  # read, and no opinion found: neutral, not sure
        verdict = Verdict("neutral", "text", False, NO_OPINION_CONFIDENCE)
    topics = tuple(dict.fromkeys(a.topic for a in aspects if a.topic))
    clauses = Clauses(clauses.texts, clauses.weights, clauses.of_aspect, long_text)
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
        source="lexicon" if polarity is not None or normalised is None else "score",
        confidence=verdict.confidence,
    ), clauses


def _with_complaints(found: Scored, complaints: list[Complaint]) -> tuple[float, float, int]:
    """(polarity, subjectivity, opinions) of a sentence or clause: the lexicon's opinion words and the complaint
    register's events, each counting as one opinion."""
    if not complaints:
        return round(found.polarity, 4), round(found.subjectivity, 4), found.opinion_words
    n = found.opinion_words
    count = n + len(complaints)
    polarity = (found.polarity * n + sum(c.polarity for c in complaints)) / count
    subjectivity = (found.subjectivity * n + COMPLAINT_SUBJECTIVITY * len(complaints)) / count
    return round(polarity, 4), round(subjectivity, 4), count


def _complaint_aspects(tokens: list[str], complaints: list[Complaint], near: list[float]) -> list[tuple[Aspect, int]]:
    """A complaint names its topic ("on hold" → support), where the shop's topics have it; with its first token."""
    return [
        (Aspect(" ".join(tokens[c.start : c.end]).rstrip(" ?!."), c.topic, near[c.start]), c.start)
        for c in complaints
        if c.topic and c.topic in active_keywords()
    ]


def _aspects(language: str, sentence: str, near: list[float]) -> list[tuple[Aspect, int]]:
    """Runs of nouns inside noun-phrase chunks (English) or capitalised words (German), plus other words that
    name a topic ("geliefert", "arrived"), each with the sentiment `near` its first word, and that word's place."""
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
    return [(Aspect(" ".join(p), topic_for(" ".join(p), language), near[start]), start) for start, p in phrases]


def _untokenise(sentence: str) -> str:
    # The splitter spaces punctuation off ("late !"); give the customer's spelling back.
    for mark in (" .", " ,", " !", " ?", " ;", " :", " )", " n't", " 's", " 'll", " 're", " 've", " 'd", " 'm"):
        sentence = sentence.replace(mark, mark[1:])
    return sentence.replace("( ", "(")
