"""Consent records are append-only in the database itself (P08).

Updating what was agreed, when, how or under which notice is refused by a trigger; foreign keys
may still be cleared when a pupil or contribution is deleted, and whole rows may be deleted with
the account (retention).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = "user_id, purpose, granted, notice_id, method, on_behalf_of, created_at"


def upgrade():
    op.execute("""
        CREATE FUNCTION consent_records_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'consent records are append-only: add a new record instead';
            END $$ LANGUAGE plpgsql""")  # the body's text as it has always been stored
    op.execute(f"""
        CREATE TRIGGER consent_records_append_only BEFORE UPDATE OF {COLUMNS}
        ON consent_records FOR EACH ROW EXECUTE FUNCTION consent_records_append_only()""")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS consent_records_append_only ON consent_records")
    op.execute("DROP FUNCTION IF EXISTS consent_records_append_only()")
