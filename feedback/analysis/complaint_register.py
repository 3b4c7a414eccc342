"""The complaint register: events and states that are complaints without any opinion word ("on hold for an hour",
"never arrived", "Broke after two weeks"), each with the topic it points to; and the questions that demand action
("where is my order?").

Edit here to teach the analyser a complaint; bump `ANALYSER_VERSION` (feedback.analysis). Patterns are matched on
the lower-case tokens of one sentence, where punctuation is a token of its own and contractions are split the Penn
way ("hasn't" → "has n't"). In a pattern:
- tokens are separated by spaces; `a|b` is either word;
- `stem*` matches a word that starts with the stem ("cancel*" ↔ "cancelled", "cancellation"), `*tail` one that
  ends with it (German compounds: "*schaden" ↔ "Transportschaden");
- `~` stands for up to four other words of the same clause ("charged ~ twice" ↔ "charged me twice").
A negation shortly before a match ("not damaged", "nothing was missing", "nicht beschädigt") cancels it.
The first pattern that matches claims its words: list the specific before the general ("refund ~ not received"
before "not received"). Topics are the default topic names (feedback.analysis.topics); a shop whose topics file
lacks one still gets the complaint, without that topic.
"""

from __future__ import annotations

DELIVERY = "delivery"
PACKAGING = "packaging"
QUALITY = "product quality"
SIZE = "size/fit"
SUPPORT = "support"
CHECKOUT = "website/checkout"
REFUNDS = "returns/refunds"

# Words that name a box or parcel (for "damaged box" → packaging rather than the product).
_BOX_EN = "box*|packag*|parcel*|carton*|packing|wrapping"
_BOX_DE = "karton*|verpackung*|paket*|schachtel*|päckchen"
_REFUND_EN = "refund*|money|reimburs*|credit"
_REFUND_DE = "rückerstattung*|erstattung*|gutschrift*|geld"
_REPLY_EN = "answer*|respon*|repl*|call*|email*|e-mail*|message*|feedback"
_PART_EN = "part*|piece*|screw*|bolt*|component*|accessor*|cable*|charger*|instruction*|manual*"

COMPLAINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        # money: refunds, double charges, declined payments
        (f"still no {_REFUND_EN}", REFUNDS),
        (f"no {_REFUND_EN}", REFUNDS),
        (f"waiting ~ {_REFUND_EN}", REFUNDS),
        (f"{_REFUND_EN} ~ not|n't|never|yet", REFUNDS),
        ("not|n't|never ~ refunded|reimbursed|credited", REFUNDS),
        (f"not|n't|never ~ received|got|get|seen ~ {_REFUND_EN}", REFUNDS),
        (f"refus*|reject*|denied|declin* ~ {_REFUND_EN}|return*|exchange*|warranty|claim*|guarantee", REFUNDS),
        ("charged|billed|debited|taken|charge ~ twice|double|again|2x", CHECKOUT),
        ("charged|billed|debited|taken ~ two|three|multiple|several times", CHECKOUT),
        ("double charged|billed|charge|charging", CHECKOUT),
        ("double-charged|overcharged", CHECKOUT),
        ("card|payment ~ declined|rejected|failed", CHECKOUT),
        # support: waiting on the phone, no answer
        ("on hold", SUPPORT),
        ("hold music", SUPPORT),
        (f"still waiting ~ {_REPLY_EN}", SUPPORT),
        (f"waiting for ~ {_REPLY_EN}", SUPPORT),
        (f"still no|not ~ {_REPLY_EN}", SUPPORT),
        (f"no {_REPLY_EN}", SUPPORT),
        ("nobody|noone|no-one ~ answer*|respond*|repl*|got|get|call*|picks|picked|help*|cares", SUPPORT),
        ("no one ~ answer*|respond*|repl*|got|get|call*|picks|picked|help*|cares", SUPPORT),
        ("never|not|n't ~ answered|responded|replied|answer|respond|reply", SUPPORT),
        ("never|not|n't ~ heard|hear|called|call|rang|ring ~ back", SUPPORT),
        ("never|not|n't ~ got|get|gotten ~ back", SUPPORT),
        ("unanswered|ignored|ignoring", SUPPORT),
        ("waited ~ hour*|minute*", SUPPORT),
        ("you|they|was|were|been|got|had|has|have ~ cancel*", SUPPORT),
        ("refused|rejected|denied", SUPPORT),
        # delivery: late, lost, missing, not here
        ("still waiting", DELIVERY),
        ("still not|n't ~ arrived|here|received|delivered|shipped|come", DELIVERY),
        ("never arriv*|came|come|showed|turned|received|delivered|shipped", DELIVERY),
        ("not|n't ~ arrived|arrive|received|receive|delivered|shipped|dispatched|come|came", DELIVERY),
        ("not here yet", DELIVERY),
        ("late|overdue", DELIVERY),
        ("later than", DELIVERY),
        ("delay*", DELIVERY),
        ("lost in ~ post|mail|transit", DELIVERY),
        ("parcel*|package*|order*|shipment*|delivery ~ lost|missing", DELIVERY),
        ("waited ~ week*|day*|month*|ages|forever", DELIVERY),
        (f"{_PART_EN} ~ missing", QUALITY),
        (f"missing {_PART_EN}", QUALITY),
        ("missing", DELIVERY),
        # the wrong thing sent
        ("wrong size*|fit|length", SIZE),
        ("wrong item*|product*|colou*|color*|order*|model*|one|thing*|article*|parcel*|package*|address*", DELIVERY),
        ("sent ~ wrong", DELIVERY),
        # damage in transit: the packaging
        (f"{_BOX_EN} ~ damaged|crushed|dented|torn|ripped|wet|soaked|smashed|open|opened", PACKAGING),
        (f"damaged|crushed|dented|torn|ripped|soaked|smashed {_BOX_EN}", PACKAGING),
        ("arrived|came|delivered ~ broken|damaged|cracked|smashed|dented|crushed|shattered", PACKAGING),
        ("damaged in ~ transit|shipping|delivery|post", PACKAGING),
        ("dented|crushed|squashed|smashed", PACKAGING),
        # the product itself
        ("stopped|stop|stops|quit ~ working|work|charging|turning|functioning|responding", QUALITY),
        ("not|n't ~ work|works|working|worked|charge|charging|function|functioning", QUALITY),
        ("not|n't ~ turn|switch|power on", QUALITY),
        ("broke|broken|breaks|break|snapped|cracked|shattered", QUALITY),
        ("fell|falls|falling|fall|came|coming|comes apart|off", QUALITY),
        ("died|dies|dead ~ after|within|already", QUALITY),
        ("damaged|damage", QUALITY),
        ("defective|faulty|malfunction*", QUALITY),
    ),
    "de": (
        # Geld: Erstattung, doppelte Abbuchung
        (f"noch keine|kein {_REFUND_DE}", REFUNDS),
        (f"keine|kein {_REFUND_DE}", REFUNDS),
        (f"warte* ~ {_REFUND_DE}", REFUNDS),
        (f"{_REFUND_DE} ~ nicht|nie|noch|immer ~ erhalten|bekommen|zurück|überwiesen|erstattet|angekommen", REFUNDS),
        ("rückerstattung*|erstattung*|gutschrift* ~ nicht|nie", REFUNDS),
        ("nicht|nie ~ erstattet|zurückerstattet|gutgeschrieben", REFUNDS),
        (
            "rücksendung*|rückgabe*|erstattung*|reklamation*|garantie*|umtausch*|retoure* ~ abgelehnt|verweigert",
            REFUNDS,
        ),
        ("doppelt|zweimal|2x|zweifach|mehrfach ~ abgebucht|belastet|berechnet|bezahlt|abgezogen|kassiert", CHECKOUT),
        ("zahlung|karte|kreditkarte ~ abgelehnt|fehlgeschlagen", CHECKOUT),
        # Kundenservice: Warteschleife, keine Antwort
        ("warteschleife*|*warteschleife*", SUPPORT),
        ("keine|nie ~ antwort*|rückmeldung*|reaktion*|rückruf*|hilfe", SUPPORT),
        ("warte* ~ antwort*|rückmeldung*|rückruf*|reaktion*", SUPPORT),
        ("niemand ~ erreichbar|antwortet|meldet|hilft|zurückgerufen|geantwortet|gemeldet|ruft", SUPPORT),
        ("nicht erreichbar", SUPPORT),
        ("nie|nicht ~ zurückgerufen|geantwortet|gemeldet|reagiert", SUPPORT),
        ("antwortet|antworten|reagiert|reagieren|meldet ~ nicht|nie", SUPPORT),
        ("ignoriert*", SUPPORT),
        ("wurde|wurden|worden|haben|hat|einfach ~ storniert*", SUPPORT),
        ("abgelehnt|verweigert", SUPPORT),
        # Lieferung: zu spät, nie angekommen, fehlt
        ("zu spät", DELIVERY),
        ("verspät*|*verspätung*", DELIVERY),
        ("verzöger*|*verzögerung*", DELIVERY),
        ("warte* immer|noch|schon|seit", DELIVERY),
        ("nie|nicht ~ angekommen|da|geliefert|erhalten|zugestellt|eingetroffen|verschickt|versendet", DELIVERY),
        ("paket*|sendung*|bestellung* ~ verloren|verschwunden", DELIVERY),
        (
            "teil*|schraube*|schrauben|zubehör|anleitung*|kabel|ladegerät*|netzteil* ~ fehlt|fehlen|fehlte|fehlten",
            QUALITY,
        ),
        ("fehlt|fehlen|fehlte|fehlten ~ teil*|schraube*|schrauben|zubehör|anleitung*|kabel|ladegerät*", QUALITY),
        ("fehlende|fehlenden|fehlender|fehlendes ~ teil*|schraube*|schrauben|zubehör|anleitung*|kabel", QUALITY),
        ("fehlt|fehlen|fehlte|fehlten|fehlende|fehlenden|fehlender|fehlendes", DELIVERY),
        # falsch geliefert
        ("falsch*|verkehrt* größe*|*größe", SIZE),
        ("falsch*|verkehrt* ~ artikel|produkt*|farbe*|ware|paket*|teil*|modell*|bestellung*|adresse*|sache*", DELIVERY),
        ("falsch geliefert|verschickt|versendet|zugestellt|bekommen|erhalten", DELIVERY),
        # Transportschaden: die Verpackung
        (
            f"{_BOX_DE} ~ beschädigt*|kaputt*|zerdrückt*|eingedrückt*|aufgerissen*|nass|durchnässt|offen|geöffnet",
            PACKAGING,
        ),  # noqa: E501
        (f"beschädigt*|kaputt*|zerdrückt*|eingedrückt*|aufgerissen*|nass* ~ {_BOX_DE}", PACKAGING),
        ("kam|kamen|ist|sind|wurde ~ beschädigt*|kaputt*|zerbroch*|zerdrückt*|verbeult* ~ an|angekommen", PACKAGING),
        ("beschädigt*|kaputt*|zerbroch*|zerdrückt*|verbeult* angekommen|geliefert|zugestellt", PACKAGING),
        ("transportschaden*|*transportschäden|versandschaden*", PACKAGING),
        ("verbeult*|zerdrückt*|eingedrückt*|zerquetscht*", PACKAGING),
        # das Produkt selbst
        ("funktioniert|funktionieren|funktionierte|geht|läuft|lädt ~ nicht mehr", QUALITY),
        ("funktioniert|funktionieren|funktionierte|funktionierten ~ nicht|nie", QUALITY),
        ("kaputt*|zerbroch*|gebrochen|abgebrochen|gerissen|durchgebrannt", QUALITY),
        ("beschädigt*|*schaden|*schäden", QUALITY),
        ("defekt*|fehlerhaft*|mangelhaft*", QUALITY),
        ("löst|lösen|fällt|fallen ~ sich|auseinander|ab", QUALITY),
    ),
}

