from django.contrib import admin
from django.urls import include, path

from clinic.views import healthz
from intake.staff_access import (
    StaffLoginForm,
    notification_preference,
    sign_out,
    staff_status,
    two_factor,
)

admin.site.site_header = "Consultation intake"
admin.site.site_title = "Consultation intake"
admin.site.index_title = "Clinic administration"
admin.site.login_form = StaffLoginForm

handler400 = "clinic.views.bad_request"
handler500 = "clinic.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/logout/", sign_out, name="sign_out"),
    path("admin/status/", admin.site.admin_view(staff_status), name="staff_status"),
    path(
        "admin/notifications/",
        admin.site.admin_view(notification_preference),
        name="notification_preference",
    ),
    path("admin/", admin.site.urls),
    path("staff/two-factor/", two_factor, name="two_factor"),
    path("", include("intake.patient.urls")),
]
