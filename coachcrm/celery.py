# The Celery app: configured from Django settings, tasks found in every app's tasks.py.
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachcrm.settings")

app = Celery("coachcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
