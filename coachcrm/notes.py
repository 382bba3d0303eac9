"""Notes the system writes on a record, kept as facts and worded in the reader's language.

A service that explains a record ("why this owner", "why lapsed", "why held back") stores what
happened — a kind and its parameters, `{"kind": "reassigned", "previous": "Ann Lee", "by": …}` —
never a finished sentence: a sentence would stay in the language of whoever triggered it, and a
rep reading in Chinese would get his manager's English. Each kind has one function here that
words it under the active language; the models' `*_display` properties, the API, the admin, the
change history and the notices all go through `note_text`.

Facts hold names as text (the name at the time, as a sentence would have), dates as ISO strings
and counts as numbers, so they are JSON and never need a join to be read. Text a person typed (a
manager's reason) is a parameter, shown as typed.
"""

import datetime
from collections.abc import Callable

from django.db import models
from django.utils import formats
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

_WORDING: dict[str, Callable[[dict], str]] = {}


def note_facts(kind: str, **params) -> dict:
    """The facts of a note: its kind and its parameters, made JSON-ready (records by name, dates ISO)."""
    if kind not in _WORDING:
        raise ValueError(f"Unknown kind of note: {kind}")
    return {"kind": kind, **{name: _jsonable(value) for name, value in params.items()}}


def _jsonable(value):
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime.datetime):
        raise TypeError("A note keeps dates, not times: pass timezone.localdate(...)")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        # A person, an account or a territory by its name; never a translated label (pass
        # `stage.name` for a stage): the wording translates what it should at display time.
        return str(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"A note cannot keep a {type(value).__name__}")


def note_text(facts: dict | None, fallback: str = "") -> str:
    """The note in the active language; `fallback` (a typed reason, or text written before facts) without facts."""
    wording = _WORDING.get((facts or {}).get("kind"))
    return wording(facts) if wording is not None else fallback


# For notices: rendered when the notice is, in its recipient's language.
note_text_lazy = lazy(note_text, str)


def is_note(value) -> bool:
    """Whether a stored value is a note's facts (the change history words them)."""
    return isinstance(value, dict) and value.get("kind") in _WORDING


def _wording(kind: str):
    def register(function: Callable[[dict], str]) -> Callable[[dict], str]:
        _WORDING[kind] = function
        return function

    return register


def _date(value: str) -> str:
    return formats.date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")


def _names(values: list[str]) -> str:
    # Translators: what separates the items of a list of names ("、" in Chinese).
    return pgettext("list separator", ", ").join(values)


# --- why an account has its owner (Account.assignment_facts) --------------------------------


def _with_skipped(text: str, skipped: list[str]) -> str:
    if not skipped:
        return text
    # One message, so that each language joins the two sentences its own way.
    return _("%(note)s Skipped (no available member): %(names)s.") % {"note": text, "names": _names(skipped)}


@_wording("owner_chosen")
def _owner_chosen(f: dict) -> str:
    return _("Owner chosen by %(name)s when the account was created.") % {"name": f["by"]}


@_wording("territory")
def _territory(f: dict) -> str:
    if f["members"] > 1:
        how = _("round-robin among %(n)s members") % {"n": f["members"]}
    else:
        how = _("its only available member")
    text = _("Owner via territory %(name)s, rule %(order)s, %(how)s.") % {
        "name": f["territory"],
        "order": f["order"],
        "how": how,
    }
    return _with_skipped(text, f.get("skipped", []))


@_wording("no_territory")
def _no_territory(f: dict) -> str:
    text = _("No territory covers this account: owned by the person who created it, %(name)s.") % {"name": f["by"]}
    return _with_skipped(text, f.get("skipped", []))


@_wording("reassigned")
def _reassigned(f: dict) -> str:
    return _("Reassigned from %(previous)s by %(by)s on %(date)s: %(reason)s") % {
        "previous": f["previous"],
        "by": f["by"],
        "date": _date(f["date"]),
        "reason": f["reason"],
    }


@_wording("departure")
def _departure(f: dict) -> str:
    return _("Taken over from %(previous)s, who departed on %(date)s.") % {
        "previous": f["previous"],
        "date": _date(f["date"]),
    }


