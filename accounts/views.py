# Pages of accounts, people, positions, moves and territories.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import access
from accounts import selectors, services, territories
from accounts.filters import AccountFilter, ContactFilter
from accounts.forms import (
    AccountForm,
    AccountReassignForm,
    ContactCreateForm,
    ContactForm,
    ContactMoveForm,
    DuplicatePairForm,
    EmploymentEndForm,
    EmploymentForm,
    MergeConfirmForm,
    MergeForm,
    ReportsToForm,
    TerritoryForm,
    TerritoryRuleForm,
    account_form_initial,
    territory_initial,
)
from accounts.models import Account, Contact, Employment, Territory
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from coaches import selectors as coach_selectors
from csvio.export import csv_response
from pipeline import selectors as pipeline_selectors


def _form_error(form, error: ValidationError) -> dict:
    add_service_error(form, error)
    return {"duplicate": getattr(error, "existing", None)}


def account_list(request):
    filterset = AccountFilter(request.GET, queryset=selectors.account_list(user=request.user), user=request.user)
    page = paginate(request, filterset.qs)
    return render(request, "accounts/account_list.html", {"filter": filterset, "page": page})


def account_export(request):
    filterset = AccountFilter(request.GET, queryset=selectors.account_list(user=request.user), user=request.user)
    accounts = filterset.qs.prefetch_related("product_lines").iterator(chunk_size=1000)
    return csv_response(
        filename="accounts.csv",
        header=["name", "region", "industry", "size_tier", "product_lines", "owner", "notes", "people_count"],
        rows=(
            [
                a.name,
                a.region.name,  # the stored name, not the translated label: the file must import again
                a.industry.name,
                a.size_tier,
                "|".join(p.name for p in a.product_lines.all()),
                a.owner.username,
                a.notes,
                a.people_count,
            ]
            for a in accounts
        ),
    )


def account_detail(request, pk):
    account = access.get(request.user, Account, pk)
    context = {
        "account": account,
        "people": selectors.account_people(account=account),
        "history": selectors.history_entries(records=account.history.all()),
        "coaches": coach_selectors.account_coaches(account=account, user=request.user),
        "opportunities": pipeline_selectors.account_opportunities(account=account, user=request.user),
        "can_reassign": not request.user.is_rep,
        "merges": selectors.record_merges(record=account),
    }
    return render(request, "accounts/account_detail.html", context)


@require_http_methods(["GET", "POST"])
def account_reassign(request, pk):
    if request.user.is_rep:
        raise Http404
    account = access.get(request.user, Account, pk)
    # Suggest who the territory rules would give it to.
    suggested = selectors.territory_successor_for(account=account, exclude_user=account.owner)
    form = AccountReassignForm(request.POST or None, user=request.user, initial={"owner": suggested})
    if form.is_valid():
        try:
            services.account_reassign(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(account)s now belongs to %(owner)s.") % {"account": account, "owner": form.cleaned_data["owner"]},
            )
            return redirect(account)
    context = {"form": form, "account": account, "covering": selectors.territories_covering(account=account)}
    return render(request, "accounts/account_reassign.html", context)


def _record_merge(request, model, pk, merge):
    """Merge a duplicate into another record: pick it, read the preview of what moves, then confirm.

    Reps never merge (a merge deletes a record): the page is not theirs. The service decides
    who else may (access.may_merge) and says so in the preview.
    """
    if request.user.is_rep:
        raise Http404
    record = access.get(request.user, model, pk)
    candidates = selectors.merge_candidates(record=record, user=request.user)
    kwargs = {"user": request.user, "record": record, "candidates": candidates}
    if request.method == "POST":
        form = MergeConfirmForm(request.POST, **kwargs)
    else:
        form = MergeForm(request.GET if "into" in request.GET else None, **kwargs)
    valid = form.is_valid()
    # The chosen record, also when only the confirmation is missing: the preview stays on the page.
    into = form.cleaned_data.get("into") if form.is_bound else None
    if request.method == "POST" and valid:
        try:
            merge(record, into=into, by=request.user)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("%(loser)s was merged into %(survivor)s.") % {"loser": record, "survivor": into}
            )
            return redirect(into)
    context = {"record": record, "form": form, "into": into, "kind": model._meta.model_name}
    if into is not None:
        context["preview"] = services.merge_preview(record=record, into=into, by=request.user)
        if request.method == "GET":
            context["confirm_form"] = MergeConfirmForm(initial={"into": into.pk}, **kwargs)
        else:
            context["confirm_form"] = form
    return render(request, "accounts/record_merge.html", context)


