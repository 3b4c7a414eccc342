"""The demo shop's year: how many orders each month brings, when the kettle's lid went wrong and was fixed, when
the shop changed courier, how fast the team replies, and what customers wrote about it, in English and German.

Dates are counted back from the day the demo is seeded, so seeded in December the kettle's trouble starts in
March, its fix ships in May and the new courier takes over in July."""

from __future__ import annotations

from datetime import date, datetime, timedelta

#: Orders per month, relative: a quiet summer and the weeks before Christmas.
SEASON = {1: 0.8, 2: 0.8, 3: 1.0, 4: 1.0, 5: 1.0, 6: 0.85, 7: 0.7, 8: 0.55, 9: 0.9, 10: 1.0, 11: 1.5, 12: 2.0}
#: The product whose lid seal failed, and the story's turning points in months before the seeding day.
DEFECT_SKU = "KETTLE-1"
DEFECT_FROM_MONTHS, DEFECT_FIXED_MONTHS, COURIER_SWITCH_MONTHS = 9, 7, 5


def months_back(today: date, months: int) -> date:
    """The first day of the month `months` before today's month."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


class Story:
    """Which phase of the year a moment belongs to."""

    def __init__(self, now: datetime) -> None:
        today = now.date()
        self.defect_from = months_back(today, DEFECT_FROM_MONTHS)
        self.defect_fixed = months_back(today, DEFECT_FIXED_MONTHS)
        self.courier_switch = months_back(today, COURIER_SWITCH_MONTHS)
        self.start = now - timedelta(days=365)
        self.now = now

    def defective(self, at: datetime) -> bool:
        return self.defect_from <= at.date() < self.defect_fixed

    def new_courier(self, at: datetime) -> bool:
        return at.date() >= self.courier_switch

    def delivery_days(self, at: datetime) -> tuple[int, int]:
        """How long the courier took then, from fastest to slowest."""
        return (1, 3) if self.new_courier(at) else (3, 8)

    def reply_hours(self, at: datetime) -> float:
        """Hours until the team's first reply: two and a half days a year ago, a few hours now."""
        age = (self.now - at).days / 365
        return 4 + 56 * max(0.0, min(1.0, age))


#: (stars, title, text) of reviews of the kettle while its lid seal failed, and once the fixed batch shipped.
KETTLE_DEFECT = {
    "en": [
        (1, "Lid leaks", "The lid seal leaks boiling water after a week. Poor quality, product is faulty."),
        (2, "Defective lid", "Nice design but the lid hinge broke within days. Bad quality material."),
        (1, "Unsafe", "Steam escapes around the lid, the seal is defective. Terrible build quality."),
        (2, "Disappointed", "The lid does not close anymore, the product feels cheap and badly made."),
    ],
    "de": [
        (1, "Deckel undicht", "Der Deckel ist undicht, die Dichtung war nach einer Woche kaputt. Schlechte Qualität."),
        (2, "Mangelhaft", "Das Scharnier am Deckel ist gebrochen. Leider mangelhafte Verarbeitung."),
    ],
}
KETTLE_FIXED = {
    "en": [
        (5, "Fixed and lovely", "The new lid closes tightly, excellent quality and it boils fast."),
        (5, "Great kettle", "Solid build, the lid seal is perfect now. Love the stone finish."),
        (4, "Very good", "Good quality product, quiet and quick. The lid fits well."),
    ],
    "de": [
        (5, "Sehr gut", "Der neue Deckel schließt dicht, tolle Qualität und schnell heiß."),
        (4, "Gut verarbeitet", "Gute Verarbeitung, der Deckel sitzt fest. Gerne wieder."),
    ],
}
#: What customers wrote in the survey about the old courier (late, dented parcels) and the new one.
OLD_COURIER = {
    "en": [
        "Delivery was late again and the box arrived dented.",
        "The courier lost my parcel for four days, terrible delivery.",
        "Shipping took over a week, very slow and the parcel was damaged.",
        "Late delivery, the package arrived crushed.",
    ],
    "de": [
        "Die Lieferung kam schon wieder zu spät und das Paket war eingedrückt.",
        "Der Kurier war sehr unzuverlässig, schlechte Zustellung.",
    ],
}
NEW_COURIER = {
    "en": [
        "Fast delivery, the courier was friendly and on time.",
        "Shipping was quick and the parcel arrived in perfect condition.",
        "Delivered the next day, great courier service.",
        "Excellent delivery, arrived early and well protected.",
    ],
    "de": [
        "Schnelle Lieferung, der Kurier war sehr freundlich.",
        "Das Paket ist pünktlich und unbeschädigt angekommen, super Zustellung.",
    ],
}
#: Survey comments about the kettle while it leaked.
KETTLE_COMMENTS = {
    "en": ["The kettle lid leaks, poor quality this time.", "My kettle's lid broke, the product is defective."],
    "de": ["Der Wasserkocher ist undicht, schlechte Qualität.", "Der Deckel ist kaputt, mangelhaftes Produkt."],
}
#: Anything else customers wrote in the survey, per language.
COMMENTS = {
    "en": [
        "Fast delivery and lovely packaging.",
        "The lamp arrived with a cracked shade, very disappointing.",
        "Great quality, but the chair was hard to assemble.",
        "Support was quick and friendly.",
        "The mugs are even prettier than in the photos.",
        "Coffee tastes wonderful, I will order a bigger bag next time.",
        "Checkout was easy, but I would like to pay by invoice.",
        "The tee shrank a little after the first wash.",
    ],
    "de": [
        "Alles bestens, gerne wieder.",
        "Die Tasse kam leider zerbrochen an.",
        "Der Stuhl ist wunderschön und stabil.",
        "Die Lampe ist toll, aber die Anleitung war unverständlich.",
        "Der Kaffee schmeckt hervorragend.",
    ],
    "hu": ["Gyors szállítás, nagyon elégedett vagyok.", "A csomagolás sérült volt."],
}

#: (stars, title, text) per language; one breaks a content rule so the moderation queue has work.
REVIEWS = {
    "en": [
        (5, "Exactly as pictured", "Solid, well made and it arrived quickly."),
        (4, "Good, one small flaw", "Love it, though the finish has a small scratch."),
        (2, "Not great", "Broke after two weeks of daily use."),
        (5, "", "Would buy again."),
        (1, "Cheaper elsewhere", "Same thing for half the price at www.example.com"),
        (5, "Beautiful", "Looks even better in our living room than online."),
        (4, "Nice", "Does the job well, a little pricey."),
    ],
    "de": [
        (5, "Sehr gut", "Top Qualität, gerne wieder."),
        (3, "Geht so", "Farbe anders als auf dem Foto."),
        (5, "Wunderschön", "Sieht toll aus und ist gut verarbeitet."),
        (4, "Zufrieden", "Macht, was es soll. Etwas teuer."),
    ],
    "hu": [(5, "Kiváló", "Nagyon jó minőség, ajánlom."), (2, "Csalódás", "Gyorsan tönkrement.")],
}
#: What the team writes back.
REPLIES = [
    "Thank you for telling us. I am sorry it went wrong: I have looked into it and will make it right.",
    "Thanks for your feedback. We have passed this on and a replacement is on its way to you.",
    "Sorry about this experience. We have changed how we ship, and I have refunded your delivery costs.",
    "Thank you for taking the time. I have checked your order and will call you today to sort it out.",
]
