# API rate limits that let requests through while the cache they count in is down.
"""Throttle classes of the API (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES).

In their own module: DRF reads the setting while `rest_framework.views` is imported, which
`coachcrm.api` itself does.
"""

import logging

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


class _FailOpen:
    # The rates count in the cache (Redis with CACHE_URL). A cache outage must not take the API
    # down with it: the request goes through uncounted, with a warning in the log, for as long
    # as the cache is away. Throttling is a guard against runaway scripts, not a security boundary
    # (logins are limited by axes, in the database).
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as error:
            logger.warning("API throttling skipped, the cache is unreachable: %s", error)
            return True


class CrmUserRateThrottle(_FailOpen, UserRateThrottle):
    """Per user (all his tokens together); lets requests through uncounted while the cache is down."""


class CrmAnonRateThrottle(_FailOpen, AnonRateThrottle):
    """Per address before login; lets requests through uncounted while the cache is down."""
