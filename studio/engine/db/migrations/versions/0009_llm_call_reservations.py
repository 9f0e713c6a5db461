"""llm call reservations: llm_calls.state and llm_calls.reserved_usd

A paid call is written before its request as a reservation of its most possible cost, under a
lock every process shares, then settled to the real cost (or released when nothing was paid).
Existing rows are settled calls. The table already has workspace row-level security (0005);
``migrate`` re-applies ``studio_secure_workspace_tables`` on PostgreSQL after every upgrade,
and it is called here too so this revision stands on its own.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('llm_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=12), server_default='settled',
                                      nullable=False))
        batch_op.add_column(sa.Column('reserved_usd', sa.Float(), server_default='0',
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_llm_calls_state'), ['state'], unique=False)
    _secure_workspace_tables()


def downgrade() -> None:
    with op.batch_alter_table('llm_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_llm_calls_state'))
        batch_op.drop_column('reserved_usd')
        batch_op.drop_column('state')


def _secure_workspace_tables() -> None:
    """Row-level security per workspace (0005) on every table with workspace_id, in team mode."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.execute(sa.text("SELECT to_regproc('studio_secure_workspace_tables')")).scalar():
        op.execute("SELECT studio_secure_workspace_tables()")
