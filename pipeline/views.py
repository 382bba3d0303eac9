# Pages of the pipeline: home, board, lists, a deal, moves, overrides, the dashboard.
import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

import access
from accounts.models import Account
from accounts.selectors import history_entries
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from coaches import selectors as coach_selectors
from csvio.export import csv_response
from pipeline import selectors, services
from pipeline.dashboard import dashboard_summary, quarter_of
from pipeline.filters import OpportunityFilter
from pipeline.forms import (
    DashboardFilterForm,
    OpportunityContactForm,
    OpportunityForm,
    OpportunityMoveForm,
    OpportunityOverrideForm,
    opportunity_form_initial,
)
from pipeline.models import OpportunityContact


def home(request):
    page = paginate(request, selectors.work_list(user=request.user))
    # Before his deals would be sent back: the holder verifies the coach again.
    due = coach_selectors.coaches_verification_due(user=request.user)
    context = {**selectors.home_summary(user=request.user), "page": page, "verification_due": due}
    return render(request, "pipeline/home.html", context)


def _board_context(user, *, errors=None, pinned=None) -> dict:
    columns = selectors.board_columns(user=user, pinned=pinned)
    list_url = reverse("pipeline:opportunity-list")
    for column in columns:
        column["list_url"] = f"{list_url}?{urlencode(column['filters'])}"
    return {
        "columns": columns,
        "closing": selectors.board_closing_stages(stages=[column["stage"] for column in columns]),
        "errors": errors or {},
    }


def opportunity_board(request):
    return render(request, "pipeline/opportunity_board.html", _board_context(request.user))


def opportunity_list(request):
    filterset = OpportunityFilter(
        request.GET, queryset=selectors.opportunity_list(user=request.user), user=request.user
    )
    page = paginate(request, filterset.qs)
    return render(request, "pipeline/opportunity_list.html", {"filter": filterset, "page": page})


@require_safe
def opportunity_export(request):
    """The opportunity list with its filters (drill-downs included) as CSV."""
    filterset = OpportunityFilter(
        request.GET, queryset=selectors.opportunity_list(user=request.user), user=request.user
    )
    return csv_response(
        filename="opportunities.csv",
        header=[
            "name",
            "account",
            "product_line",
            "amount",
            "currency",
            "stage",
            "owner",
            "status",
            "expected_close",
            "held_back",
            "has_coach",
            "created_at",
        ],
        rows=(
            [
                o.name,
                o.account.name,
                o.product_line,
                o.amount,
                o.currency,
                o.stage.name,
                o.owner.username,
                o.status,
                o.expected_close,
                o.held_back,
                o.has_coach,
                o.created_at.date(),
            ]
            for o in filterset.qs.iterator(chunk_size=1000)
        ),
    )


def opportunity_held_back(request):
    page = paginate(request, selectors.opportunity_held_back_list(user=request.user))
    sweep = selectors.gate_sweep_last(user=request.user)
    return render(request, "pipeline/opportunity_held_back.html", {"page": page, "sweep": sweep})


def opportunity_detail(request, pk):
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    context = {
        "opportunity": opportunity,
        "changes": selectors.opportunity_stage_changes(opportunity=opportunity),
        "move_form": OpportunityMoveForm(),
        "can_override": not request.user.is_rep,
        "history": history_entries(records=opportunity.history.all()),
        "contact_roles": selectors.opportunity_contact_roles(opportunity=opportunity, user=request.user),
        "contact_form": OpportunityContactForm(opportunity=opportunity),
        "playbook": selectors.opportunity_playbook(opportunity=opportunity, user=request.user),
    }
    return render(request, "pipeline/opportunity_detail.html", context)


@require_http_methods(["GET", "POST"])
def opportunity_create(request):
    initial = {}
    if account_pk := request.GET.get("account"):
        initial["account"] = access.get(request.user, Account, account_pk).pk
    form = OpportunityForm(request.POST or None, user=request.user, initial=initial)
    gate_error = None
    if form.is_valid():
        try:
            opportunity = services.opportunity_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
            gate_error = error if isinstance(error, services.GateError) else None
        else:
            messages.success(request, _("Opportunity %(name)s created.") % {"name": opportunity})
            return redirect(opportunity)
    return render(request, "pipeline/opportunity_form.html", {"form": form, "gate_error": gate_error})


