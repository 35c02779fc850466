from django.contrib import admin
from django.urls import path

from bench.peer import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("one-query/", views.one_query),
    path("form/", views.questionnaire),
]
