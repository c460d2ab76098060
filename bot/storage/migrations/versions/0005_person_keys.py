"""per-person data keys and the database's wrapped lookup secret

Revision ID: 0005
Revises: 0004

Values written before this revision are sealed with DATA_KEY itself. A migration does not
know DATA_KEY, so they are moved to per-person keys at the first start with the key
(bot.storage.person_keys.open_keys), in one transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('person_key',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_key_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_key')),
    sa.UniqueConstraint('person_id', name=op.f('uq_person_key_person_id'))
    )
    op.create_table('database_secret',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_database_secret'))
    )


def downgrade() -> None:
    op.drop_table('database_secret')
    op.drop_table('person_key')
