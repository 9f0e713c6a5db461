"""face identity: an influencer's reference faces, each dataset picture's face descriptors and
its identity verdict against them

Descriptors are dlib's 128-d face descriptors, stored as base64 float32 (studio/engine/identity/
descriptors.py); the influencer's ``identity`` holds its references and their centroid.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLEs: a batch copy of influencers on SQLite would trip 0010's triggers.
    op.add_column('influencers', sa.Column('identity', sa.JSON(), nullable=False, server_default='{}'))
    op.add_column('dataset_images', sa.Column('face_descriptors', sa.JSON(), nullable=False,
                                              server_default='[]'))
    op.add_column('dataset_images', sa.Column('identity', sa.JSON(), nullable=True))


def downgrade() -> None:
    for table, column in (('dataset_images', 'identity'), ('dataset_images', 'face_descriptors'),
                          ('influencers', 'identity')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')  # SQLite 3.35+ and PostgreSQL
