"""workspace walls: workers.owner_role, caption_changes under row-level security, references that
stay inside one workspace, workspace names and budgets kept for the team admin

- ``workers.owner_role`` (PostgreSQL: ``current_user``, set on insert). A workspace role reads every
  worker (a desk must know whether one is up) but inserts and updates only the rows it made
  itself: the record of its own in-process consumer. It can no longer mark another's live
  worker stopped, and it may delete none.
- ``caption_changes`` has no ``workspace_id``; its rows are scoped through their batch (and
  image), so a desk connected with a workspace role can edit captions again.
- A row that names another row of the studio (a dataset its influencer, an asset its job, …)
  must name one of its own workspace. A foreign key alone accepts another workspace's id, and
  on PostgreSQL its check even sees past row-level security; a trigger refuses it on both
  databases with the answer a missing row gets, so it reveals nothing. A later migration that
  rebuilds one of these tables on SQLite (batch "move and copy") must make its triggers again;
  tests/engine/db/test_migrations.py checks that they exist at head.
- A workspace role may change its workspace's description, never its name or budget: those are
  the team admin's, and a rename that failed only when the name is taken would tell the role
  that another workspace has it. It may no longer insert or delete workspaces either.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# (table, column, the table it names): every reference between two workspace tables.
SAME_WORKSPACE = (
    ("datasets", "influencer_id", "influencers"),
    ("dataset_images", "dataset_id", "datasets"),
    ("caption_batches", "dataset_id", "datasets"),
    ("lora_models", "influencer_id", "influencers"),
    ("lora_models", "training_job_id", "jobs"),
    ("jobs", "parent_id", "jobs"),
    ("assets", "job_id", "jobs"),
    ("assets", "influencer_id", "influencers"),
    ("content_plans", "influencer_id", "influencers"),
    ("plan_items", "plan_id", "content_plans"),
    ("llm_calls", "job_id", "jobs"),
    ("llm_calls", "influencer_id", "influencers"),
)

# SQLSTATE 23503 (foreign_key_violation): the same answer as an id that does not exist.
PG_SAME_WORKSPACE = r"""
CREATE OR REPLACE FUNCTION studio_same_workspace() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ref text := to_jsonb(NEW) ->> TG_ARGV[1];
  found boolean;
BEGIN
  IF ref IS NULL THEN
    RETURN NEW;
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1::uuid AND workspace_id = $2)',
                 TG_ARGV[0]) INTO found USING ref, NEW.workspace_id;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
      MESSAGE = format('%s.%s names no row of its own workspace', TG_TABLE_NAME, TG_ARGV[1]);
  END IF;
  RETURN NEW;
END
$$
"""

PG_ADMIN_FIELDS = r"""
CREATE OR REPLACE FUNCTION studio_workspace_admin_fields() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF studio_role_workspace() IS NOT NULL AND (NEW.name IS DISTINCT FROM OLD.name
      OR NEW.monthly_budget_usd IS DISTINCT FROM OLD.monthly_budget_usd) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'only the team admin role renames a workspace or changes its budget';
  END IF;
  RETURN NEW;
END
$$
"""

# Whatever the writer sends (the ORM sends NULL), a new worker record is the writer's own.
PG_WORKER_OWNER = r"""
CREATE OR REPLACE FUNCTION studio_worker_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.owner_role := current_user;
  RETURN NEW;
