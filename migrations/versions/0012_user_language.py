"""each person's language: chosen when joining or from the footer, or read from the MIS

``users.language`` holds a locale Hometime speaks (``app/core/i18n.py``: en_GB, pl, ur ...); NULL
means "not chosen": the browser's Accept-Language decides.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 16:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("language", sa.String(length=10), nullable=True))


def downgrade():
    op.drop_column("users", "language")
