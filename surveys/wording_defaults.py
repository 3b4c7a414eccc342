"""What the editor starts from when a template has no owner's wording yet: the default wording, translated, written
with the template variables. Pure. (Without an owner's wording, customers get the full default templates.)"""

from __future__ import annotations

from afterglow.i18n import translate


def _email(language: str, reminder: bool) -> dict[str, str]:
    def t(message: str, **values: str) -> str:
        return translate(language, message) % values if values else translate(language, message)

    hello = (
        f"{{% if customer_name %}}{t('Hi %(name)s,', name='{{ customer_name }}')}{{% else %}}{t('Hello,')}{{% endif %}}"
    )
    subject_msg = "Reminder: how was your order %(number)s?" if reminder else "How was your order %(number)s?"
    nudge = t("A few days ago we asked for your opinion. If you have a minute, we would still love to hear it.")
    thanks = t(
        "Thank you for your order %(number)s from %(shop)s:", number="{{ order_number }}", shop="{{ shop_name }}"
    )
    unsubscribe = t("Don't want these emails? Unsubscribe:")
    text = "\n\n".join(
        [
            hello,
            *([nudge] if reminder else []),
            thanks + "\n{% for product in products %}  - {{ product.quantity }} x {{ product.name }}\n{% endfor %}",
            f"{t('Answer the short survey:')} {{{{ survey_link }}}}",
            f"--\n{{{{ shop_name }}}}\n{unsubscribe} {{{{ unsubscribe_link }}}}\n",
        ]
    )
    html = "\n".join(
        [
            '<p style="font-size:14px;color:#6b6f76;">{{ shop_name }}</p>',
            f'<h1 style="font-size:22px;">{hello}</h1>',
            *([f'<p style="font-size:16px;line-height:1.5;">{nudge}</p>'] if reminder else []),
            f'<p style="font-size:16px;line-height:1.5;">{thanks}</p>',
            "<ul>{% for product in products %}<li>{{ product.quantity }} × {{ product.name }}</li>{% endfor %}</ul>",
            f'<p><a href="{{{{ survey_link }}}}" style="color:#2d5bd7;font-size:16px;">'
            f"{t('Answer the short survey')} →</a></p>",
            f'<p style="font-size:12px;color:#6b6f76;">{{{{ shop_name }}}} · '
            f'<a href="{{{{ unsubscribe_link }}}}" style="color:#6b6f76;">{t("Unsubscribe")}</a></p>',
        ]
    )
    return {"subject": t(subject_msg, number="{{ order_number }}"), "text": text, "html": html}


def _page(language: str) -> dict[str, str]:
    return {
        "intro": translate(language, "Thank you for your order %(number)s. How did we do?")
        % {"number": "{{ order_number }}"},
        "csat_question": translate(language, "How satisfied are you with your order?"),
        "nps_question": translate(language, "How likely are you to recommend us to a friend or colleague?"),
        "thanks": translate(
            language, "Your answers have been saved. They go straight to the people who can act on them."
        ),
    }


def starter(key: str, language: str) -> dict[str, str]:
    if key == "survey_page":
        return _page(language)
    return _email(language, reminder=key == "reminder")
