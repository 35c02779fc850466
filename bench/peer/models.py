from django.db import models


class Submission(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField()
    submitted_at = models.DateTimeField()
    treatment_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20)
    status = models.CharField(max_length=20)
    reviewer = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return self.name
