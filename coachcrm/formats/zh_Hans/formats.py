"""Simplified Chinese formats: Django's, but money grouped by thousands with commas.

Django's zh_Hans formats have no thousand separator; Chinese business documents write
amounts as 1,234,567.50, which is what reps and managers expect on a CRM.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
