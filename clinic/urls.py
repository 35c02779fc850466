from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Consultation intake"
admin.site.site_title = "Consultation intake"
admin.site.index_title = "Clinic administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("intake.urls")),
]
