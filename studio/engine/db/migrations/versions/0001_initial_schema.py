"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import studio.engine.db.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workspaces',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspaces')),
    sa.UniqueConstraint('name', name=op.f('uq_workspaces_name'))
    )
    op.create_table('influencers',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('trigger_word', sa.String(length=80), nullable=False),
    sa.Column('tone', sa.Text(), nullable=False),
    sa.Column('style', sa.Text(), nullable=False),
    sa.Column('voice', sa.Text(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('avatar_asset_id', sa.Uuid(), nullable=True),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_influencers_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_influencers')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_influencers_workspace_id'))
    )
    with op.batch_alter_table('influencers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_influencers_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_influencers_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('jobs',
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('queue', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('stage', sa.String(length=120), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=True),
    sa.Column('started_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_jobs_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_type'), ['type'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('assets',
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('storage_key', sa.String(length=500), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('influencer_id', sa.Uuid(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['influencer_id'], ['influencers.id'], name=op.f('fk_assets_influencer_id_influencers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_assets_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_assets_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets'))
    )
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assets_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assets_influencer_id'), ['influencer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assets_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assets_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_assets_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('content_plans',
    sa.Column('influencer_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['influencer_id'], ['influencers.id'], name=op.f('fk_content_plans_influencer_id_influencers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_content_plans_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_plans'))
    )
    with op.batch_alter_table('content_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_plans_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_plans_influencer_id'), ['influencer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_plans_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('datasets',
    sa.Column('influencer_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['influencer_id'], ['influencers.id'], name=op.f('fk_datasets_influencer_id_influencers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_datasets_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_datasets')),
    sa.UniqueConstraint('workspace_id', 'influencer_id', 'name', name=op.f('uq_datasets_workspace_id'))
    )
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_datasets_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_datasets_influencer_id'), ['influencer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_datasets_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('lora_models',
    sa.Column('influencer_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('storage_key', sa.String(length=500), nullable=False),
    sa.Column('base_model', sa.String(length=200), nullable=False),
    sa.Column('training_job_id', sa.Uuid(), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['influencer_id'], ['influencers.id'], name=op.f('fk_lora_models_influencer_id_influencers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['training_job_id'], ['jobs.id'], name=op.f('fk_lora_models_training_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_lora_models_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lora_models'))
    )
    with op.batch_alter_table('lora_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lora_models_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lora_models_influencer_id'), ['influencer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lora_models_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('dataset_images',
    sa.Column('dataset_id', sa.Uuid(), nullable=False),
    sa.Column('storage_key', sa.String(length=500), nullable=False),
    sa.Column('original_name', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('phash', sa.String(length=64), nullable=True),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('quality', sa.JSON(), nullable=False),
    sa.Column('faces', sa.JSON(), nullable=False),
    sa.Column('crop', sa.JSON(), nullable=True),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_dataset_images_dataset_id_datasets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_dataset_images_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_images')),
    sa.UniqueConstraint('dataset_id', 'sha256', name=op.f('uq_dataset_images_dataset_id'))
    )
    with op.batch_alter_table('dataset_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataset_images_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataset_images_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataset_images_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataset_images_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('plan_items',
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('scheduled_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('platform', sa.String(length=40), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('hook', sa.Text(), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('hashtags', sa.JSON(), nullable=False),
    sa.Column('image_prompt', sa.Text(), nullable=False),
    sa.Column('video_prompt', sa.Text(), nullable=False),
    sa.Column('subtitle_text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['content_plans.id'], name=op.f('fk_plan_items_plan_id_content_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_plan_items_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_items'))
    )
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_items_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_items_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_items_workspace_id'), ['workspace_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_items_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_plan_items_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_items_deleted_at'))

    op.drop_table('plan_items')
    with op.batch_alter_table('dataset_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_images_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_dataset_images_sha256'))
        batch_op.drop_index(batch_op.f('ix_dataset_images_deleted_at'))
        batch_op.drop_index(batch_op.f('ix_dataset_images_dataset_id'))

    op.drop_table('dataset_images')
    with op.batch_alter_table('lora_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lora_models_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_lora_models_influencer_id'))
        batch_op.drop_index(batch_op.f('ix_lora_models_deleted_at'))

    op.drop_table('lora_models')
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_datasets_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_datasets_influencer_id'))
        batch_op.drop_index(batch_op.f('ix_datasets_deleted_at'))

    op.drop_table('datasets')
    with op.batch_alter_table('content_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_plans_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_content_plans_influencer_id'))
        batch_op.drop_index(batch_op.f('ix_content_plans_deleted_at'))

    op.drop_table('content_plans')
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assets_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_assets_kind'))
        batch_op.drop_index(batch_op.f('ix_assets_job_id'))
        batch_op.drop_index(batch_op.f('ix_assets_influencer_id'))
        batch_op.drop_index(batch_op.f('ix_assets_deleted_at'))

    op.drop_table('assets')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_type'))
        batch_op.drop_index(batch_op.f('ix_jobs_status'))

    op.drop_table('jobs')
    with op.batch_alter_table('influencers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_influencers_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_influencers_deleted_at'))

    op.drop_table('influencers')
    op.drop_table('workspaces')
