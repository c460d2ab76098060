"""answers version: a number per person that every change to their answers moves on

A turn reads one number instead of the person's whole answer history when nothing
changed since it last read it (bot/storage/answer_cache.py). Triggers keep the number, so
every writer moves it: an answer given, a relative's answers removed or unlinked, a key
rotation, by this process, another one, or by hand.

Revision ID: 0400
Revises: 0300
Create Date: 2026-11-30 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0400'
down_revision: str | None = '0300'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE person SET answers_version = answers_version + 1 WHERE id = {row}.person_id"


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('answers_version', sa.Integer(), server_default='0', nullable=False)
        )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE FUNCTION tijdig_answers_version() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP <> 'INSERT' THEN {BUMP.format(row='OLD')}; END IF;\n"
            f"  IF TG_OP <> 'DELETE' THEN {BUMP.format(row='NEW')}; END IF;\n"
            "  RETURN NULL;\n"
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER answers_version AFTER INSERT OR UPDATE OR DELETE ON answer "
            "FOR EACH ROW EXECUTE FUNCTION tijdig_answers_version()"
        )
        return
    op.execute(
        "CREATE TRIGGER answers_version_insert AFTER INSERT ON answer "
        f"BEGIN {BUMP.format(row='NEW')}; END"
    )
    op.execute(
        "CREATE TRIGGER answers_version_delete AFTER DELETE ON answer "
        f"BEGIN {BUMP.format(row='OLD')}; END"
    )
    op.execute(
        "CREATE TRIGGER answers_version_update AFTER UPDATE ON answer "
        f"BEGIN {BUMP.format(row='OLD')}; {BUMP.format(row='NEW')}; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER answers_version ON answer")
        op.execute("DROP FUNCTION tijdig_answers_version()")
    else:
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER answers_version_{name}")
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('answers_version')
