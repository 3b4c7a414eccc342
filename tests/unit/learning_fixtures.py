"""Scored texts in a shop's own words, varied enough to learn from, for the learned-model tests."""

from __future__ import annotations

import random

from feedback.analysis.learned import Example

# Complaints without opinion words, praise, and plain statements: what the lexicon misses and a model can learn.
UNHAPPY = [
    "the parcel came {n} days late",
    "the lid was missing from the box",
    "I am still waiting for my refund",
    "you charged me twice for the {thing}",
    "the {thing} stopped working after {n} days",
    "I spent an hour on hold",
    "they cancelled my order without telling me",
    "the {thing} arrived dented",
]
HAPPY = [
    "the {thing} is wonderful",
    "fast delivery and a lovely {thing}",
    "works perfectly, thank you",
    "I love the {thing}",
    "great quality, would buy again",
    "the {thing} exceeded my expectations",
]
NEUTRAL = [
    "the {thing} is blue",
    "I ordered the {thing} for my brother",
    "it is a {thing} of average size",
    "the {thing} came in a box",
    "we use the {thing} in the kitchen",
]
THINGS = ["blender", "lamp", "chair", "kettle", "mug", "toaster", "rug", "shelf"]
STARS = {"negative": (1, 2), "neutral": (3, 3), "positive": (4, 5)}


def scored_texts(count: int, seed: int = 7) -> list[tuple[str, int, str]]:
    """`count` (text, stars, label) triples in English."""
    rng = random.Random(seed)
    found = []
    for i in range(count):
        label = ("negative", "positive", "neutral")[i % 3]
        pattern = rng.choice({"negative": UNHAPPY, "positive": HAPPY, "neutral": NEUTRAL}[label])
        text = pattern.format(n=rng.randint(2, 20), thing=rng.choice(THINGS))
        found.append((text[0].upper() + text[1:] + ".", rng.randint(*STARS[label]), label))
    return found


def examples(count: int, seed: int = 7) -> list[Example]:
    return [Example(text, label, "en") for text, _, label in scored_texts(count, seed)]
