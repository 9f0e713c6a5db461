"""caption change field: which of an image's values a history step changed

Caption edits and exclusions share one undo history per dataset; each change names the value it
changed ('caption' or 'excluded') instead of an exclusion hiding in the caption text columns.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('caption_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field', sa.String(length=16), nullable=False,
                                      server_default='caption'))


def downgrade() -> None:
    with op.batch_alter_table('caption_changes', schema=None) as batch_op:
        batch_op.drop_column('field')
