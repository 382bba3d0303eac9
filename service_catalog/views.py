# Pages of the catalog, the authority matrix, grants, approvals and the ledger.
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

import access
from accounts.models import Account, Contact
from accounts.selectors import history_entries
from coachcrm.forms import add_service_error
from coachcrm.pagination import PAGE_SIZE, fetched_page, page_number, paginate
from csvio.export import csv_response
from service_catalog import selectors, services
from service_catalog.filters import YEARS, GrantFilter
from service_catalog.forms import (
    AuthorityForm,
    DecisionForm,
    GrantForm,
    ServiceItemForm,
    authority_initial,
    service_item_initial,
)
from service_catalog.models import Authority, ServiceItem


def _require_admin(request) -> None:
    # Catalog and authority pages are out of scope for everyone else: 404, like any other.
    if not request.user.is_admin:
        raise Http404


def allowance(request):
    context = {
        "items": selectors.service_item_list(active_only=True),
        "authority": selectors.authority_remaining(user=request.user),
    }
    return render(request, "service_catalog/allowance.html", context)


def item_list(request):
    _require_admin(request)
    return render(request, "service_catalog/serviceitem_list.html", {"items": selectors.service_item_list()})


@require_http_methods(["GET", "POST"])
def item_create(request):
    _require_admin(request)
    form = ServiceItemForm(request.POST or None, currency=settings.CRM_CURRENCY)
    if form.is_valid():
        try:
            item = services.service_item_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(item)s added to the catalog.") % {"item": item})
            return redirect("service_catalog:item-list")
    return render(request, "service_catalog/serviceitem_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def item_update(request, pk):
    _require_admin(request)
    item = get_object_or_404(ServiceItem, pk=pk)
    form = ServiceItemForm(request.POST or None, currency=settings.CRM_CURRENCY, initial=service_item_initial(item))
    if form.is_valid():
        try:
            services.service_item_update(item=item, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(item)s saved.") % {"item": item})
            return redirect("service_catalog:item-list")
    context = {"form": form, "item": item, "history": history_entries(records=item.history.all())}
    return render(request, "service_catalog/serviceitem_form.html", context)


@require_POST
def item_deactivate(request, pk):
    _require_admin(request)
    item = get_object_or_404(ServiceItem, pk=pk)
    try:
        services.service_item_deactivate(item=item, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(item)s is no longer offered.") % {"item": item})
    return redirect("service_catalog:item-list")


def authority_list(request):
    _require_admin(request)
    rows = Authority.objects.select_related("user").order_by("user__username", "role")
    return render(request, "service_catalog/authority_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def authority_update(request):
    _require_admin(request)
    initial = {}
    if role := request.GET.get("role"):
        existing = Authority.objects.filter(role=role, user__isnull=True).first()
        initial = authority_initial(existing) if existing else {"role": role}
    elif user_pk := request.GET.get("user"):
        existing = Authority.objects.filter(user_id=user_pk).first()
        initial = authority_initial(existing) if existing else {"user": user_pk}
    form = AuthorityForm(request.POST or None, currency=settings.CRM_CURRENCY, initial=initial)
    if form.is_valid():
        try:
            services.authority_set(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Authority saved."))
            return redirect("service_catalog:authority-list")
    return render(request, "service_catalog/authority_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def grant_create(request):
    initial, account = {}, None
    if account_pk := request.GET.get("account"):
        account = access.get(request.user, Account, account_pk)
        initial["account"] = account.pk
    if recipient_pk := request.GET.get("recipient"):
        initial["recipient"] = access.get(request.user, Contact, recipient_pk).pk
    if item_pk := request.GET.get("item"):
        initial["item"] = item_pk
    if opportunity_pk := request.GET.get("opportunity"):
        initial["opportunity"] = opportunity_pk
    form = GrantForm(request.POST or None, user=request.user, initial=initial, account=account)
    if request.method == "POST":
        # Out of scope is 404 before any form message, so that a form cannot probe for records.
        access.get(request.user, Account, _int_or_404(request.POST.get("account")))
        access.get(request.user, Contact, _int_or_404(request.POST.get("recipient")))
    if request.method == "POST" and "preview" in request.POST:
        # Without JavaScript, "Check approval" shows the preview and grants nothing.
        context = {"form": form, "preview": _grant_preview(request.user, form)}
        return render(request, "service_catalog/grant_form.html", context)
    if form.is_valid():
        try:
            grant = services.grant_request(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if grant.is_pending:
                messages.warning(request, _("Over your authority: sent for approval."))
            else:
                messages.success(request, _("Granted and approved."))
            return redirect(grant)
    return render(request, "service_catalog/grant_form.html", {"form": form})


def _grant_preview(user, form: GrantForm) -> dict | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    return selectors.grant_preview(
        by=user, item=data["item"], quantity=data["quantity"], account=data["account"], recipient=data["recipient"]
    )


@require_safe
def grant_preview(request):
    """The grant form's approval preview (htmx): the limits it would exceed and who would decide."""
    form = GrantForm(request.GET, user=request.user)
    # Errors of a half-filled form are not shown here: the preview waits for the four fields it needs.
    return render(request, "service_catalog/_grant_preview.html", {"preview": _grant_preview(request.user, form)})


def _int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def grant_detail(request, pk):
    grant = access.get(request.user, selectors.grant_rows(), pk)
    context = {
        "grant": grant,
        "can_decide": grant.can_decide(request.user),
        "can_cancel": grant.can_cancel(request.user),
        "decision_form": DecisionForm(),
    }
    return render(request, "service_catalog/grant_detail.html", context)


def _decide(request, pk, decide):
    """Approve or reject; an htmx request gets the approvals row back, a plain one a redirect."""
    grant = access.get(request.user, selectors.grant_rows(), pk)
    form = DecisionForm(request.POST)
    error = None
    if form.is_valid():
        try:
            grant = decide(grant=grant, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(form.errors.get("note", []))
    if request.htmx:
        context = {"grant": grant, "error": error, "can_decide": grant.can_decide(request.user)}
        return render(request, "service_catalog/_approval_row.html", context)
    if error:
        messages.error(request, error)
    elif grant.needs_admin and grant.is_pending:
        messages.warning(request, _("Over your own authority: passed on to an admin."))
    else:
        messages.success(request, _("Grant %(status)s.") % {"status": grant.get_status_display().lower()})
    return redirect(grant)


@require_POST
def grant_approve(request, pk):
    return _decide(request, pk, services.grant_approve)


@require_POST
def grant_reject(request, pk):
    return _decide(request, pk, services.grant_reject)


@require_POST
def grant_cancel(request, pk):
    grant = access.get(request.user, selectors.grant_rows(), pk)
    try:
        services.grant_cancel(grant=grant, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Grant cancelled."))
    return redirect(grant)


def approval_list(request):
    page = paginate(request, selectors.approval_list(user=request.user))
    return render(request, "service_catalog/approval_list.html", {"page": page, "form": DecisionForm()})


def grant_list(request):
    grants = selectors.grant_list(user=request.user)
    filterset = GrantFilter(request.GET, queryset=grants)
    rows = filterset.qs
    # The totals' aggregate counts the rows too: one pass over the ledger instead of two.
    totals = selectors.grant_totals(grants=rows, rows=Count("pk"))
    context = {
        "filter": filterset,
        "page": paginate(request, rows, count=totals["rows"]),
        "totals": totals,
        "subject": _ledger_subject(request),
    }
    return render(request, "service_catalog/grant_list.html", context)


@require_GET
def grant_export(request):
    """The ledger rows with their filters as CSV."""
    filterset = GrantFilter(request.GET, queryset=selectors.grant_list(user=request.user))
    return csv_response(
        filename="grants.csv",
        header=[
            "created_at",
            "item",
            "quantity",
            "unit_cost",
            "amount",
            "account",
            "recipient",
            "rep",
            "reason",
            "details",
            "status",
            "decided_by",
        ],
        rows=(
            [
                g.created_at.date(),
                g.item.name,
                g.quantity,
                g.unit_cost,
                g.amount,
                g.account.name,
                g.recipient,
                g.rep.username,
                g.reason,
                g.details,
                g.status,
                g.decided_by.username if g.decided_by else "",
            ]
            for g in filterset.qs.iterator(chunk_size=1000)
        ),
    )


def _ledger_subject(request) -> str:
    """What the ledger is narrowed to, for its heading ("Ledger: Acme Tools")."""
    params = request.GET
    if pk := params.get("account"):
        return str(access.get(request.user, Account, _int_or_404(pk)))
    if pk := params.get("recipient"):
        return str(access.get(request.user, Contact, _int_or_404(pk)))
    if pk := params.get("rep"):
        return str(get_object_or_404(access.team(request.user), pk=_int_or_404(pk)))
    return ""


def ledger(request):
    group = request.GET.get("group", "account")
    if group not in selectors.LEDGER_GROUPS:
        group = "account"
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = None
    # The grant list's bounds: a year outside datetime's range (?year=0) would be a server error.
    if year is None or not YEARS[0] <= year <= YEARS[1]:
        year = timezone.localdate().year
    summary = selectors.ledger_summary(user=request.user, group=group, year=year)
    rows, totals = [], None
    if (number := page_number(request)) is not None:
        # The page and the totals in one pass over the grants (the totals ride on each row).
        rows, totals = selectors.ledger_page(
            user=request.user, group=group, year=year, summary=summary, offset=(number - 1) * PAGE_SIZE
        )
    if rows:
        page = fetched_page(summary, rows, number, count=totals["groups"])
    else:
        # An empty ledger, a page past its last or not a number: the totals, then the page the pager picks.
        totals = totals or selectors.ledger_totals(user=request.user, group=group, year=year)
        page = paginate(request, summary, count=totals["groups"])
    context = {
        "group": group,
        "year": year,
        "page": page,
        "totals": totals,
        "groups": [("account", _("By account")), ("recipient", _("By recipient")), ("rep", _("By rep"))],
    }
    return render(request, "service_catalog/ledger.html", context)
