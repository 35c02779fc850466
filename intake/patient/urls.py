from django.urls import path

from intake.patient import views

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("continue/<str:token>/", views.resume, name="resume"),
    path("questionnaire/<int:number>/", views.step, name="step"),
    path("recheck/<str:token>/", views.recheck, name="recheck"),
    path("questionnaire/sent/", views.done, name="done"),
    path("questionnaire/leave/", views.leave, name="leave"),
]
