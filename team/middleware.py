# Middleware: each signed-in user's pages in his own language.
from django.utils import translation


class UserLanguageMiddleware:
    """Serve a logged-in user in the language he chose, on any device.

    LocaleMiddleware (earlier in the chain) has already picked the cookie or browser language;
    a saved choice on the user wins over both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
