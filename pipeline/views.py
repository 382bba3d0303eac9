# Pages of the pipeline: home, board, lists, a deal, moves, overrides, the dashboard.
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
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
from csvio.export import SafeWriter, csv_response
from pipeline import selectors, services
from pipeline.committee import committee_chart, committee_legend
from pipeline.dashboard import dashboard_summary, quarter_of
from pipeline.filters import OpportunityFilter
from pipeline.forecast import forecast_deals, forecast_summary, forecast_totals
from pipeline.forms import (
    CommitteeMemberForm,
    DashboardFilterForm,
    OpportunityCloseForm,
    OpportunityContactForm,
    OpportunityForm,
    OpportunityMoveForm,
    OpportunityOverrideForm,
    OpportunityReopenForm,
    opportunity_form_initial,
)
from pipeline.models import OpportunityContact, Stage

# A stand-in deal id: a card's links are reversed once per board with it, then completed per card.
_ANY_DEAL = "2147483647"


def _board_context(user, *, errors=None, pinned=None) -> dict:
    columns = selectors.board_columns(user=user, pinned=pinned)
    closing = selectors.board_closing_stages(stages=[column["stage"] for column in columns])
    list_url = reverse("pipeline:opportunity-list")
    board_url = reverse("pipeline:opportunity-board")
    # Each card links to its deal, its move and its two closings: four `{% url %}`s a card were
    # 560 reverses on a 140-card board, a fifth of its rendering. Reversed once here with a
    # stand-in id, each card gets its own by its id.
    links = {
        "url": reverse("pipeline:opportunity-detail", args=[_ANY_DEAL]),
        "move_url": reverse("pipeline:opportunity-move", args=[_ANY_DEAL]),
    }
    for key in ("won", "lost"):
        if closing[key] is not None:
            close_url = reverse("pipeline:opportunity-close", args=[_ANY_DEAL, closing[key].pk])
            links[f"{key}_url"] = f"{close_url}?next={quote(board_url, safe='/')}"  # as `|urlencode`
    for column in columns:
        column["list_url"] = f"{list_url}?{urlencode(column['filters'])}"
        for deal in column["deals"]:
            pk = str(deal.pk)
            for name, pattern in links.items():
                setattr(deal, name, pattern.replace(_ANY_DEAL, pk))
    return {"columns": columns, "closing": closing, "errors": errors or {}, "board_url": board_url}


def opportunity_board(request):
    return render(request, "pipeline/opportunity_board.html", _board_context(request.user))


def opportunity_list(request):
    filterset = OpportunityFilter(
        request.GET, queryset=selectors.opportunity_list(user=request.user), user=request.user
    )
    page = paginate(request, filterset.qs)
    page.object_list = selectors.opportunity_list_rows(deals=page.object_list)
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
    sending = selectors.gate_sweep_last_sending(user=request.user) if sweep and not sweep.sent_back else None
    context = {"page": page, "sweep": sweep, "sending": sending}
    return render(request, "pipeline/opportunity_held_back.html", context)


def opportunity_detail(request, pk):
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    return render(request, "pipeline/opportunity_detail.html", _detail_context(request, opportunity))


def _detail_context(request, opportunity, committee_form=None) -> dict:
    return {
        "opportunity": opportunity,
        "changes": selectors.opportunity_stage_changes(opportunity=opportunity),
        "move_form": OpportunityMoveForm(),
        "can_override": not request.user.is_rep,
        "can_reopen": services.opportunity_may_reopen(opportunity=opportunity, by=request.user),
        "history": history_entries(records=opportunity.history.all()),
        "contact_roles": selectors.opportunity_contact_roles(opportunity=opportunity, user=request.user),
        "contact_form": OpportunityContactForm(opportunity=opportunity),
        "playbook": selectors.opportunity_playbook(opportunity=opportunity, user=request.user),
        # The account's coaches the user may see, each with its one-tap "Log touch".
        "coaches": coach_selectors.account_coaches(account=opportunity.account, user=request.user),
        **_committee_context(request, opportunity, form=committee_form),
    }


