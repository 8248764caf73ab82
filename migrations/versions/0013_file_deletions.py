"""stored files deleted: one row per deletion, confirmed once the object store has removed it

Written in the same transaction as the change that deletes the file (erasure, retention, a
replaced file); ``deleted_at`` is set once the store confirms; rows left unconfirmed (the store
was down) are retried by the nightly sweep. Only the random object key is kept.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:50:00

"""

from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "file_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_file_deletions_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_deletions")),
    )
    op.create_index(op.f("ix_file_deletions_key"), "file_deletions", ["key"], unique=False)
    op.create_index(
        op.f("ix_file_deletions_organisation_id"), "file_deletions", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_file_deletions_deleted_at"), "file_deletions", ["deleted_at"], unique=False)


def downgrade():
    op.drop_table("file_deletions")
