# The list filters' base class: django-filter's FilterSet, with its form class built once per class
# and language, as a Django form's is once per class.
from django.utils import translation
from django_filters import FilterSet


class CrmFilterSet(FilterSet):
    """A FilterSet whose form class is kept, not rebuilt on every request.

    django-filter builds a new form class on each request, with a new field per filter (labels
    looked up on the model, widgets copied), which the form then deep-copies again: ~2 ms of a
    list page for the deal list's nineteen filters. Here the class is built the first time a set of
    filters is asked for in a language (a label django-filter derives from the model is a plain
    string in the language it was built in) and kept; each form still gets deep copies of its fields,
    as any Django form does. So what depends on the user changes the *form's* fields
    (`self.form.fields["owner"].queryset = ...`, `self.drop(name)`), never the filters'.
    """

    def get_form_class(self):
        key = (translation.get_language(), tuple(self.filters))
        # Per subclass: a dict in the class's own __dict__, never inherited from a parent's.
        kept = type(self).__dict__.get("_form_classes")
        if kept is None:
            kept = {}
            type(self)._form_classes = kept
        form_class = kept.get(key)
        if form_class is None:
            form_class = kept[key] = super().get_form_class()
        return form_class

    def drop(self, name: str) -> None:
        """Remove a filter this user may not use (before the form is built)."""
        assert not hasattr(self, "_form"), "drop() must come before the form is built"
        del self.filters[name]
