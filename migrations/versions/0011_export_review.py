"""every copy of a family's data is reviewed by the office before release: who and when

``data_exports.reviewed_by_id`` and ``reviewed_at`` record the person in the office who looked at
the copy (and decided on each flagged item) and when they released it.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-04 16:10:00

"""

from alembic import op
import sqlalchemy as sa
import app.models.types


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("data_exports", sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
    op.add_column(
        "data_exports", sa.Column("reviewed_at", app.models.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_data_exports_reviewed_by_id_users"),
        "data_exports",
        "users",
        ["reviewed_by_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade():
    op.drop_constraint(op.f("fk_data_exports_reviewed_by_id_users"), "data_exports", type_="foreignkey")
    op.drop_column("data_exports", "reviewed_at")
    op.drop_column("data_exports", "reviewed_by_id")
