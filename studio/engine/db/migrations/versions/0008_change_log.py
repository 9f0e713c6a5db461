"""change log: what each process wrote, so every other process (the app, workers, desks) hears of it;
an index on jobs.updated_at for the job hub's reads of changed jobs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import studio.engine.db.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'change_log',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('workspace_id', sa.Uuid(), nullable=False),
        sa.Column('entity', sa.String(length=30), nullable=False),
        sa.Column('entity_ids', sa.JSON(), nullable=False),
        sa.Column('op', sa.String(length=10), nullable=False),
        sa.Column('origin', sa.String(length=64), nullable=False),
        sa.Column('at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log')),
    )
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_log_workspace_id'), ['workspace_id'], unique=False)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_updated_at')
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_log_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_change_log_at'))
    op.drop_table('change_log')
