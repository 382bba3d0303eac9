# Telling the user when a saved write's background jobs are delayed (the broker is down).
from django.contrib import messages
from django.utils.translation import gettext as _

from coachcrm import jobs


class JobsDelayedMiddleware:
    """Notes the jobs delayed during a request; a page says so in a message (the API answers `jobs_delayed`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with jobs.collecting_delayed() as delayed:
            response = self.get_response(request)
        if delayed and not getattr(request, "jobs_delayed_reported", False) and hasattr(request, "_messages"):
            messages.warning(
                request,
                _(
                    "Saved. Its follow-up work is delayed because the job queue cannot be reached; "
                    "it runs by itself as soon as the queue is back."
                ),
            )
        return response
