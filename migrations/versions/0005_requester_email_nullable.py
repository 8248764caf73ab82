"""a request without an email address stores none (no more made-up @hometime.invalid addresses)

``privacy_requests.requester_email`` may be NULL: a parent with only a mobile, a letter with only
a postal address. The placeholders stored until now (``no-email+...@hometime.invalid``) become
NULL. "One open request per person, subject and kind" keys a requester without an address by
their account, in a second partial unique index; a request with neither stays un-keyed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = "state IN ('received', 'identity_check', 'in_progress', 'paused')"
WITHOUT_EMAIL = OPEN + " AND requester_email IS NULL"
PLACEHOLDER = "%@hometime.invalid"


def upgrade():
    op.drop_index("uq_privacy_requests_open", table_name="privacy_requests")
    op.alter_column("privacy_requests", "requester_email", existing_type=sa.String(length=254), nullable=True)
    op.execute(
        sa.text(
            "UPDATE privacy_requests SET requester_email = NULL WHERE requester_email LIKE :placeholder"
        ).bindparams(placeholder=PLACEHOLDER)
    )
    op.create_index(
        "uq_privacy_requests_open",
        "privacy_requests",
        ["organisation_id", "requester_email", "subject_pupil_id", "kind"],
        unique=True,
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "uq_privacy_requests_open_account",
        "privacy_requests",
        ["organisation_id", "requester_id", "subject_pupil_id", "kind"],
        unique=True,
        postgresql_where=sa.text(WITHOUT_EMAIL),
    )


def downgrade():
    # Back to the placeholders: one per account (as 0004's code made them), else one per request.
    op.drop_index("uq_privacy_requests_open_account", table_name="privacy_requests")
    op.drop_index("uq_privacy_requests_open", table_name="privacy_requests")
    op.execute(
        "UPDATE privacy_requests SET requester_email = CASE "
        "WHEN requester_id IS NOT NULL THEN "
        "'no-email+user' || CAST(requester_id AS VARCHAR(20)) || '@hometime.invalid' "
        "ELSE 'no-email+r' || CAST(id AS VARCHAR(20)) || '@hometime.invalid' END "
        "WHERE requester_email IS NULL"
    )
    op.alter_column(
        "privacy_requests", "requester_email", existing_type=sa.String(length=254), nullable=False
    )
    op.create_index(
        "uq_privacy_requests_open",
        "privacy_requests",
        ["organisation_id", "requester_email", "subject_pupil_id", "kind"],
        unique=True,
        postgresql_where=sa.text(OPEN),
    )
