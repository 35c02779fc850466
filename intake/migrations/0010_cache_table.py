"""The database cache's table, made by migrate itself.

Sessions are read through the cache, so without this table every signed-in request fails; making
it here means no way of deploying (compose, make serve-prod, the benchmark) can forget it. With
Redis configured (REDIS_URL) the command has nothing to do.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("intake", "0009_review_queue_index")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
