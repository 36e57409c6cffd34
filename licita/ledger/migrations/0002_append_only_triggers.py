"""The database itself refuses UPDATE and DELETE on ledger leaves and checkpoints (PostgreSQL and SQLite)."""

from django.db import migrations

from licita.ledger.triggers import create_sql, drop_sql


def create(apps, schema_editor):
    for statement in create_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
