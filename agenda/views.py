# Pages of the rep's day: Today (the home page), logging a touch, tasks, the digest opt-out.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import access
from accounts.models import Account, Contact
from agenda import selectors, services
from agenda.forms import NoteForm, StyleRequestForm, TaskForm, TouchForm
from agenda.models import Task
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from coaches import selectors as coach_selectors
from coaches.models import Coach, Handover
from pipeline import selectors as pipeline_selectors
from pipeline.models import Opportunity

LINKS = {"coach": Coach, "account": Account, "opportunity": Opportunity, "handover": Handover}


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@require_GET
def today(request):
    """The home page: the rep's day, then the prioritised deal list."""
    # The visible accounts evaluated once, for the deal sections and the work list's count and page.
    scope = False if request.user.is_admin else access.account_ids(request.user, once=True)
    context = selectors.today(user=request.user, once=scope)
    page = paginate(request, pipeline_selectors.work_list(user=request.user, once=scope))
    page.object_list = pipeline_selectors.work_list_rows(deals=page.object_list, user=request.user)
    context["page"] = page
    return render(request, "agenda/today.html", context)


@require_http_methods(["GET", "POST"])
def touch_log(request, pk):
    """The short log form: one tap opens it from any coach row, one more saves it."""
    coach = access.get(request.user, Coach.objects.select_related("contact", "account"), pk)
    initial = {"kind": coach_selectors.last_kind(coach=coach, user=request.user)}
    form = TouchForm(request.POST or None, initial=initial)
    back = _next(request, coach.get_absolute_url())
    if form.is_valid():
        try:
            _interaction, task = services.touch_log(coach=coach, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            text = _("Logged: %(name)s.") % {"name": coach.contact}
            if task is not None:
                text += " " + _("Next step due %(day)s.") % {"day": date_format(task.due_on)}
            messages.success(request, text)
            return redirect(back)
    return render(request, "agenda/touch_form.html", {"form": form, "coach": coach, "next": back})


def _links(request) -> dict:
    """The records a new task is about (?coach=, ?account=, …), each fetched through access (else 404)."""
    return {
        name: access.get(request.user, model, request.GET[name])
        for name, model in LINKS.items()
        if request.GET.get(name, "").isdigit()
    }


@require_GET
def task_list(request):
    show = request.GET.get("show", "open")
    tasks = selectors.task_rows(user=request.user)
    tasks = tasks.done().order_by("-done_at", "-pk") if show == "done" else tasks.open()
    page = paginate(request, tasks)
    context = {"page": page, "show": show, "digest_off": selectors.digest_is_off(user=request.user)}
    return render(request, "agenda/task_list.html", context)


@require_http_methods(["GET", "POST"])
def task_create(request):
    links = _links(request)
    form = TaskForm(request.POST or None, user=request.user)
    back = _next(request, reverse("agenda:task-list"))
    if form.is_valid():
        try:
            services.task_create(by=request.user, **form.cleaned_data, **links)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Task added."))
            return redirect(back)
    return render(request, "agenda/task_form.html", {"form": form, "links": links, "next": back, "task": None})


@require_http_methods(["GET", "POST"])
def task_edit(request, pk):
    task = access.get(request.user, selectors.task_rows(user=request.user), pk)
    initial = {"subject": task.subject, "due_on": task.due_on, "due_time": task.due_time, "owner": task.owner_id}
    form = TaskForm(request.POST or None, user=request.user, initial=initial)
    back = _next(request, reverse("agenda:task-list"))
    if form.is_valid():
        try:
            services.task_update(task=task, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Task saved."))
            return redirect(back)
    return render(request, "agenda/task_form.html", {"form": form, "links": {}, "next": back, "task": task})


@require_POST
def task_done(request, pk):
    task = access.get(request.user, Task, pk)
    done = request.POST.get("done", "1") != "0"
    services.task_set_done(task=task, by=request.user, done=done)
    messages.success(request, _("Done: %(subject)s.") % {"subject": task} if done else _("Open again."))
    return redirect(_next(request, reverse("home")))


@require_POST
def style_request(request):
    """Ask a coach for a person's buying style (a committee gap's button): a task for his holder, once."""
    form = StyleRequestForm(request.POST, user=request.user)
    back = _next(request, reverse("agenda:task-list"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        task, created = services.style_request(by=request.user, **form.cleaned_data)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect(back)
    if created:
        messages.success(request, _("Asked: %(owner)s has a task to find out.") % {"owner": task.owner})
    else:
        messages.info(request, _("Already asked: %(owner)s's task is still open.") % {"owner": task.owner})
    return redirect(back)


@require_http_methods(["GET", "POST"])
def digest_opt_out(request):
    """The daily digest preference: its form (GET, loaded into the profile and the task list), or setting it."""
    if request.method == "GET":
        if not request.htmx:
            return redirect("agenda:task-list")
        context = {
            "digest_off": selectors.digest_is_off(user=request.user),
            "next": _next(request, reverse("team:profile")),
        }
        return render(request, "agenda/_digest.html", context)
    opt_out = request.POST.get("opt_out") == "1"
    services.digest_set_opt_out(user=request.user, opt_out=opt_out)
    messages.success(request, _("No daily digest any more.") if opt_out else _("The daily digest is on."))
    return redirect(_next(request, reverse("agenda:task-list")))


@require_GET
def search(request):
    """Global search: the page, or (htmx, as you type) the results under the navigation's box."""
    results = selectors.search(user=request.user, q=request.GET.get("q", ""))
    template = "agenda/_search_results.html" if request.htmx else "agenda/search.html"
    return render(request, template, results)


TIMELINE_OF = {"account": Account, "contact": Contact, "opportunity": Opportunity}


def _timeline_record(request, kind: str, pk):
    if kind not in TIMELINE_OF:
        raise Http404
    return access.get(request.user, TIMELINE_OF[kind], pk)


@require_GET
def timeline(request, kind, pk):
    """The record's timeline: loaded into its page (htmx), or on its own page."""
    record = _timeline_record(request, kind, pk)
    context = {
        "record": record,
        "kind": kind,
        "entries": selectors.timeline(user=request.user, **{kind: record}),
        "note_form": NoteForm(),
    }
    template = "agenda/_timeline.html" if request.htmx else "agenda/timeline.html"
    return render(request, template, context)


@require_POST
def note_add(request, kind, pk):
    record = _timeline_record(request, kind, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(by=request.user, text=form.cleaned_data["text"], **{kind: record})
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Note added."))
    else:
        messages.error(request, " ".join(form.errors.get("text", [])) or _("Write the note first."))
    return redirect(record)
