from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render

from team import selectors


def home(request):
    return render(request, "team/home.html", selectors.home_summary(user=request.user))


@login_not_required
def locked_out(request):
    return render(request, "registration/locked_out.html", status=429)
