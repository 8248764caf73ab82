"""when each person was last asked to check their details (P10)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 22:40:00

"""

from alembic import op
import sqlalchemy as sa
import app.models.types


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "users", sa.Column("details_reminded_at", app.models.types.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade():
    op.drop_column("users", "details_reminded_at")
