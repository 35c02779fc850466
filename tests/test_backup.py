"""Backups: a pg_dump of the database restores into a fresh one with the submissions intact."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from factories import COLD_SORE, make_submission

from intake.models import Submission, import_document

SKINPEN = Path(__file__).resolve().parent.parent / "intake" / "question_sets" / "skinpen.json"


def pg_args(settings: dict) -> list[str]:
    args = ["-h", settings["HOST"] or "127.0.0.1", "-U", settings["USER"] or "postgres"]
    return args + (["-p", str(settings["PORT"])] if settings["PORT"] else [])


def drop_leftover_restores(params: dict) -> list[str]:
    """Drop the restore_* databases a run interrupted before its clean-up left behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'restore\\_%%'")
        leftovers = [name for (name,) in cursor.fetchall()]
    env = os.environ | {"PGPASSWORD": params["PASSWORD"] or ""}
    for name in leftovers:
        subprocess.run(["dropdb", *pg_args(params), "--if-exists", name], check=True, env=env)
    return leftovers


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_a_fresh_database_with_the_submissions_intact(tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("Backups are documented for PostgreSQL; this run uses SQLite.")
    if not shutil.which("pg_dump"):
        pytest.fail("pg_dump is missing (Debian package postgresql-client).")
    drop_leftover_restores(connection.settings_dict)
    published = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    published.install()
    submission = make_submission(published, COLD_SORE)
    params = connection.settings_dict
    dump = tmp_path / "intake.dump"
    env = os.environ | {"PGPASSWORD": params["PASSWORD"] or ""}
    subprocess.run(
        ["pg_dump", *pg_args(params), "-Fc", "-f", str(dump), params["NAME"]],
        check=True,
        env=env,
    )
    fresh = f"restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", *pg_args(params), fresh], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", *pg_args(params), "--no-owner", "-d", fresh, str(dump)],
            check=True,
            env=env,
        )
        with (
            psycopg2.connect(
                host=params["HOST"] or "127.0.0.1",
                port=params["PORT"] or 5432,
                user=params["USER"] or "postgres",
                password=params["PASSWORD"] or None,
                dbname=fresh,
            ) as restored,
            restored.cursor() as cursor,
        ):
            cursor.execute(
                "SELECT reference, answers::text, flag_codes FROM intake_submission WHERE id = %s",
                [str(submission.pk)],
            )
            reference, answers, codes = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM intake_flag f JOIN intake_assessment a "
                "ON a.id = f.assessment_id WHERE a.submission_id = %s",
                [str(submission.pk)],
            )
            flags = cursor.fetchone()[0]
        restored.close()
    finally:
        subprocess.run(["dropdb", *pg_args(params), "--if-exists", fresh], check=True, env=env)

    original = Submission.objects.get(pk=submission.pk)
    assert reference == original.reference
    assert json.loads(answers) == original.answers
    assert codes == original.flag_codes
    assert flags == original.current_flags().count() > 0


@pytest.mark.django_db(transaction=True)
def test_restore_databases_left_by_an_interrupted_run_are_dropped(settings):
    if connection.vendor != "postgresql":
        pytest.skip("Backups are documented for PostgreSQL; this run uses SQLite.")
    params = connection.settings_dict
    left = f"restore_{uuid.uuid4().hex[:8]}"
    env = os.environ | {"PGPASSWORD": params["PASSWORD"] or ""}
    subprocess.run(["createdb", *pg_args(params), left], check=True, env=env)

    dropped = drop_leftover_restores(params)

    assert left in dropped
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [left])
        assert cursor.fetchone()[0] == 0
