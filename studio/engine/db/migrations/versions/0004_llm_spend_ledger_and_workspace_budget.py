"""llm spend ledger and workspace budget: llm_calls, workspaces.monthly_budget_usd

Every chat completion (paid or cached) is a row, so spend per day, model, influencer and job
can be summed; the budget is per workspace and empty (no limit) on existing workspaces.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import studio.engine.db.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('llm_calls',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=60), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('influencer_id', sa.Uuid(), nullable=True),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('cached', sa.Boolean(), nullable=False),
    sa.Column('generation_id', sa.String(length=100), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['influencer_id'], ['influencers.id'], name=op.f('fk_llm_calls_influencer_id_influencers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_llm_calls_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_llm_calls_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_calls'))
    )
    with op.batch_alter_table('llm_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_llm_calls_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_llm_calls_influencer_id'), ['influencer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_llm_calls_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_llm_calls_workspace_id'), ['workspace_id'], unique=False)

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('monthly_budget_usd', sa.Float(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('monthly_budget_usd')

    with op.batch_alter_table('llm_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_llm_calls_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_llm_calls_job_id'))
        batch_op.drop_index(batch_op.f('ix_llm_calls_influencer_id'))
        batch_op.drop_index(batch_op.f('ix_llm_calls_day'))

    op.drop_table('llm_calls')
