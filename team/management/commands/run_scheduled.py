# manage.py run_scheduled: run every job of the beat schedule once (embedded mode, from cron).
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coachcrm.celery import app


class Command(BaseCommand):
    help = (
        "Run every periodic job of CELERY_BEAT_SCHEDULE once, in-process. Embedded mode has no "
        "Celery beat: call this from cron (e.g. every hour) instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Only these schedule entries (default: all).")

    def handle(self, *args, names=(), **options):
        schedule = settings.CELERY_BEAT_SCHEDULE
        unknown = set(names) - set(schedule)
        if unknown:
            raise CommandError(f"Not in CELERY_BEAT_SCHEDULE: {', '.join(sorted(unknown))}")
        app.loader.import_default_modules()  # registers every app's tasks
        failed = []
        for name, entry in schedule.items():
            if names and name not in names:
                continue
            task = app.tasks[entry["task"]]
            # apply() runs the task here and now, whatever the broker settings say.
            result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            if result.failed():
                failed.append(name)
                self.stderr.write(f"{name}: failed: {result.result!r}")
            else:
                self.stdout.write(f"{name}: {result.result}")
        if failed:
            raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}")
