"""A text classifier learned from the shop's own scored texts: hashed word and character n-grams, a linear model.

Everything it learned is plain data (`to_dict`): hashing needs no vocabulary, so the weights of the features that
matter, the intercepts and the hashing parameters are the whole model. It is stored in the database as JSON and
read back with `from_dict`; nothing is ever unpickled. Predictions are a sparse dot product done here, so a stored
model keeps working across scikit-learn versions (the feature hash, murmurhash3, does not change).
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import balanced_accuracy_score

from feedback.analysis.label import combine
from feedback.analysis.model import Analysis, Clauses

#: The shape of `to_dict()`; a stored model of another format is not read.
FORMAT = 1
#: Hashed features per analyser (words and character n-grams each get this many slots).
N_FEATURES = 2**18
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
#: Per class, only the weights that matter most are kept: the rest change almost no prediction (see the tests) and
#: would make the stored model tens of megabytes.
KEEP_WEIGHTS = 40_000
#: How many words and phrases per language and direction "what the model learned" can show.
EXPLAINED_TERMS = 60
#: Terms are named from about this many training texts, taken evenly from all of them.
EXPLAIN_FROM = 20_000
#: Regularisation of the linear model (SGD with log loss); chosen on the labelled reviews and synthetic sets.
ALPHA = 2e-5
EPOCHS = 15
POLARITY_LABELS = ("negative", "neutral", "positive")
#: A language the model saw fewer texts of than this is left to the lexicon (or the score).
MIN_LANGUAGE_EXAMPLES = 30


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # positive | neutral | negative
    language: str  # ISO code ("en", "de", …) or "" when unknown


def _language_token(language: str) -> str:
    # One word that every text of a language carries, so the model can shift its baseline per language.
    return f"zzlang{re.sub(r'[^a-z]', '', language.lower()) or 'xx'}"


def _vectorizers(n_features: int) -> tuple[HashingVectorizer, HashingVectorizer]:
    common: dict[str, Any] = {"n_features": n_features, "alternate_sign": False, "norm": "l2", "lowercase": True}
    words = HashingVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, **common)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, **common)
    return words, chars


@dataclass
class LearnedModel:
    """A trained classifier as plain data: `classes`, one sparse weight row per row of `intercepts`."""

    classes: list[str]
    weights: list[dict[int, float]]  # feature index → weight; words at 0..n-1, characters at n..2n-1
    intercepts: list[float]
    n_features: int = N_FEATURES
    n: int = 0  # examples it was trained on
    trained_at: str = ""
    version: int = 0  # set when stored
    languages: dict[str, int] = field(default_factory=dict)  # examples per language
    explained: dict[str, dict[int, str]] = field(default_factory=dict)  # language → feature index → term

    def __post_init__(self) -> None:
        self._words, self._chars = _vectorizers(self.n_features)
        rows, cols, vals = [], [], []
        for row, weights in enumerate(self.weights):
            for index, weight in weights.items():
                rows.append(row)
                cols.append(int(index))
                vals.append(weight)
        shape = (len(self.weights), 2 * self.n_features)
        self._matrix = sparse.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float64).T.tocsr()
        self._intercepts = np.asarray(self.intercepts, dtype=np.float64)

    # Predicting -------------------------------------------------------------------------------------------------

    def _features(self, texts: Sequence[str], languages: Sequence[str]) -> sparse.csr_matrix:
        tagged = [f"{_language_token(lang)} {text}" for text, lang in zip(texts, languages, strict=True)]
        return sparse.hstack([self._words.transform(tagged), self._chars.transform(texts)], format="csr")

    def predict_many(self, texts: Sequence[str], languages: Sequence[str]) -> list[dict[str, float]]:
        """Class probabilities for each text."""
        if not texts:
            return []
        scores = (self._features(texts, languages) @ self._matrix).toarray() + self._intercepts
        probabilities = _probabilities(scores)
        if len(self.classes) == 1:
            return [{self.classes[0]: 1.0} for _ in texts]
        return [{c: float(p) for c, p in zip(self.classes, row, strict=True)} for row in probabilities]

    def predict_proba(self, text: str, language: str) -> dict[str, float]:
        """Probability of each class ("negative", "neutral", "positive": whichever it was trained on)."""
        return self.predict_many([text], [language])[0]

    def predict(self, text: str, language: str) -> tuple[str, float]:
        """The most likely class and its probability."""
        proba = self.predict_proba(text, language)
        best = max(proba, key=lambda c: proba[c])
        return best, proba[best]

    # Explaining -------------------------------------------------------------------------------------------------

    def direction(self) -> dict[int, float]:
        """Each word feature's pull towards happy (positive weight) or unhappy (negative weight)."""
        rows = dict(zip(self.classes, self.weights, strict=True))
        happy, unhappy = rows.get("positive", {}), rows.get("negative", {})
        pull: dict[int, float] = {}
        for index in set(happy) | set(unhappy):
            if index < self.n_features:  # words and phrases only: character n-grams do not read as terms
                pull[index] = happy.get(index, 0.0) - unhappy.get(index, 0.0)
        return pull

    def top_terms(self, language: str, n: int = 15) -> dict[str, list[tuple[str, float]]]:
        """The words and phrases seen in this language's training texts that weigh most towards "unhappy"
        (negative) and "happy" (positive), strongest first."""
        terms = self.explained.get(language, {})
        pull = self.direction()
        ranked = sorted(((pull.get(i, 0.0), term) for i, term in terms.items()), reverse=True)
        happy = [(t, round(w, 4)) for w, t in ranked if w > 0][:n]
        unhappy = [(t, round(w, 4)) for w, t in reversed(ranked) if w < 0][:n]
        return {"unhappy": unhappy, "happy": happy}

    # Storing ----------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything the model is, as JSON-ready values (no pickle)."""
        return {
            "format": FORMAT,
            "version": self.version,
            "trained_at": self.trained_at,
            "n": self.n,
            "languages": dict(self.languages),
            "vectorizer": {
                "n_features": self.n_features,
                "word_ngrams": list(WORD_NGRAMS),
                "char_ngrams": list(CHAR_NGRAMS),
                "alternate_sign": False,
                "norm": "l2",
                "language_token": _language_token("{language}"),
            },
            "classes": list(self.classes),
            "intercepts": [float(b) for b in self.intercepts],
            "coefficients": [sorted([int(i), round(float(w), 6)] for i, w in row.items()) for row in self.weights],
            "explained": {lang: sorted([int(i), t] for i, t in got.items()) for lang, got in self.explained.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnedModel:
        """The model `to_dict` described; ValueError when the data is of another format."""
        if data.get("format") != FORMAT:
            raise ValueError(f"stored model format {data.get('format')!r}, this version reads {FORMAT}")
        vectorizer = data["vectorizer"]
        if tuple(vectorizer["word_ngrams"]) != WORD_NGRAMS or tuple(vectorizer["char_ngrams"]) != CHAR_NGRAMS:
            raise ValueError("stored model hashes other n-grams than this version")
        return cls(
            classes=list(data["classes"]),
            weights=[{int(i): float(w) for i, w in row} for row in data["coefficients"]],
            intercepts=[float(b) for b in data["intercepts"]],
            n_features=int(vectorizer["n_features"]),
            n=int(data["n"]),
            trained_at=str(data["trained_at"]),
            version=int(data.get("version") or 0),
            languages={k: int(v) for k, v in data.get("languages", {}).items()},
            explained={lang: {int(i): str(t) for i, t in pairs} for lang, pairs in data.get("explained", {}).items()},
        )


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """Log-loss SGD's probabilities: one-vs-rest sigmoids, normalised (two mirrored rows give the plain sigmoid)."""
    scores = np.clip(scores, -30, 30)
    each = 1.0 / (1.0 + np.exp(-scores))
    total = each.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return each / total


def train(examples: Sequence[Example], *, now: datetime | None = None, seed: int = 0) -> LearnedModel:
    """Learn a classifier from labelled texts (labels as given: usually negative, neutral and positive)."""
    examples = [e for e in examples if e.text.strip() and e.label]
    labels = sorted({e.label for e in examples})
    if not labels:
        raise ValueError("no labelled texts to learn from")
    languages = Counter(e.language for e in examples)
    if len(labels) == 1:
        model = LearnedModel(labels, [{}], [0.0], n=len(examples), languages=dict(languages))
    else:
        words, chars = _vectorizers(N_FEATURES)
        texts = [e.text for e in examples]
        tagged = [f"{_language_token(e.language)} {e.text}" for e in examples]
        matrix = sparse.hstack([words.transform(tagged), chars.transform(texts)], format="csr")
        classifier = SGDClassifier(
            loss="log_loss",
            alpha=ALPHA,
            max_iter=EPOCHS,
            tol=None,
            class_weight="balanced",
            random_state=seed,
        )
        classifier.fit(matrix, [e.label for e in examples])
        coefficients, intercepts = classifier.coef_, classifier.intercept_
        if len(labels) == 2:  # one row, for the second class: give the first class its mirror image
            coefficients = np.vstack([-coefficients, coefficients])
            intercepts = np.array([-intercepts[0], intercepts[0]])
        model = LearnedModel(
            [str(c) for c in classifier.classes_],
            [_strongest(row) for row in coefficients],
            [float(b) for b in intercepts],
            n=len(examples),
            languages=dict(languages),
        )
        model.explained = _explain(model, examples)
    model.trained_at = (now or datetime.now(UTC)).isoformat()
    return model


def _strongest(row: np.ndarray) -> dict[int, float]:
    nonzero = np.flatnonzero(row)
    if len(nonzero) > KEEP_WEIGHTS:
        nonzero = nonzero[np.argsort(-np.abs(row[nonzero]))[:KEEP_WEIGHTS]]
    return {int(i): float(row[i]) for i in nonzero}


def _explain(model: LearnedModel, examples: Sequence[Example]) -> dict[str, dict[int, str]]:
    """For the word features that pull hardest either way, the term that most often produced each one, per language
    (a hashed index has no name of its own)."""
    pull = model.direction()
    if not pull:
        return {}
    words = _vectorizers(model.n_features)[0].build_analyzer()
    counts: dict[str, Counter[str]] = {}
    for e in examples[:: max(1, len(examples) // EXPLAIN_FROM)]:  # frequent terms show in any few thousand texts
        counts.setdefault(e.language, Counter()).update(words(e.text))
    hasher = FeatureHasher(n_features=model.n_features, input_type="string", alternate_sign=False)
    explained: dict[str, dict[int, str]] = {}
    for language, seen in counts.items():
        terms = [t for t, _ in seen.most_common()]  # most frequent first: the first term to reach an index names it
        if not terms:
            continue
        indices = hasher.transform([[t] for t in terms]).indices
        named: dict[int, str] = {}
        for index, term in zip(indices.tolist(), terms, strict=True):
            if index in pull and index not in named:
                named[index] = term
        ranked = sorted(named, key=lambda i: pull[i])
        keep = ranked[:EXPLAINED_TERMS] + [i for i in ranked[-EXPLAINED_TERMS:] if pull[i] > 0]
        explained[language] = {i: named[i] for i in keep if pull[i] != 0}
    return explained


def evaluate(model_or_train: LearnedModel | Sequence[Example], test: Sequence[Example]) -> float:
    """Balanced accuracy on `test` of a model, or of one trained on the given examples."""
    model = model_or_train if isinstance(model_or_train, LearnedModel) else train(model_or_train)
    if not test:
        return math.nan
    predictions = model.predict_many([e.text for e in test], [e.language for e in test])
    return balanced_accuracy([e.label for e in test], [max(p, key=lambda c: p[c]) for p in predictions])


def balanced_accuracy(truth: Sequence[str], guessed: Sequence[str]) -> float:
    """The mean of the share guessed right in each true class (a class guessed but never true counts nothing)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return float(balanced_accuracy_score(list(truth), list(guessed)))


def polarity_of(proba: dict[str, float]) -> float:
    """A model's reading as a polarity (-1..1), like the lexicon's: P(positive) − P(negative)."""
    return round(proba.get("positive", 0.0) - proba.get("negative", 0.0), 4)


def with_model(
    found: Analysis, model: LearnedModel, text: str, score: float | None, clauses: Clauses | None = None
) -> Analysis:
    """The lexicon's analysis with the model's reading of the text in its place: the label (weighed with the
    normalised `score` as the lexicon's is), the "text contradicts the score" flag, each sentence's polarity, and,
    from the model's reading of each clause (`clauses`), each aspect's polarity. "Mixed" stays the lexicon's call
    (a rule for it over the model's clause readings would need thresholds fitted on labelled data we measure with);
    topics stay the lexicon's. Unchanged for a language the model hardly saw."""
    text = text.strip()
    if not text or model.languages.get(found.language, 0) < MIN_LANGUAGE_EXAMPLES:
        return found
    clauses = clauses or Clauses()
    sentences = [s.text for s in found.sentences]
    batch = [text, *sentences, *clauses.texts]
    readings = model.predict_many(batch, [found.language] * len(batch))
    whole = readings[0]
    best = max(whole, key=lambda c: whole[c])
    polarity = polarity_of(whole)
    of_clause = [polarity_of(r) for r in readings[1 + len(sentences) :]]
    mixed = found.label == "mixed"
    if score is None:
        label, label_source, flagged = ("mixed" if mixed else best), "text", False
    else:
        verdict = combine(polarity, mixed, score)
        label, label_source, flagged = verdict.label, verdict.source, verdict.flagged
    aspects = tuple(
        replace(a, polarity=of_clause[i]) if i < len(of_clause) else a
        for a, i in zip(found.aspects, clauses.of_aspect or [len(of_clause)] * len(found.aspects), strict=True)
    )
    return replace(
        found,
        label=label,
        label_source=label_source,
        flagged=flagged,
        polarity=polarity,
        sentences=tuple(
            replace(s, polarity=polarity_of(p))
            for s, p in zip(found.sentences, readings[1 : 1 + len(sentences)], strict=True)
        ),
        aspects=aspects,
        source="model",
        confidence=round(whole[best], 4),
    )
