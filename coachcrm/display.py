# A cheaper `get_FOO_display()` for every model: the label of a stored choice.
#
# Django's own rebuilds `dict(make_hashable(field.flatchoices))` on each call, which hashes every
# (lazy) label and so translates all of them, only to look one up: about 7% of a list page's
# request at the 1% size (bench/README.md, "Rendering"). This keeps the value -> label mapping on
# the field, built once per `field.choices` object, with the labels still lazy, so the one label
# looked up is translated into the active language when it is shown. Same result as Django's.
from functools import partialmethod

from django.apps import apps
from django.db.models import Model
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_ATTR = "_crm_display_map"


def choice_labels(field) -> dict:
    """The field's {stored value: label}, labels lazy; rebuilt only when `field.choices` changes."""
    choices = field.choices
    cached = field.__dict__.get(_ATTR)
    if cached is None or cached[0] is not choices:
        cached = (choices, {make_hashable(value): label for value, label in field.flatchoices})
        field.__dict__[_ATTR] = cached
    return cached[1]


def _get_FIELD_display(self, field):
    value = getattr(self, field.attname)
    # force_str() to coerce lazy strings, as Django's does.
    return force_str(choice_labels(field).get(make_hashable(value), value), strings_only=True)


def install() -> None:
    """Called once from the kernel's AppConfig.ready(): every model's get_FOO_display uses it.

    Django binds `get_FOO_display` to `Model._get_FIELD_display` when the model class is built,
    before any ready(), so the loaded models are rebound here; a model's own override is kept.
    """
    django_display = Model._get_FIELD_display
    Model._get_FIELD_display = _get_FIELD_display
    for model in apps.get_models(include_auto_created=True):
        for klass in model.__mro__:
            for name, attr in list(vars(klass).items()):
                if isinstance(attr, partialmethod) and attr.func is django_display:
                    setattr(klass, name, partialmethod(_get_FIELD_display, **attr.keywords))
