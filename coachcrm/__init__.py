# The kernel: settings, the Celery app, the API base, notes, pagination and form plumbing; the URLconf wires the apps.
from coachcrm.celery import app as celery_app

__all__ = ("celery_app",)
