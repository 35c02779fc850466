from django.db import migrations, models


class Migration(migrations.Migration):
    """review_order becomes a column the database generates from review_status.

    A column cannot be altered into a generated one, so the queue's index goes, the column is
    dropped and added again as generated, and the index is made again over it.
    """

    dependencies = [
        ("intake", "0010_cache_table"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="submission", name="queue_order_idx"),
        migrations.RemoveField(model_name="submission", name="review_order"),
        migrations.AddField(
            model_name="submission",
            name="review_order",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(review_status="new", then=models.Value(0)),
                    models.When(review_status="in_review", then=models.Value(1)),
                    default=models.Value(2),
                ),
                output_field=models.PositiveSmallIntegerField(),
            ),
        ),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                fields=["review_order", "treatment_date", "submitted_at", "id"],
                name="queue_order_idx",
            ),
        ),
    ]
