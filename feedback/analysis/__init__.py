"""Tag free text: language, sentiment per sentence, a label that weighs the customer's score, and topics.

Pure Python over the lexicons TextBlob ships (and textblob-de's German lexicon file); nothing is downloaded.
"""

from feedback.analysis.analyser import analyse
from feedback.analysis.model import Analysis, Aspect, SentenceSentiment, as_json
from feedback.analysis.topics import TOPIC_KEYWORDS

__all__ = ["TOPIC_KEYWORDS", "Analysis", "Aspect", "SentenceSentiment", "analyse", "as_json"]
