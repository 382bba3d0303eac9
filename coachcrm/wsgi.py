# The WSGI entry point (gunicorn coachcrm.wsgi).
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachcrm.settings")

application = get_wsgi_application()