@require_http_methods(["GET", "POST"])
def account_merge(request, pk):
    return _record_merge(request, Account, pk, lambda record, **kw: services.account_merge(account=record, **kw))


@require_http_methods(["GET", "POST"])
def contact_merge(request, pk):
    return _record_merge(request, Contact, pk, lambda record, **kw: services.contact_merge(contact=record, **kw))


def _duplicate_tab(data) -> tuple[str, str]:
    """The kind and match of the possible-duplicates list asked for (the first of each by default)."""
    kind = data.get("kind") if data.get("kind") in selectors.DUPLICATE_MATCHES else "account"
    matches = selectors.DUPLICATE_MATCHES[kind]
    return kind, data.get("match") if data.get("match") in matches else next(iter(matches))


@require_GET
def duplicate_list(request):
    """Possible duplicates the user may merge, one kind and match at a time, or the pairs said not to be."""
    if request.user.is_rep:
        raise Http404
    kind, match = _duplicate_tab(request.GET)
    dismissed = request.GET.get("show") == "dismissed"
    context = {
        "kind": kind,
        "match": match,
        "dismissed": dismissed,
        "match_label": selectors.DUPLICATE_MATCHES[kind][match].label,
        "tabs": [(k, m, how.label) for k, matches in selectors.DUPLICATE_MATCHES.items() for m, how in matches.items()],
        "undo": DuplicatePairForm(request.GET) if "undo" in request.GET else None,
    }
    if dismissed:
        context["page"] = paginate(request, selectors.duplicates_dismissed(user=request.user, kind=kind))
    else:
        page = paginate(request, selectors.duplicate_pairs(user=request.user, kind=kind, match=match))
        context["page"] = page
        context["pairs"] = selectors.duplicate_pairs_resolve(rows=page.object_list, kind=kind, match=match)
    if context["undo"] is not None and not context["undo"].is_valid():
        context["undo"] = None
    return render(request, "accounts/duplicate_list.html", context)


def _duplicate_pair(request, action):
    """Fetch the two records of a POSTed pair (404 unless the user may merge them) and run `action` on them."""
    if request.user.is_rep:
        raise Http404
    form = DuplicatePairForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick a pair from the list."))
        return None, None, form
    first = access.get(request.user, form.model(), form.cleaned_data["first"])
    second = access.get(request.user, form.model(), form.cleaned_data["second"])
    # Seen is not enough: the pair is the user's only if he may merge it (a manager's accounts of other teams).
    if not access.may_merge(request.user, first, second):
        raise Http404
    try:
        action(first=first, second=second, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return None, None, form
    return first, second, form


def _duplicate_list_url(form, **extra) -> str:
    kind, match = _duplicate_tab(form.cleaned_data if form.is_valid() else {})
    return f"{reverse('accounts:duplicate-list')}?{urlencode({'kind': kind, 'match': match, **extra})}"


@require_POST
def duplicate_dismiss(request):
    first, second, form = _duplicate_pair(request, services.duplicate_dismiss)
    if first is None:
        return redirect(_duplicate_list_url(form))
    messages.success(request, _("%(first)s and %(second)s are not duplicates.") % {"first": first, "second": second})
    return redirect(_duplicate_list_url(form, undo=1, first=first.pk, second=second.pk))


@require_POST
def duplicate_restore(request):
    first, second, form = _duplicate_pair(request, services.duplicate_restore)
    if first is not None:
        messages.success(
            request, _("%(first)s and %(second)s are possible duplicates again.") % {"first": first, "second": second}
        )
    return redirect(_duplicate_list_url(form))


@require_http_methods(["GET", "POST"])
def account_create(request):
    form = AccountForm(request.POST or None, user=request.user)
    context = {}
    if form.is_valid():
        try:
            account = services.account_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            context = _form_error(form, error)
        else:
            if access.may_see_account(request.user, account):
                messages.success(request, _("Account %(name)s created.") % {"name": account})
                return redirect(account)
            # Routed to someone whose account the creator may not see: say where it went.
            messages.info(
                request,
                _("Account %(name)s created and routed to %(owner)s. %(why)s")
                % {"name": account, "owner": account.owner, "why": account.assignment_note_display},
            )
            return redirect("accounts:account-list")
    return render(request, "accounts/account_form.html", {"form": form, **context})


@require_http_methods(["GET", "POST"])
def account_update(request, pk):
    account = access.get(request.user, Account, pk)
    form = AccountForm(request.POST or None, user=request.user, editing=True, initial=account_form_initial(account))
    context = {}
    if form.is_valid():
        data = form.cleaned_data
        if data.get("owner") is None:
            data.pop("owner", None)
        try:
            services.account_update(account=account, by=request.user, **data)
        except ValidationError as error:
            context = _form_error(form, error)
        else:
            messages.success(request, _("Account %(name)s saved.") % {"name": account})
            return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form, "account": account, **context})


