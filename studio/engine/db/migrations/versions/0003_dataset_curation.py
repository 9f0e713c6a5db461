"""dataset curation: import details, near-duplicate groups, kohya options, caption undo history

Existing rows get server defaults so the upgrade works on a database that already has data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import studio.engine.db.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('caption_batches',
    sa.Column('dataset_id', sa.Uuid(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('undone', sa.Boolean(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_caption_batches_dataset_id_datasets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_caption_batches_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caption_batches')),
    sa.UniqueConstraint('dataset_id', 'seq', name=op.f('uq_caption_batches_dataset_id'))
    )
    with op.batch_alter_table('caption_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caption_batches_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_caption_batches_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('caption_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.Column('image_id', sa.Uuid(), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['caption_batches.id'], name=op.f('fk_caption_changes_batch_id_caption_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['image_id'], ['dataset_images.id'], name=op.f('fk_caption_changes_image_id_dataset_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caption_changes'))
    )
    with op.batch_alter_table('caption_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caption_changes_batch_id'), ['batch_id'], unique=False)

    with op.batch_alter_table('dataset_images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_name', sa.String(length=1000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('format', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('size_bytes', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('crop_manual', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('near_dup_group', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('analyzed_at', studio.engine.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_dataset_images_near_dup_group'), ['near_dup_group'], unique=False)

    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_token', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('repeats', sa.Integer(), nullable=False, server_default='10'))
        batch_op.add_column(sa.Column('tag_separator', sa.String(length=8), nullable=False, server_default=','))



def downgrade() -> None:
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_column('tag_separator')
        batch_op.drop_column('repeats')
        batch_op.drop_column('class_token')

    with op.batch_alter_table('dataset_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_images_near_dup_group'))
        batch_op.drop_column('analyzed_at')
        batch_op.drop_column('near_dup_group')
        batch_op.drop_column('crop_manual')
        batch_op.drop_column('size_bytes')
        batch_op.drop_column('format')
        batch_op.drop_column('source_name')

    with op.batch_alter_table('caption_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caption_changes_batch_id'))

    op.drop_table('caption_changes')
    with op.batch_alter_table('caption_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caption_batches_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_caption_batches_dataset_id'))

    op.drop_table('caption_batches')
