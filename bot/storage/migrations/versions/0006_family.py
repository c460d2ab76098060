"""family: relatives as participants, invites, attributed answers and own views

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('invite',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('may_see', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_invite_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by'], ['participant.id'], name=op.f('fk_invite_used_by_participant'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invite')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invite_code_hash'))
    )
    op.create_index(op.f('ix_invite_person_id'), 'invite', ['person_id'], unique=False)
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('perspective', sa.String(length=8), server_default='person', nullable=False))
        batch_op.add_column(sa.Column('with_enc', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('mode', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('may_see', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('name_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('relation', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint('uq_participant_channel', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_participant_channel'), ['channel', 'lookup_key', 'person_id'])
        batch_op.create_index('uq_participant_self', ['channel', 'lookup_key'], unique=True, sqlite_where=sa.text("role = 'self'"), postgresql_where=sa.text("role = 'self'"))


def downgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index('uq_participant_self', sqlite_where=sa.text("role = 'self'"), postgresql_where=sa.text("role = 'self'"))
        batch_op.drop_constraint(batch_op.f('uq_participant_channel'), type_='unique')
        batch_op.create_unique_constraint('uq_participant_channel', ['channel', 'lookup_key'])
        for column in ('notified_at', 'last_active_at', 'relation', 'name_enc', 'may_see', 'mode', 'active'):
            batch_op.drop_column(column)
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('with_enc')
        batch_op.drop_column('perspective')
    op.drop_index(op.f('ix_invite_person_id'), table_name='invite')
    op.drop_table('invite')