def contact_list(request):
    filterset = ContactFilter(request.GET, queryset=selectors.contact_list(user=request.user))
    page = paginate(request, filterset.qs)
    return render(request, "accounts/contact_list.html", {"filter": filterset, "page": page})


def contact_export(request):
    filterset = ContactFilter(request.GET, queryset=selectors.contact_list(user=request.user))
    # The columns of the contact import, so an export can be edited and imported back.
    header = ["email", "first_name", "last_name", "phone", "account", "title", "function", "seniority", "start_date"]
    rows = (
        [c.email, c.first_name, c.last_name, c.phone, *_position_cells(c.current_positions), c.notes]
        for c in filterset.qs.iterator(chunk_size=1000)
    )
    return csv_response(filename="contacts.csv", header=[*header, "notes"], rows=rows)


def _position_cells(positions) -> list:
    if not positions:
        return ["", "", "", "", ""]
    p = positions[0]
    return [p.account.name, p.title, p.function, p.seniority, p.start_date.isoformat()]


def contact_detail(request, pk):
    contact = access.get(request.user, Contact, pk)
    timeline = selectors.contact_timeline(contact=contact)
    context = {
        "contact": contact,
        "timeline": timeline,
        "colleagues": selectors.position_colleagues(employment=next((p for p in timeline if p.is_current), None)),
        "history": selectors.history_entries(records=contact.history.all()),
        "end_form": EmploymentEndForm(),
        "coach_roles": coach_selectors.contact_coach_roles(contact=contact, user=request.user),
        "style_reports": coach_selectors.contact_style_reports(contact=contact, user=request.user),
        "merges": selectors.record_merges(record=contact),
        "can_merge": not request.user.is_rep,
    }
    return render(request, "accounts/contact_detail.html", context)


@require_http_methods(["GET", "POST"])
def contact_create(request):
    initial = {}
    if account_pk := request.GET.get("account"):
        initial["account"] = access.get(request.user, Account, account_pk).pk
    form = ContactCreateForm(request.POST or None, user=request.user, initial=initial)
    context = {}
    if form.is_valid():
        try:
            contact = services.contact_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            context = _form_error(form, error)
        else:
            messages.success(request, _("Contact %(name)s created.") % {"name": contact})
            return redirect(contact)
    return render(request, "accounts/contact_form.html", {"form": form, **context})