# --- The buying committee (issue 23) ---------------------------------------------------------


def _committee_context(request, opportunity, form=None) -> dict:
    """The committee map, its table, gaps and edit form; a gap's link may preset the form (?role=, ?contact=)."""
    committee = selectors.opportunity_committee(opportunity=opportunity, user=request.user)
    if form is None:
        initial = {key: request.GET[key] for key in ("role", "contact", "stance") if request.GET.get(key)}
        form = CommitteeMemberForm(initial=initial, opportunity=opportunity, user=request.user)
    return {
        **_committee_drawing(committee),
        "committee_form": form,
        "committee_open": form.is_bound or bool(form.initial) or "edit" in request.GET,
    }


def _committee_drawing(committee: dict) -> dict:
    return {
        "committee": committee,
        "committee_wide": committee_chart(committee, columns=4),
        "committee_narrow": committee_chart(committee, columns=2),
        "committee_legend": committee_legend(),
    }


@require_safe
def account_committee(request, pk):
    """The account's buying committee: the people on its open deals' committees, one map, the same gaps."""
    account = access.get(request.user, Account, pk)
    committee = selectors.account_committee(account=account, user=request.user)
    return render(request, "pipeline/account_committee.html", {"account": account, **_committee_drawing(committee)})


@require_safe
def account_committee_export(request, pk):
    """The account's committee table as CSV (what its page shows), with the deals each person is on."""
    account = access.get(request.user, Account, pk)
    committee = selectors.account_committee(account=account, user=request.user)
    return _committee_csv(committee, filename=f"committee-account-{account.pk}.csv", with_deals=True)


