# Page URLs of the rep's day (/today/, /tasks/); the home page itself is Today.
from django.urls import path

from agenda import views

app_name = "agenda"

urlpatterns = [
    path("today/coaches/<int:pk>/log/", views.touch_log, name="touch-create"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/new/", views.task_create, name="task-create"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task-edit"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("tasks/style-request/", views.style_request, name="style-request"),
    path("tasks/digest/", views.digest_opt_out, name="digest-opt-out"),
    path("search/", views.search, name="search"),
    path("timeline/<str:kind>/<int:pk>/", views.timeline, name="timeline"),
    path("timeline/<str:kind>/<int:pk>/notes/", views.note_add, name="note-create"),
]