@require_http_methods(["GET", "POST"])
def contact_update(request, pk):
    contact = access.get(request.user, Contact, pk)
    initial = {f: getattr(contact, f) for f in ("first_name", "last_name", "email", "phone", "notes")}
    form = ContactForm(request.POST or None, initial=initial)
    context = {}
    if form.is_valid():
        try:
            services.contact_update(contact=contact, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            context = _form_error(form, error)
        else:
            messages.success(request, _("Contact %(name)s saved.") % {"name": contact})
            return redirect(contact)
    return render(request, "accounts/contact_form.html", {"form": form, "contact": contact, **context})


@require_http_methods(["GET", "POST"])
def employment_add(request, pk):
    contact = access.get(request.user, Contact, pk)
    form = EmploymentForm(request.POST or None, user=request.user)
    if form.is_valid():
        try:
            services.employment_add(by=request.user, contact=contact, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Position added."))
            return redirect(contact)
    return render(request, "accounts/employment_form.html", {"form": form, "contact": contact})


@require_POST
def employment_reports_to(request, pk):
    employment = access.get(request.user, Employment.objects.select_related("contact", "account"), pk)
    form = ReportsToForm(request.POST, employment=employment)
    if form.is_valid():
        try:
            services.employment_set_reports_to(
                employment=employment, reports_to=form.cleaned_data["reports_to"], by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Reporting line saved."))
    else:
        messages.error(request, _("Choose a colleague at the same account."))
    return redirect(employment.contact)


@require_POST
def employment_end(request, pk):
    employment = access.get(request.user, Employment.objects.select_related("contact", "account"), pk)
    form = EmploymentEndForm(request.POST)
    if form.is_valid():
        try:
            services.employment_end(employment=employment, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Position ended."))
    else:
        messages.error(request, _("Enter a valid end date."))
    return redirect(employment.contact)


@require_http_methods(["GET", "POST"])
def contact_move(request, pk):
    contact = access.get(request.user, Contact, pk)
    form = ContactMoveForm(request.POST or None, user=request.user)
    if form.is_valid():
        try:
            result = services.contact_move(contact=contact, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            account = result.employment.account
            text = _("%(name)s now works at %(account)s.") % {"name": contact, "account": account}
            if result.account_created:
                text += " " + _("The account %(account)s was created.") % {"account": account}
            if result.coach_ended:
                text += " " + _("His coach record ended; a prospect is being opened there and the holders are told.")
            messages.success(request, text)
            return redirect(contact)
    return render(request, "accounts/contact_move.html", {"form": form, "contact": contact})


# --- territories (admins) and conflicts (managers, admins) ----------------------------------


def _require_admin(request) -> None:
    # Territory pages are out of scope for everyone else: 404, like any other.
    if not request.user.is_admin:
        raise Http404


@require_GET
def territory_list(request):
    _require_admin(request)
    return render(request, "accounts/territory_list.html", {"territories": selectors.territory_list()})


@require_http_methods(["GET", "POST"])
def territory_create(request):
    _require_admin(request)
    form = TerritoryForm(request.POST or None)
    if form.is_valid():
        try:
            territory = territories.territory_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Territory %(name)s added.") % {"name": territory})
            return redirect("accounts:territory-list")
    return render(request, "accounts/territory_form.html", {"form": form, "preview": _preview_count(form)})


@require_http_methods(["GET", "POST"])
def territory_update(request, pk):
    _require_admin(request)
    territory = get_object_or_404(Territory, pk=pk)
    form = TerritoryForm(request.POST or None, territory=territory, initial=territory_initial(territory))
    if form.is_valid():
        try:
            territories.territory_update(territory=territory, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Territory %(name)s saved.") % {"name": territory})
            return redirect("accounts:territory-list")
    context = {
        "form": form,
        "territory": territory,
        "preview": _preview_count(form),
        "history": selectors.territory_history(territory=territory),
    }
    return render(request, "accounts/territory_form.html", context)


def _preview_count(form) -> int | None:
    """How many accounts the form's rule covers: the submitted rule, else the saved one."""
    data = form.data if form.is_bound else {f: form.initial.get(f) or "" for f in TerritoryRuleForm.base_fields}
    return _rule_coverage(data)


def _rule_coverage(data) -> int | None:
    rule = TerritoryRuleForm(data)
    return selectors.territory_coverage_count(**rule.cleaned_data) if rule.is_valid() else None


@require_GET
def territory_preview(request):
    """htmx: "this rule covers N accounts" for the rule being edited (one COUNT query)."""
    _require_admin(request)
    return render(request, "accounts/_territory_preview.html", {"preview": _rule_coverage(request.GET)})


@require_POST
def territory_deactivate(request, pk):
    _require_admin(request)
    territory = get_object_or_404(Territory, pk=pk)
    try:
        territories.territory_deactivate(territory=territory, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s no longer routes accounts.") % {"name": territory})
    return redirect("accounts:territory-list")


@require_POST
def territory_move(request, pk):
    _require_admin(request)
    territory = get_object_or_404(Territory, pk=pk)
    try:
        territories.territory_move(territory=territory, by=request.user, up=request.POST.get("direction") != "down")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("accounts:territory-list")


@require_GET
def conflict_list(request):
    if request.user.is_rep:
        raise Http404
    page = paginate(request, coach_selectors.territory_conflicts(user=request.user))
    return render(request, "accounts/conflict_list.html", {"page": page})
