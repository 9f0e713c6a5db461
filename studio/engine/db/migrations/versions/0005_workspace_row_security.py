"""workspace row-level security on PostgreSQL: a workspace's own database role sees its rows only

A second wall behind the repositories: a studio connected with a workspace's role
(``ws_<workspace id hex>``, made by ``server grant``) cannot read or write another workspace's
rows even with hand-written SQL. The table owner (the team role that runs migrations) is not
subject to the policies. SQLite has no roles; nothing changes there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The workspace a role stands for, from its name; NULL (no rows) for any other non-owner role.
ROLE_WORKSPACE = r"""
CREATE OR REPLACE FUNCTION studio_role_workspace() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN current_user ~ '^ws_[0-9a-f]{32}$' THEN substr(current_user, 4)::uuid END
$$
"""

# Idempotent, so ``server grant`` can run it again to cover tables added by later migrations.
SECURE_TABLES = r"""
CREATE OR REPLACE FUNCTION studio_secure_workspace_tables() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  t text;
  n integer := 0;
BEGIN
  FOR t IN SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.tables tb ON tb.table_schema = c.table_schema
                AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE'
           WHERE c.table_schema = 'public' AND c.column_name = 'workspace_id' LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS workspace_isolation ON %I', t);
    EXECUTE format('CREATE POLICY workspace_isolation ON %I USING (workspace_id = studio_role_workspace()) '
                   'WITH CHECK (workspace_id = studio_role_workspace())', t);
    n := n + 1;
  END LOOP;
  ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
  DROP POLICY IF EXISTS workspace_isolation ON workspaces;
  CREATE POLICY workspace_isolation ON workspaces USING (id = studio_role_workspace())
    WITH CHECK (id = studio_role_workspace());
  RETURN n + 1;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ROLE_WORKSPACE)
    op.execute(SECURE_TABLES)
    op.execute("SELECT studio_secure_workspace_tables()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(r"""
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_policies WHERE schemaname = 'public'
           AND policyname = 'workspace_isolation' LOOP
    EXECUTE format('DROP POLICY workspace_isolation ON %I', t);
    EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$""")
    op.execute("DROP FUNCTION IF EXISTS studio_secure_workspace_tables()")
    op.execute("DROP FUNCTION IF EXISTS studio_role_workspace()")