@require_POST
def committee_member_set(request, pk):
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    form = CommitteeMemberForm(request.POST, opportunity=opportunity, user=request.user)
    if form.is_valid():
        try:
            services.committee_member_set(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s saved on the committee.") % {"name": form.cleaned_data["contact"]})
            return redirect(f"{opportunity.get_absolute_url()}#committee")
    # The page again with the form's errors, and nothing lost of what was typed.
    context = _detail_context(request, opportunity, committee_form=form)
    return render(request, "pipeline/opportunity_detail.html", context, status=400)


@require_safe
def committee_export(request, pk):
    """The committee table as CSV: what the map shows, and only what the user may see."""
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    committee = selectors.opportunity_committee(opportunity=opportunity, user=request.user)
    return _committee_csv(committee, filename=f"committee-{opportunity.pk}.csv")


def _committee_csv(committee: dict, *, filename: str, with_deals: bool = False):
    names = {person["id"]: person["name"] for person in committee["people"]}
    return csv_response(
        filename=filename,
        header=[
            "name",
            "title",
            "roles",
            "style",
            "style_reported_by",
            "style_reported_on",
            "stance",
            "stance_reported_by",
            "stance_reported_on",
            "stance_note",
            "holders",
            "last_touch",
            "reports_to",
            *(["deals"] if with_deals else []),
        ],
        rows=(
            [
                person["name"],
                person["title"],
                " ".join(person["roles"]),
                *_report_cells(person["style"], "style", "coach"),
                *_report_cells(person["stance"], "stance", "source"),
                person["stance"]["note"] if person["stance"] else "",
                " ".join(person["holders"]),
                person["last_touch"] or "",
                names.get(person["reports_to_id"], ""),
                *(["; ".join(deal["name"] for deal in person["deals"])] if with_deals else []),
            ]
            for person in committee["people"]
        ),
    )


def _report_cells(report: dict | None, key: str, source: str) -> list:
    return [report[key], report[source], report["reported_on"]] if report else ["", "", ""]


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
    stage = form.cleaned_data["stage"]
    if stage.is_closed and opportunity.is_open:
        # Closing is never one tap (a button, a drop on the Lost column): confirm on its own page.
        close_url = reverse("pipeline:opportunity-close", args=[opportunity.pk, stage.pk])
        next_url = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            close_url += "?" + urlencode({"next": next_url})
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = close_url
            return response
        return redirect(close_url)
    error = None
    try:
        services.opportunity_move(opportunity=opportunity, by=request.user, **form.cleaned_data)
    except ValidationError as refused:
        error = refused
    if request.htmx:
        errors = {opportunity.pk: error} if error else {}
        # The moved (or refused) card stays in sight even if its column shows only its first deals.
        context = _board_context(request.user, errors=errors, pinned=opportunity.pk)
        # What board.js announces (aria-live) and where it puts the focus back.
        opportunity.refresh_from_db(fields=["stage"])
        context.update(moved=opportunity, moved_error=" ".join(error.messages) if error else "")
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


def _safe_next(request, url: str) -> str:
    return url if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else ""


@require_http_methods(["GET", "POST"])
def opportunity_close(request, pk, stage):
    """Confirm a win or a loss (a loss with its reason); the move goes through the gate like any other."""
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    stage = get_object_or_404(Stage.objects.filter(Q(is_won=True) | Q(is_lost=True)), pk=stage)
    initial = {"next": _safe_next(request, request.GET.get("next", ""))}
    form = OpportunityCloseForm(request.POST or None, stage=stage, initial=initial)
    gate_error = None
    if opportunity.is_open and form.is_valid():
        data = form.cleaned_data
        try:
            services.opportunity_move(
                opportunity=opportunity,
                stage=stage,
                by=request.user,
                loss_reason=data.get("loss_reason"),
                loss_note=data.get("loss_note", ""),
            )
        except ValidationError as error:
            add_service_error(form, error)
            gate_error = error if isinstance(error, services.GateError) else None
        else:
            messages.success(request, _("%(name)s moved to %(stage)s.") % {"name": opportunity, "stage": stage})
            return redirect(_safe_next(request, data["next"]) or opportunity.get_absolute_url())
    context = {
        "form": form,
        "opportunity": opportunity,
        "stage": stage,
        "next": initial["next"],
        "gate_error": gate_error,
    }
    return render(request, "pipeline/opportunity_close.html", context)


@require_http_methods(["GET", "POST"])
def opportunity_reopen(request, pk):
    opportunity = access.get(request.user, selectors.opportunity_rows(), pk)
    form = OpportunityReopenForm(request.POST or None)
    gate_error = None
    if form.is_valid():
        try:
            services.opportunity_reopen(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
            gate_error = error if isinstance(error, services.GateError) else None
        else:
            messages.success(
                request,
                _("%(name)s reopened in %(stage)s.") % {"name": opportunity, "stage": form.cleaned_data["stage"]},
            )
            return redirect(opportunity)
    context = {"form": form, "opportunity": opportunity, "gate_error": gate_error}
    return render(request, "pipeline/opportunity_reopen.html", context)


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
        forecast = forecast_summary(user=request.user, filters=form.filters())
        context |= {
            "forecast": forecast,
            "forecast_chart": _forecast_chart(forecast),
            "links": _dashboard_links(summary),
            "charts": _dashboard_charts(summary),
            "export_query": request.GET.urlencode(),
        }
    return render(request, "pipeline/dashboard.html", context)


def _forecast_chart(forecast: dict) -> dict:
    """Bars of the expected amount per month of expected close, stage-weighted beside coach-adjusted."""
    months = forecast["months"]
    most = max([max(m["stage_weighted"], m["adjusted"]) for m in months], default=0) or 1
    slot = 70
    return {
        "width": max(300, 40 + slot * len(months)),
        "bars": [
            {
                "month": month,
                "x": 40 + slot * index,
                "stage_h": round(float(100 * month["stage_weighted"] / most), 1),
                "adjusted_h": round(float(100 * month["adjusted"] / most), 1),
                "stage_y": round(110 - float(100 * month["stage_weighted"] / most), 1),
                "adjusted_y": round(110 - float(100 * month["adjusted"] / most), 1),
            }
            for index, month in enumerate(months)
        ],
    }


@require_safe
def forecast_deal_list(request):
    """The forecast's drill-down: the deals behind a figure, each with both probabilities (`?at_risk=1`: at risk)."""
    form, summary = _dashboard(request)
    if summary is None:
        return render(request, "pipeline/forecast_deals.html", {"form": form}, status=400)
    filters = form.filters()
    deals = forecast_deals(user=request.user, filters=filters).select_related("account", "owner", "stage")
    at_risk = request.GET.get("at_risk") == "1"
    if at_risk:
        deals = deals.filter(at_risk=True)
    page = paginate(request, deals.order_by("expected_close", "-amount", "pk"))
    totals = forecast_totals(deals=deals)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("at_risk", None)
    context = {"form": form, "page": page, "totals": totals, "at_risk": at_risk, "query": query.urlencode()}
    return render(request, "pipeline/forecast_deals.html", context)


@require_safe
def dashboard_export(request):
    """The dashboard's tables as one CSV file, a section per table."""
    form, summary = _dashboard(request)
    if summary is None:
        return HttpResponseBadRequest(" ".join(str(e) for errors in form.errors.values() for e in errors))
    period = summary["period"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{period["start"]}-{period["end"]}.csv"'
    writer = SafeWriter(response)
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
    _forecast_csv(writer, forecast_summary(user=request.user, filters=form.filters()))
    return response


def _forecast_csv(writer, forecast: dict) -> None:
    """The forecast's section of the dashboard CSV: totals, at risk, by month, and the method's inputs."""
    writer.writerow([])
    writer.writerow(
        [_("Forecast"), _("Deals"), _("Amount"), _("Stage-weighted forecast"), _("Coach-adjusted forecast")]
    )
    totals, risk, undated = forecast["totals"], forecast["at_risk"], forecast["undated"]
    writer.writerow(
        [
            _("Expected to close in the period"),
            totals["count"],
            totals["amount"],
            totals["stage_weighted"],
            totals["adjusted"],
        ]
    )
    writer.writerow(
        [_("At risk for lack of a coach"), risk["count"], risk["amount"], risk["stage_weighted"], risk["adjusted"]]
    )
    writer.writerow([_("No expected close (in neither forecast)"), undated["count"], undated["amount"]])
    writer.writerow([_("Difference (coach-adjusted minus stage-weighted)"), "", "", "", totals["difference"]])
    writer.writerow([])
    writer.writerow(
        [
            _("Month of expected close"),
            _("Deals"),
            _("Amount"),
            _("Stage-weighted forecast"),
            _("Coach-adjusted forecast"),
        ]
    )
    for month in forecast["months"]:
        writer.writerow(
            [
                month["month"].strftime("%Y-%m"),
                month["count"],
                month["amount"],
                month["stage_weighted"],
                month["adjusted"],
            ]
        )
    writer.writerow([])
    method = forecast["method"]
    writer.writerow(
        [
            _("Forecast inputs"),
            _("Window (days)"),
            method["window_days"],
            _("Minimum sample"),
            method["min_sample"],
            _("Prior (deals)"),
            method["prior"],
        ]
    )
    writer.writerow(
        [
            _("Stage"),
            _("With a coach"),
            _("Closed"),
            _("Won"),
            _("Win rate"),
            _("Stage probability (%)"),
            _("Probability used (%)"),
            _("Basis"),
        ]
    )
    for rate in forecast["rates"]:
        writer.writerow(
            [
                rate["stage"],
                _("yes") if rate["with_coach"] else _("no"),
                rate["closed"],
                rate["won"],
                "" if rate["win_rate"] is None else rate["win_rate"],
                rate["stage_probability"],
                rate["probability"],
                _("history") if rate["basis"] == "history" else _("stage probability (too few closed deals)"),
            ]
        )


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
