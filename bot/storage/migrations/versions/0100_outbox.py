"""outbox for reminders, review prompts and notices; review confirmations

Revision ID: 0100
Revises: 0200
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0100'
down_revision: str | None = '0200'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('ref', sa.String(length=32), nullable=True),
        sa.Column('dedupe_key', sa.String(length=96), nullable=False),
        sa.Column('payload_enc', sa.LargeBinary(), nullable=True),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['participant_id'], ['participant.id'],
            name=op.f('fk_outbox_participant_id_participant'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['person_id'], ['person.id'],
            name=op.f('fk_outbox_person_id_person'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key')),
    )
    op.create_index('ix_outbox_pending', 'outbox', ['sent_at', 'due_at'], unique=False)
    op.create_index(op.f('ix_outbox_participant_id'), 'outbox', ['participant_id'], unique=False)
    op.create_index(op.f('ix_outbox_person_id'), 'outbox', ['person_id'], unique=False)
    op.create_table(
        'answer_confirmation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=True),
        sa.Column('question_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['answer_id'], ['answer.id'],
            name=op.f('fk_answer_confirmation_answer_id_answer'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['participant_id'], ['participant.id'],
            name=op.f('fk_answer_confirmation_participant_id_participant'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['person_id'], ['person.id'],
            name=op.f('fk_answer_confirmation_person_id_person'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_confirmation')),
    )
    op.create_index(
        'ix_answer_confirmation_person', 'answer_confirmation', ['person_id', 'question_id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_answer_confirmation_person', table_name='answer_confirmation')
    op.drop_table('answer_confirmation')
    op.drop_index(op.f('ix_outbox_person_id'), table_name='outbox')
    op.drop_index(op.f('ix_outbox_participant_id'), table_name='outbox')
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.drop_table('outbox')
