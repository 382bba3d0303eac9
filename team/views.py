from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from coachcrm.pagination import paginate
from pipeline import selectors as pipeline_selectors
from team import selectors, services


def home(request):
    page = paginate(request, pipeline_selectors.work_list(user=request.user))
    return render(request, "team/home.html", {**selectors.home_summary(user=request.user), "page": page})


@login_not_required
def locked_out(request):
    return render(request, "registration/locked_out.html", status=429)


def notification_list(request):
    page = paginate(request, selectors.notification_list(user=request.user))
    return render(request, "team/notification_list.html", {"page": page})


@require_POST
def notifications_mark_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("team:notification-list")
