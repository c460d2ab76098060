"""rate schedule: limits shared by all processes on PostgreSQL when there is no Redis

Revision ID: 0300
Revises: 0100
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0300'
down_revision: str | None = '0100'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'rate_schedule',
        sa.Column('key', sa.String(length=96), nullable=False),
        sa.Column('tat', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_schedule')),
    )


def downgrade() -> None:
    op.drop_table('rate_schedule')
