# The API's side of visibility: a related record is accepted by id only when the requesting user may see it.
from rest_framework import serializers

import access
from coachcrm.api import CrmModelSerializer, request_user


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record by id, within the requesting user's scope: another's id "does not exist" (400)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        user = request_user(self)
        if user is None:
            return queryset.none()
        return access.scope(user, queryset) if queryset.model in access.SCOPES else queryset


class ScopedModelSerializer(CrmModelSerializer):
    """A model serializer whose related fields accept only records the requesting user may see."""

    serializer_related_field = ScopedRelatedField
