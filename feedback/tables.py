"""What Afterglow understood of a free-text answer."""

from piccolo.columns import Float, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Team
from surveys.tables import Response


class CommentAnalysis(Table):
    response = ForeignKey(references=Response, unique=True)
    language = Varchar(length=8, default="")
    polarity = Float(null=True, default=None)
    subjectivity = Float(null=True, default=None)
    label = Varchar(length=16, default="")
    analysed_at = Timestamptz(default=TimestamptzNow())


class InboxItem(Table):
    """A response waiting for a team. No team means the triage inbox, which managers and admins see."""

    response = ForeignKey(references=Response, unique=True)
    team = ForeignKey(references=Team, null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
