# The board's cards (`{% board_cards column %}` in templates/pipeline/_board.html), written in Python.
#
# A board shows up to 140 cards. In the template language each card was ~45 variable lookups, a
# `blocktranslate` with `timesince`, the money filter and a form: four fifths of the board's time
# (a rep's board at 1,000 deals: ~100 of 130 ms of CPU on a slow machine). Here a card is one
# function: every value from the deal is escaped where it is written, the words are translated once
# per column, and the message ids are the template's, so the catalogs did not change.
from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext

from coachcrm.templatetags.crm import money
from pipeline.models import Opportunity

register = template.Library()


@register.simple_tag(takes_context=True)
def board_cards(context, column) -> SafeString:
    """The column's cards: each deal's name, amount, account, owner, badges, refusal and move buttons.

    Reads from the context what `pipeline.views._board_context` put there: `closing` (the won and
    lost stages), `errors` (a refusal by deal id), `board_url`, and the request's `csrf_token`.
    """
    errors = context.get("errors") or {}
    badge = '<span class="badge {}">{}</span>'.format
    words = {
        "coached": badge("text-bg-success", escape(gettext("coached"))),
        "no coach": badge("text-bg-light border", escape(gettext("no coach"))),
        "held back": badge("text-bg-warning", escape(gettext("held back"))),
        True: badge("text-bg-secondary", escape(gettext("won with coach"))),
        False: badge("text-bg-secondary", escape(gettext("won without coach"))),
        "in stage": gettext("in this stage for %(since)s"),
    }
    form = _form(context, column)
    return mark_safe("".join(_card(deal, words, form, errors.get(deal.pk)) for deal in column["deals"]))  # noqa: S308 - every value escaped


def _form(context, column) -> tuple[str, list]:
    """What an open card's form holds: the hidden fields and the move buttons (the same on every card
    of the column), and the closing links as (deal attribute of the url, style, label)."""
    previous, following = column["previous"], column["next"]
    fields = (
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">'.format(
            escape(context.get("csrf_token", "")), escape(context.get("board_url", ""))
        )
    )
    if previous is not None:
        fields += (
            '<button class="btn btn-sm btn-outline-secondary py-0 px-2" type="submit" name="stage"'
            f' value="{previous.pk}">◀ {escape(previous.label)}</button>'
        )
    if following is not None:
        fields += (
            '<button class="btn btn-sm btn-outline-primary py-0 px-2" type="submit" name="stage"'
            f' value="{following.pk}">{escape(following.label)} ▶</button>'
        )
    # Closing asks first, on its own page (a loss with its reason): never one tap.
    closing = context["closing"]
    closings = [
        (f"{key}_url", style, escape(closing[key].label))
        for key, style in (("won", "success"), ("lost", "danger"))
        if closing[key] is not None
    ]
    return fields, closings


def _card(deal: Opportunity, words: dict, form: tuple[str, list], error) -> str:
    """One card's markup; every value from the deal is escaped here."""
    is_open = deal.status == Opportunity.Status.OPEN
    move_url = escape(deal.move_url) if is_open else ""
    html = [
        '<div class="card shadow-sm mb-2 deal-card{}" id="deal-{}" data-testid="deal-{}"{}>'.format(
            " border-warning" if deal.held_back else "",
            deal.pk,
            deal.pk,
            f' draggable="true" data-move-url="{move_url}" data-stage="{deal.stage_id}"' if is_open else "",
        ),
        '<div class="card-body p-2"><div class="d-flex justify-content-between gap-1">'
        f'<a class="fw-semibold text-decoration-none" href="{escape(deal.url)}">{escape(deal.name)}</a>'
        f'<span class="text-nowrap small">{escape(money(deal.amount, deal.currency))}</span></div>'
        f'<div class="small text-muted">{escape(deal.account.name)} · {escape(deal.owner)}</div>',
    ]
    if is_open:
        since = words["in stage"] % {"since": timesince(deal.stage_entered_at)}
        html.append(f'<div class="small text-muted" data-testid="days-in-stage">{escape(since)}</div>')
    badges = [words["coached"] if deal.has_coach else words["no coach"]]
    if deal.held_back:
        badges.append(words["held back"])
    if deal.status == Opportunity.Status.WON and deal.had_coach_at_close is not None:
        badges.append(words[deal.had_coach_at_close])
    html.append(f'<div class="small">{" ".join(badges)}</div>')
    if error is not None:
        html.append(_refusal(error))
    if is_open:
        fields, closings = form
        links = "".join(
            f'<a class="btn btn-sm btn-outline-{style} py-0 px-2" href="{escape(getattr(deal, url))}">{label}…</a>'
            for url, style, label in closings
        )
        html.append(
            f'<form method="post" action="{move_url}" hx-post="{move_url}" hx-target="#board" hx-swap="outerHTML"'
            f' class="d-flex flex-wrap gap-1 mt-2">{fields}{links}</form>'
        )
    html.append("</div></div>")
    return "".join(html)


def _refusal(error) -> str:
    """The refusal of a move, on its card, with the link that fixes it."""
    link = ""
    if verify_url := getattr(error, "verify_url", None):
        link = (
            f'<a class="alert-link d-block mt-1" href="{escape(verify_url)}" data-testid="verify-link">'
            f"{escape(gettext('Verify the coach'))}</a>"
        )
    elif record_url := getattr(error, "record_coach_url", None):
        link = f'<a class="alert-link d-block mt-1" href="{escape(record_url)}">{escape(gettext("Record a coach"))}</a>'
    return (
        '<div class="alert alert-danger small p-2 mt-2 mb-0" role="alert" data-testid="move-error">'
        f"{escape(' '.join(error.messages))}{link}</div>"
    )
