from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from intake.models import QuestionSet


def home(request: HttpRequest) -> HttpResponse:
    """The public front page: the clinic and the questionnaire it offers."""
    question_set = QuestionSet.objects.filter(slug=settings.DEFAULT_QUESTION_SET).first()
    version = question_set.latest_published() if question_set else None
    return render(request, "intake/home.html", {"question_set": question_set, "version": version})
