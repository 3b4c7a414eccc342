"""What the editor starts from when a template has no owner's wording yet: the default wording, translated, written
with the template variables. Pure. (Without an owner's wording, customers get the full default templates.)"""

from __future__ import annotations

from collections.abc import Callable

from afterglow.i18n import translate

P = '<p style="font-size:16px;line-height:1.5;">'
MUTED = '<p style="font-size:14px;line-height:1.5;color:#6b6f76;">'


def _translator(language: str) -> Callable[..., str]:
    def t(message: str, **values: str) -> str:
        return translate(language, message) % values if values else translate(language, message)

    return t


def _hello(language: str) -> str:
    t = _translator(language)
    return (
        f"{{% if customer_name %}}{t('Hi %(name)s,', name='{{ customer_name }}')}{{% else %}}{t('Hello,')}{{% endif %}}"
    )


def _email(language: str, reminder: bool) -> dict[str, str]:
    t = _translator(language)
    hello = _hello(language)
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


def _rejection(language: str) -> dict[str, str]:
    t = _translator(language)
    thanks = t(
        "Thank you for reviewing %(product)s. We could not publish your review as it is.", product="{{ product_name }}"
    )
    text = (
        f"{_hello(language)}\n\n{thanks}\n\n"
        f"{{% if review_title %}}{t('Your review:')} {{{{ review_title }}}}\n\n{{% endif %}}"
        f"{t('The reason:')}\n{{{{ reason }}}}\n\n"
        f"{{% if edit_link %}}{t('You can change your review, and we will check it again:')}\n{{{{ edit_link }}}}\n\n"
        "{% endif %}--\n{{ shop_name }}\n"
    )
    html = "\n".join(
        [
            '<p style="font-size:14px;color:#6b6f76;">{{ shop_name }}</p>',
            f'<h1 style="font-size:22px;">{_hello(language)}</h1>',
            f"{P}{thanks}</p>",
            f"{{% if review_title %}}{MUTED}{t('Your review:')} <strong>{{{{ review_title }}}}</strong></p>"
            "{% endif %}",
            f'<p style="font-size:16px;margin:16px 0 4px;font-weight:bold;">{t("The reason:")}</p>',
            '<p style="font-size:16px;line-height:1.5;margin:0;padding:12px 16px;background:#f6f4f1;'
            'border-radius:8px;white-space:pre-wrap;">{{ reason }}</p>',
            f'{{% if edit_link %}}<p style="margin:24px 0;"><a href="{{{{ edit_link }}}}" style="color:#2d5bd7;'
            f'font-size:16px;">{t("Change your review")} →</a></p>',
            f"{MUTED}{t('We will check it again once you have changed it.')}</p>{{% endif %}}",
        ]
    )
    subject = t("Your review of %(product)s was not published", product="{{ product_name }}")
    return {"subject": subject, "text": text, "html": html}


def _reply(language: str) -> dict[str, str]:
    t = _translator(language)
    about = "{% if is_review and product_name %}"
    subject = (
        f"{about}{t('Re: your review of %(product)s', product='{{ product_name }}')}"
        f"{{% else %}}{t('Re: your feedback to %(shop)s', shop='{{ shop_name }}')}{{% endif %}}"
    )
    quote_intro = (
        f"{about}{t('Your review of %(product)s:', product='{{ product_name }}')}"
        f"{{% else %}}{t('What you wrote:')}{{% endif %}}"
    )
    answer = (
        f"{{% if answer_by_email %}}{t('Reply to this email, or answer us on this page:')}"
        f"{{% else %}}{t('You can answer us on this page:')}{{% endif %}}"
    )
    text = (
        f"{{% if not greeted %}}{_hello(language)}\n\n{{% endif %}}{{{{ reply_text }}}}\n\n"
        "{% if staff_name %}{{ staff_name }}\n{% endif %}{{ shop_name }}\n\n"
        f"{{% if quote %}}{quote_intro}\n\n"
        "{% for line in quote.splitlines() %}>{% if line %} {{ line }}{% endif %}\n{% endfor %}\n{% endif %}"
        f"{answer}\n{{{{ conversation_link }}}}\n"
    )
    html = "\n".join(
        [
            f"{{% if not greeted %}}{P}{_hello(language)}</p>{{% endif %}}",
            "{{ reply_text }}",
            f"{P}{{% if staff_name %}}{{{{ staff_name }}}}<br>{{% endif %}}{{{{ shop_name }}}}</p>",
            f'{{% if quote %}}<p style="margin:24px 0 4px;font-size:14px;color:#6b6f76;">{quote_intro}</p>',
            '<blockquote style="margin:0;padding:8px 14px;border-left:3px solid #d0d4da;color:#4b5058;">'
            "{{ quote }}</blockquote>{% endif %}",
            f'<p style="margin:24px 0 8px;"><a href="{{{{ conversation_link }}}}" style="color:#2d5bd7;'
            f'font-size:16px;">{t("Answer us")} →</a></p>',
            f"{{% if answer_by_email %}}{MUTED}{t('Or simply reply to this email.')}</p>{{% endif %}}",
        ]
    )
    return {"subject": subject, "text": text, "html": html}


def starter(key: str, language: str) -> dict[str, str]:
    if key == "survey_page":
        return _page(language)
    if key == "review_rejected":
        return _rejection(language)
    if key == "reply":
        return _reply(language)
    return _email(language, reminder=key == "reminder")
