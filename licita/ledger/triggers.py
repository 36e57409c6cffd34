"""SQL of the triggers that make the database refuse UPDATE and DELETE on ledger leaves and checkpoints."""

from __future__ import annotations

TABLES = ("ledger_leaf", "ledger_checkpoint")


def create_sql(vendor: str) -> list[str]:
    """Return the statements that install the triggers on `vendor` ("postgresql" or "sqlite")."""
    statements: list[str] = []
    for table in TABLES:
        if vendor == "postgresql":
            statements += [
                f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION USING MESSAGE = '{table} is append-only: ' || TG_OP || ' refused';
                END;
                $$ LANGUAGE plpgsql""",
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                (
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
                ),
            ]
        elif vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                statements += [
                    f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}",
                    (
                        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
                    ),
                ]
    return statements


def drop_sql(vendor: str) -> list[str]:
    """Return the statements that remove the triggers (only for migrating backwards and test flushes)."""
    statements: list[str] = []
    for table in TABLES:
        if vendor == "postgresql":
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP FUNCTION IF EXISTS {table}_append_only()",
            ]
        elif vendor == "sqlite":
            statements += [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return statements