@require_http_methods(["GET", "POST"])
def opportunity_update(request, pk):
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    form = OpportunityForm(
        request.POST or None, user=request.user, opportunity=opportunity, initial=opportunity_form_initial(opportunity)
    )
    if form.is_valid():
        try:
            services.opportunity_update(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Opportunity %(name)s saved.") % {"name": opportunity})
            return redirect(opportunity)
    return render(request, "pipeline/opportunity_form.html", {"form": form, "opportunity": opportunity})


@require_POST
def opportunity_move(request, pk):
    """Move from the board (htmx: the board comes back, with the refusal on the card) or the detail page."""
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    form = OpportunityMoveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose a stage to move to."))
    error = None
    try:
        services.opportunity_move(opportunity=opportunity, by=request.user, **form.cleaned_data)
    except ValidationError as refused:
        error = refused
    if request.htmx:
        errors = {opportunity.pk: error} if error else {}
        # The moved (or refused) card stays in sight even if its column shows only its first deals.
        context = _board_context(request.user, errors=errors, pinned=opportunity.pk)
        return render(request, "pipeline/_board.html", context)
    if error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(name)s moved to %(stage)s.") % {"name": opportunity, "stage": form.cleaned_data["stage"]}
        )
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect(opportunity)


@require_http_methods(["GET", "POST"])
def opportunity_override(request, pk):
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    form = OpportunityOverrideForm(request.POST or None)
    if form.is_valid():
        try:
            services.opportunity_override(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s let past the gate.") % {"name": opportunity})
            return redirect(opportunity)
    return render(request, "pipeline/opportunity_override.html", {"form": form, "opportunity": opportunity})


def _dashboard(request) -> tuple[DashboardFilterForm, dict | None]:
    start, end = quarter_of(timezone.localdate())
    data = {"start": start.isoformat(), "end": end.isoformat(), **request.GET.dict()}
    form = DashboardFilterForm(data, user=request.user)
    return form, dashboard_summary(user=request.user, filters=form.filters()) if form.is_valid() else None


def _dashboard_links(summary: dict) -> dict:
    """The query strings that make the opportunity and coach lists count what a figure counts."""
    scope, period = summary["scope"], summary["period"]

    def encode(params):
        return urlencode({key: value for key, value in params.items() if value is not None})

    return {
        "deals": encode(
            {
                "team": scope["manager_id"],
                "owner": scope["owner_id"],
                "region": scope["region_id"],
                "product_line": scope["product_line_id"],
            }
        ),
        "coaches": encode({"team": scope["manager_id"], "holder": scope["owner_id"], "region": scope["region_id"]}),
        "closed": encode({"closed_from": period["start"], "closed_to": period["end"]}),
        "moved": encode({"moved_from": period["start"], "moved_to": period["end"]}),
    }


ROW = 24  # height of one stage row in the dashboard's SVG charts


def _dashboard_charts(summary: dict) -> dict:
    """Bar geometry for the dashboard's SVG charts (the template only draws): a few stage rows, not deals."""
    funnel, win = summary["funnel"], summary["win_rate"]
    most = max([row["count"] for row in funnel], default=0) or 1
    longest = max([row["median_days"] or 0 for row in funnel], default=0) or 1
    return {
        "height": ROW * len(funnel),
        "funnel": [
            # Centred on x=200, at most 190 wide: a funnel.
            {"row": row, "y": ROW * index, "x": round(200 - width / 2, 1), "width": width}
            for index, row in enumerate(funnel)
            for width in [round(190 * row["count"] / most, 1)]
        ],
        "days": [
            {"row": row, "y": ROW * index, "width": round(160 * (row["median_days"] or 0) / longest, 1)}
            for index, row in enumerate(funnel)
        ],
        "win": [
            # Bars grow up from y=110; the rate sits just above the bar.
            {"label": label, "group": group, "flag": flag, "x": x, "height": height, "label_y": round(106 - height, 1)}
            for label, group, flag, x in (
                (_("With a coach"), win["with_coach"], "true", 60),
                (_("Without a coach"), win["without_coach"], "false", 180),
            )
            for height in [round(96 * (group["rate"] or 0), 1)]
        ],
        "health": [
            ("active", _("Active coaches"), summary["coach_health"]["active"]),
            ("single_threaded", _("Single-threaded"), summary["coach_health"]["single_threaded"]),
            ("stale", _("Stale"), summary["coach_health"]["stale"]),
            ("at_risk", _("At risk"), summary["coach_health"]["at_risk"]),
        ],
    }


@require_safe
def dashboard(request):
    form, summary = _dashboard(request)
    context = {"form": form, "summary": summary}
    if summary is not None:
        context |= {
            "links": _dashboard_links(summary),
            "charts": _dashboard_charts(summary),
            "export_query": request.GET.urlencode(),
        }
    return render(request, "pipeline/dashboard.html", context)


@require_safe
def dashboard_export(request):
    """The dashboard's tables as one CSV file, a section per table."""
    form, summary = _dashboard(request)
    if summary is None:
        return HttpResponseBadRequest(" ".join(str(e) for errors in form.errors.values() for e in errors))
    period = summary["period"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{period["start"]}-{period["end"]}.csv"'
    writer = csv.writer(response)
    writer.writerow([_("Period"), period["start"], period["end"]])
    writer.writerow([])
    writer.writerow(
        [
            _("Stage"),
            _("Open deals"),
            _("Amount"),
            _("Weighted amount"),
            _("With a coach"),
            _("Coach coverage"),
            _("Entered in period"),
            _("Moved on"),
            _("Dropped"),
            _("Conversion"),
            _("Drop-off"),
            _("Left the stage"),
            _("Sent back"),
            _("Median days in stage"),
            _("Median age of open deals (days)"),
        ]
    )
    for row in summary["funnel"]:
        writer.writerow(
            [
                row["name"],
                row["count"],
                row["amount"],
                row["weighted_amount"],
                row["covered"],
                row["coverage"],
                row["entered"],
                row["advanced"],
                row["dropped"],
                row["conversion"],
                row["drop_off"],
                row["exits"],
                row["sent_back"],
                row["median_days"],
                row["median_age_days"],
            ]
        )
    win = summary["win_rate"]
    writer.writerow([])
    writer.writerow([_("Closed in period"), _("Won"), _("Lost"), _("Win rate"), _("Won amount")])
    for label, group in ((_("With a coach"), win["with_coach"]), (_("Without a coach"), win["without_coach"])):
        writer.writerow([label, group["won"], group["lost"], group["rate"], group["won_amount"]])
    writer.writerow([_("Uplift"), win["uplift"] if win["enough_data"] else _("too few closed deals")])
    writer.writerow([])
    held = summary["held_back"]
    writer.writerow([_("Held back"), held["count"], held["amount"]])
    writer.writerow([_("Opportunity"), _("Account"), _("Owner"), _("Stage"), _("Amount"), _("Held back since")])
    for deal in held["oldest"]:
        writer.writerow([deal["name"], deal["account"], deal["owner"], deal["stage"], deal["amount"], deal["since"]])
    writer.writerow([])
    health = summary["coach_health"]
    writer.writerow([_("Active coaches"), _("Single-threaded"), _("Stale"), _("At risk")])
    writer.writerow([health["active"], health["single_threaded"], health["stale"], health["at_risk"]])
    return response


@require_POST
def opportunity_contact_add(request, pk):
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    form = OpportunityContactForm(request.POST, opportunity=opportunity)
    if form.is_valid():
        try:
            services.opportunity_contact_add(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s added to the deal.") % {"name": form.cleaned_data["contact"]})
    else:
        messages.error(request, _("Choose a person who works at the account and a role."))
    return redirect(opportunity)


@require_POST
def opportunity_contact_remove(request, pk):
    contact_role = access.get(request.user, OpportunityContact.objects.select_related("opportunity", "contact"), pk)
    services.opportunity_contact_remove(contact_role=contact_role, by=request.user)
    messages.success(request, _("%(name)s removed from the deal.") % {"name": contact_role.contact})
    return redirect(contact_role.opportunity)