# --- why a coach lapsed or ended (Coach.status_facts) ---------------------------------------


@_wording("lapsed")
def _lapsed(f: dict) -> str:
    return _("No interaction since %(date)s.") % {"date": _date(f["since"])}


@_wording("moved")
def _moved(f: dict) -> str:
    return _("moved to %(account)s") % {"account": f["account"]}


@_wording("merged")
def _merged(f: dict) -> str:
    return _("A duplicate record: merged into the coach record of %(into)s.") % {"into": f["into"]}


@_wording("left_company")
def _left_company(f: dict) -> str:
    return _("Left %(account)s on %(date)s: his position there ended.") % {
        "account": f["account"],
        "date": _date(f["date"]),
    }


# --- why a coach is at risk (Coach.at_risk_facts, Handover.reason_facts) --------------------


@_wording("leaving_only_holder")
def _leaving_only_holder(f: dict) -> str:
    return _("%(name)s leaves on %(date)s and is the only holder.") % {"name": f["name"], "date": _date(f["date"])}


@_wording("leaving_not_kept_warm")
def _leaving_not_kept_warm(f: dict) -> str:
    return _("%(name)s leaves on %(date)s and no other holder logged an interaction in %(days)s days.") % {
        "name": f["name"],
        "date": _date(f["date"]),
        "days": f["days"],
    }


# --- where a deal came from (Opportunity.source_facts) --------------------------------------


@_wording("coach_moved")
def _coach_moved(f: dict) -> str:
    return _("Former coach at %(account)s (since %(since)s); deals won with them: %(deals)s.") % {
        "account": f["account"],
        "since": _date(f["since"]),
        "deals": _names(f["deals"]) or _("none yet"),
    }


# --- why a deal is held back or was sent back (Opportunity.held_back_facts, StageChange) ----


def _requirement(value: str) -> str:
    # The labels of coaches.models.CoachRequirement (the kernel imports no domain app).
    return {
        "active": _("an active coach"),
        "qualified": _("a qualified coach"),
        "verified": _("a verified coach"),
    }.get(value, value)


def _criteria_needed(missing: list[str]) -> list[str]:
    phrases = {
        "credible": _("be credible with the buying influences"),
        "trusts_us": _("trust us"),
        "wants_us_to_win": _("want us to win"),
    }
    return [phrases[code] for code in ("credible", "trusts_us", "wants_us_to_win") if code in missing]


def gate_missing_text(f: dict) -> str:
    """What the account's best coach lacks ("Chen Okafor is an informant; a coach must …"), or ""."""
    name, missing = f.get("coach"), f.get("missing") or []
    if not name or not missing:
        return ""
    parts = []
    if "unconfirmed" in missing:
        parts.append(_("%(name)s was recorded by a job change and no holder has verified him yet") % {"name": name})
    if "strength" in missing:
        parts.append(_("%(name)s is an informant") % {"name": name})
    if criteria := _criteria_needed(missing):
        # Translators: the end of the list of what a coach must be ("trust us and want us to win").
        last = pgettext("list end", " and ").join(criteria[-2:])
        parts.append(_("a coach must %(criteria)s") % {"criteria": _names([*criteria[:-2], last])})
    if "unverified" in missing:
        parts.append(_("%(name)s was not verified since %(date)s") % {"name": name, "date": _date(f["verified_on"])})
    # Translators: what separates the problems of a coach in a refusal.
    return _("%(problems)s — verify the criteria.") % {"problems": pgettext("problem separator", "; ").join(parts)}


@_wording("gate")
def _gate(f: dict) -> str:
    params = {
        "stage": _(f["stage"]),  # the stage name as Stage.label shows it
        "account": f["account"],
        "requirement": _requirement(f.get("requirement", "active")),
    }
    if missing := gate_missing_text(f):
        return _("%(stage)s needs %(requirement)s: %(missing)s") % {**params, "missing": missing}
    return (
        _(
            "%(stage)s needs %(requirement)s at %(account)s, and there is none. "
            "Record a coach at the account first (or ask your manager for an override)."
        )
        % params
    )


@_wording("no_active_coach")
def _no_active_coach(f: dict) -> str:
    return _("%(account)s has no active coach any more.") % {"account": f["account"]}
