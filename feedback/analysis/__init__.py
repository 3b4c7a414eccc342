"""Tag free text: language, sentiment per sentence, a label that weighs the customer's score, and topics.

Pure Python over the lexicons TextBlob ships (and textblob-de's German lexicon file); nothing is downloaded.
"""

from feedback.analysis.analyser import analyse
from feedback.analysis.model import Analysis, Aspect, SentenceSentiment, as_json
from feedback.analysis.topics import TOPIC_KEYWORDS

#: Bump when the analyser, its lexicons or the topic keywords change: feedback tagged by an older version is
#: re-tagged by `afterglow reanalyse` and by the next change to its text.
ANALYSER_VERSION = "2026-12-05.1"

__all__ = ["ANALYSER_VERSION", "TOPIC_KEYWORDS", "Analysis", "Aspect", "SentenceSentiment", "analyse", "as_json"]