# Questions that demand action: a question word, then (English) an auxiliary or (German) a verb, and a reference
# to the customer or their order in the same sentence ("where is my order?", "when should I expect a response",
# "wo bleibt meine Bestellung?"). "How long does the battery last?" asks nothing of the shop.
QUESTION_WORDS = {
    "en": ("where", "when", "why", "how long", "what happened", "any update", "any news"),
    "de": ("wo", "wann", "warum", "wieso", "weshalb", "wie lange", "was ist mit", "gibt es neuigkeiten"),
}
QUESTION_AUXILIARIES = {
    "en": frozenset(
        str.split(
            "is are was were 's do does did will would should can could has have had am must n't "
            "isn't aren't wasn't hasn't haven't didn't doesn't don't won't can't"
        )
    ),
}
# After a German question word comes the verb: a pronoun or article there means a subordinate clause ("…, wann
# mein Paket kommt").
GERMAN_NOT_VERBS = frozenset(
    str.split("ich du er sie es wir ihr mein meine meinen meiner meinem der die das den dem des ein eine einen man")
)
PERSONAL = {
    "en": frozenset(str.split("i me my mine we us our you your yours order parcel package refund delivery")),
    "de": frozenset(
        str.split(
            "ich mir mich mein meine meinen meiner meinem wir uns unser unsere sie ihr ihre ihnen bestellung paket "
            "lieferung sendung rückerstattung geld"
        )
    ),
}
# The noun a question asks about names its topic.
QUESTION_TOPICS: dict[str, dict[str, str]] = {
    "en": {
        "order": DELIVERY,
        "parcel": DELIVERY,
        "package": DELIVERY,
        "delivery": DELIVERY,
        "shipment": DELIVERY,
        "item": DELIVERY,
        "tracking": DELIVERY,
        "refund": REFUNDS,
        "money": REFUNDS,
        "return": REFUNDS,
        "response": SUPPORT,
        "reply": SUPPORT,
        "answer": SUPPORT,
        "call": SUPPORT,
        "ticket": SUPPORT,
    },
    "de": {
        "bestellung": DELIVERY,
        "paket": DELIVERY,
        "lieferung": DELIVERY,
        "sendung": DELIVERY,
        "ware": DELIVERY,
        "rückerstattung": REFUNDS,
        "erstattung": REFUNDS,
        "geld": REFUNDS,
        "gutschrift": REFUNDS,
        "antwort": SUPPORT,
        "rückmeldung": SUPPORT,
        "rückruf": SUPPORT,
        "anfrage": SUPPORT,
    },
}
# How negative a complaint or an action-demanding question is, as an opinion word of the lexicons would be.
COMPLAINT_POLARITY = -0.5
QUESTION_POLARITY = -0.4
COMPLAINT_SUBJECTIVITY = 0.5
# How many words before a match a negation may stand and still cancel it.
NEGATION_REACH = 4
# German may negate after the complaint: "es fehlt nichts".
NEGATIONS_AFTER = {"de": frozenset({"nichts"})}
