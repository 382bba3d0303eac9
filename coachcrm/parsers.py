# The API's request parsers (their own module: DRF's views read the parser setting on import).
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

# Deeper than any resource's body (a job-change batch is 3 levels): refused before a serializer
# walks it, and before json's own recursion could exhaust the stack.
MAX_JSON_DEPTH = 32


def _json_too_deep(data, limit: int) -> bool:
    # Iterative, so that checking a deep document cannot itself recurse too deep.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class CrmJSONParser(JSONParser):
    """JSON bodies, refused with a 400 when they nest deeper than MAX_JSON_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = isinstance(data, dict | list) and _json_too_deep(data, MAX_JSON_DEPTH)
        if too_deep:
            raise exceptions.ParseError(
                _("The JSON body nests deeper than %(limit)s levels.") % {"limit": MAX_JSON_DEPTH}, code="too_deep"
            )
        return data
