"""api, webhooks and publishing: API tokens, webhooks and their deliveries, connected publishing
accounts, publications (one per plan item and platform) and daily production schedules

Every new table has ``workspace_id``: on PostgreSQL 0005's function puts it under row-level
security, and each reference between two workspace tables gets 0010's same-workspace trigger.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

import studio.engine.db.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

SAME_WORKSPACE = (
    ("webhook_deliveries", "webhook_id", "webhooks"),
    ("publications", "plan_item_id", "plan_items"),
    ("publications", "job_id", "jobs"),
    ("production_schedules", "influencer_id", "influencers"),
)
TABLES = ("api_tokens", "webhooks", "webhook_deliveries", "publish_accounts", "publications",
          "production_schedules")


def _walls() -> Any:
    """0010's trigger makers (a revision's module name starts with a digit)."""
    return importlib.import_module("studio.engine.db.migrations.versions.0010_workspace_walls")


def _record(table: str, *columns: SchemaItem, unique: tuple[str, ...] = ()) -> None:
    """A workspace table with the columns every record has (models.Record and Scoped)."""
    utc = studio.engine.db.types.UTCDateTime(timezone=True)
    op.create_table(
        table,
        *columns,
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', utc, nullable=False),
        sa.Column('updated_at', utc, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f(f'fk_{table}_workspace_id_workspaces'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
        *([sa.UniqueConstraint(*unique, name=op.f(f'uq_{table}_{unique[0]}'))] if unique else []),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{table}_workspace_id'), ['workspace_id'], unique=False)


def upgrade() -> None:
    utc = studio.engine.db.types.UTCDateTime(timezone=True)
    _record('api_tokens',
            sa.Column('name', sa.String(length=80), nullable=False),
            sa.Column('token_hash', sa.String(length=64), nullable=False),
            sa.Column('read_only', sa.Boolean(), nullable=False),
            sa.Column('last_used_at', utc, nullable=True),
            sa.Column('revoked_at', utc, nullable=True),
            sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
            unique=('workspace_id', 'name'))
    _record('webhooks',
            sa.Column('url', sa.Text(), nullable=False),
            sa.Column('events', sa.JSON(), nullable=False),
            sa.Column('secret_name', sa.String(length=120), nullable=False),
            sa.Column('active', sa.Boolean(), nullable=False))
    _record('webhook_deliveries',
            sa.Column('webhook_id', sa.Uuid(), nullable=False),
            sa.Column('event', sa.String(length=60), nullable=False),
            sa.Column('event_id', sa.String(length=64), nullable=False),
            sa.Column('body', sa.Text(), nullable=False),
            sa.Column('status', sa.String(length=16), nullable=False),
            sa.Column('attempts', sa.Integer(), nullable=False),
            sa.Column('next_attempt_at', utc, nullable=True),
            sa.Column('last_status', sa.Integer(), nullable=True),
            sa.Column('last_error', sa.Text(), nullable=False),
            sa.Column('delivered_at', utc, nullable=True),
            sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'],
                                    name=op.f('fk_webhook_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
            unique=('webhook_id', 'event_id'))
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        for column in ('webhook_id', 'status', 'next_attempt_at'):
            batch_op.create_index(batch_op.f(f'ix_webhook_deliveries_{column}'), [column], unique=False)
    _record('publish_accounts',
            sa.Column('platform', sa.String(length=20), nullable=False),
            sa.Column('account_id', sa.String(length=200), nullable=False),
            sa.Column('name', sa.String(length=200), nullable=False),
            sa.Column('scopes', sa.JSON(), nullable=False),
            sa.Column('expires_at', utc, nullable=True),
            sa.Column('meta', sa.JSON(), nullable=False),
            unique=('workspace_id', 'platform'))
    _record('publications',
            sa.Column('plan_item_id', sa.Uuid(), nullable=False),
            sa.Column('platform', sa.String(length=20), nullable=False),
            sa.Column('status', sa.String(length=20), nullable=False),
            sa.Column('job_id', sa.Uuid(), nullable=True),
            sa.Column('remote_id', sa.String(length=200), nullable=False),
            sa.Column('url', sa.Text(), nullable=False),
            sa.Column('error', sa.Text(), nullable=False),
            sa.Column('published_at', utc, nullable=True),
            sa.Column('meta', sa.JSON(), nullable=False),
            sa.ForeignKeyConstraint(['plan_item_id'], ['plan_items.id'],
                                    name=op.f('fk_publications_plan_item_id_plan_items'), ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['job_id'], ['jobs.id'],
                                    name=op.f('fk_publications_job_id_jobs'), ondelete='SET NULL'),
            unique=('plan_item_id', 'platform'))
    with op.batch_alter_table('publications', schema=None) as batch_op:
        for column in ('plan_item_id', 'job_id'):
            batch_op.create_index(batch_op.f(f'ix_publications_{column}'), [column], unique=False)
    _record('production_schedules',
            sa.Column('influencer_id', sa.Uuid(), nullable=False),
            sa.Column('at', sa.String(length=5), nullable=False),
            sa.Column('posts_per_day', sa.Integer(), nullable=False),
            sa.Column('platforms', sa.JSON(), nullable=False),
            sa.Column('auto_approve', sa.Boolean(), nullable=False),
            sa.Column('enabled', sa.Boolean(), nullable=False),
            sa.Column('last_slot', sa.Date(), nullable=True),
            sa.ForeignKeyConstraint(['influencer_id'], ['influencers.id'],
                                    name=op.f('fk_production_schedules_influencer_id_influencers'),
                                    ondelete='CASCADE'),
            unique=('influencer_id',))
    _secure()


def _secure() -> None:
    walls = _walls()
    if op.get_bind().dialect.name != "postgresql":
        walls.sqlite_same_workspace(SAME_WORKSPACE)
        return
    op.execute("SELECT studio_secure_workspace_tables()")
    walls.postgres_same_workspace(SAME_WORKSPACE)
    grants = "; ".join(f"EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO %I', r)"
                       for t in TABLES)
    op.execute("DO $$ DECLARE r text; BEGIN FOR r IN SELECT rolname FROM pg_roles "
               f"WHERE rolname ~ '^ws_[0-9a-f]{{32}}$' LOOP {grants}; END LOOP; END $$")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
