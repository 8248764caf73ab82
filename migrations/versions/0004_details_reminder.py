"""when each person was last asked to check their details (P10)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 22:40:00

"""
from alembic import op
import sqlalchemy as sa
import app.models.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details_reminded_at', app.models.types.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('details_reminded_at')
