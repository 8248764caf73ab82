"""when a topic's families were told (an announcement is made once)

``topics.announced_at`` is set in the same transaction as the announcement's delivery records, so
a topic is announced once, whatever happens to those records later (retention purges them, a
rehearsal run ``--as-of`` a later day purges them early); the recovery sweep looks only at
recently published topics not yet announced. Topics whose announcement is recorded are marked
announced when they were published.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 08:00:00

"""

from alembic import op
import sqlalchemy as sa
import app.models.types


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "topics", sa.Column("announced_at", app.models.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.execute("""
        UPDATE topics SET announced_at = published_at
        WHERE status = 'published' AND EXISTS (
            SELECT 1 FROM notification_deliveries d
            WHERE d.event_key = 'topic:' || topics.id || ':' || 'published')""")


def downgrade():
    op.drop_column("topics", "announced_at")