END
$$
"""

PG_WORKERS = (
    PG_WORKER_OWNER,
    "DROP TRIGGER IF EXISTS worker_owner ON workers",
    "CREATE TRIGGER worker_owner BEFORE INSERT ON workers FOR EACH ROW "
    "EXECUTE FUNCTION studio_worker_owner()",
    "ALTER TABLE workers ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY workers_read ON workers FOR SELECT USING (true)",
    "CREATE POLICY workers_insert_own ON workers FOR INSERT WITH CHECK (owner_role = current_user)",
    "CREATE POLICY workers_update_own ON workers FOR UPDATE USING (owner_role = current_user) "
    "WITH CHECK (owner_role = current_user)",
)

# Named like 0005's policies, so `server grant` grants the table and 0005's downgrade drops it.
PG_CAPTION_CHANGES = (
    "ALTER TABLE caption_changes ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY workspace_isolation ON caption_changes "
    "USING (EXISTS (SELECT 1 FROM caption_batches b WHERE b.id = caption_changes.batch_id)) "
    "WITH CHECK (EXISTS (SELECT 1 FROM caption_batches b JOIN dataset_images i "
    "ON i.workspace_id = b.workspace_id "
    "WHERE b.id = caption_changes.batch_id AND i.id = caption_changes.image_id))",
)

# Roles made by `server grant` before this revision: the narrower grants now, the new table too.
PG_EXISTING_ROLES = r"""
DO $$
DECLARE r text;
BEGIN
  FOR r IN SELECT rolname FROM pg_roles WHERE rolname ~ '^ws_[0-9a-f]{32}$' LOOP
    EXECUTE format('REVOKE INSERT, DELETE ON workspaces FROM %I', r);
    EXECUTE format('REVOKE DELETE ON workers FROM %I', r);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON caption_changes TO %I', r);
  END LOOP;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_role', sa.String(length=63), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgres()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgres()
    else:
        for table, column, _ in SAME_WORKSPACE:
            for when in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, column)}_{when}")
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_column('owner_role')


def _upgrade_postgres() -> None:
    op.execute(PG_SAME_WORKSPACE)
    postgres_same_workspace(SAME_WORKSPACE)
    op.execute(PG_ADMIN_FIELDS)
    op.execute("DROP TRIGGER IF EXISTS workspace_admin_fields ON workspaces")
    op.execute("CREATE TRIGGER workspace_admin_fields BEFORE UPDATE ON workspaces FOR EACH ROW "
               "EXECUTE FUNCTION studio_workspace_admin_fields()")
    for statement in (*PG_WORKERS, *PG_CAPTION_CHANGES):
        op.execute(statement)
    op.execute(PG_EXISTING_ROLES)


def _downgrade_postgres() -> None:
    for policy in ("workers_read", "workers_insert_own", "workers_update_own"):
        op.execute(f"DROP POLICY IF EXISTS {policy} ON workers")
    op.execute("ALTER TABLE workers DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER IF EXISTS worker_owner ON workers")
    op.execute("DROP FUNCTION IF EXISTS studio_worker_owner()")
    op.execute("DROP POLICY IF EXISTS workspace_isolation ON caption_changes")
    op.execute("ALTER TABLE caption_changes DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER IF EXISTS workspace_admin_fields ON workspaces")
    op.execute("DROP FUNCTION IF EXISTS studio_workspace_admin_fields()")
    for table, column, _ in SAME_WORKSPACE:
        op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, column)} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS studio_same_workspace()")


def postgres_same_workspace(references: tuple[tuple[str, str, str], ...]) -> None:
    """The same-workspace trigger on each (table, column, parent); later migrations call it too."""
    for table, column, parent in references:
        op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, column)} ON {table}")
        op.execute(f"CREATE TRIGGER {_trigger(table, column)} BEFORE INSERT OR UPDATE OF {column}, "
                   f"workspace_id ON {table} FOR EACH ROW "
                   f"EXECUTE FUNCTION studio_same_workspace('{parent}', '{column}')")


def _upgrade_sqlite() -> None:
    sqlite_same_workspace(SAME_WORKSPACE)


def sqlite_same_workspace(references: tuple[tuple[str, str, str], ...]) -> None:
    """SQLite's two triggers per (table, column, parent); later migrations call it too."""
    for table, column, parent in references:
        name = _trigger(table, column)
        wrong = (f"NEW.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} "
                 f"WHERE id = NEW.{column} AND workspace_id = NEW.workspace_id)")
        refuse = (f"SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {table}.{column} names no "
                  "row of its own workspace');")
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {name}_insert BEFORE INSERT ON {table} "
                   f"WHEN {wrong} BEGIN {refuse} END")
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {name}_update BEFORE UPDATE OF {column}, "
                   f"workspace_id ON {table} WHEN {wrong} BEGIN {refuse} END")


def _trigger(table: str, column: str) -> str:
    return f"same_workspace_{table}_{column}"
