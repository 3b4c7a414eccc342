"""A shop's own topics and keywords, from the JSON file AFTERGLOW_TOPICS_FILE names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedback.analysis.topics import (
    DEFAULT_TOPIC_KEYWORDS,
    TopicsFileInvalid,
    digest,
    read_topics_file,
    topic_for,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "topics.json"


def test_the_shipped_example_is_the_built_in_list() -> None:
    assert read_topics_file(EXAMPLE) == DEFAULT_TOPIC_KEYWORDS


def test_a_shops_own_topics_tag_phrases_by_their_keywords(tmp_path: Path) -> None:
    path = tmp_path / "topics.json"
    path.write_text(json.dumps({"sustainability": {"en": ["plastic", "recycl"], "de": ["plastik"]}}))
    keywords = read_topics_file(path)
    assert topic_for("too much plastic wrapping", "en", keywords) == "sustainability"
    assert topic_for("recyclable box", "en", keywords) == "sustainability"
    assert topic_for("viel Plastikmüll", "de", keywords) == "sustainability"
    assert topic_for("the courier was late", "en", keywords) is None


def test_changing_a_keyword_changes_the_digest_that_marks_tags_stale(tmp_path: Path) -> None:
    path = tmp_path / "topics.json"
    path.write_text(json.dumps({"delivery": {"en": ["courier"]}}))
    before = digest(read_topics_file(path))
    path.write_text(json.dumps({"delivery": {"en": ["courier", "parcel"]}}))
    assert digest(read_topics_file(path)) != before
    assert digest(DEFAULT_TOPIC_KEYWORDS) == digest(read_topics_file(EXAMPLE))


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not json", "cannot be read as JSON"),
        ("[]", "expected an object of topics"),
        ('{"delivery": ["courier"]}', "needs an object of languages"),
        ('{"delivery": {"en": "courier"}}', "needs a list of keywords"),
        ('{"delivery": {"en": ["courier", ""]}}', "needs a list of keywords"),
        ('{"": {"en": ["x"]}}', "topic names are 1 to 64 characters"),
    ],
)
def test_a_malformed_file_is_refused_with_the_reason(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "topics.json"
    path.write_text(content)
    with pytest.raises(TopicsFileInvalid, match=says):
        read_topics_file(path)
