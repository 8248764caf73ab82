"""a request's language, for every message about it; a text message's segments, for its cost

``privacy_requests.language`` holds a locale Hometime speaks (``app/core/i18n.py``); NULL means
English (UK). Someone without an account is written to in the language of the page they asked
from; a carer with an account in their own (``users.language``).

``notification_deliveries.segments``: how many SMS segments a text took (GSM-7 or UCS-2: a text in
Urdu or Polish costs more), so the office sees what its texts cost. NULL for emails.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("privacy_requests", sa.Column("language", sa.String(length=10), nullable=True))
    op.add_column("notification_deliveries", sa.Column("segments", sa.SmallInteger(), nullable=True))


def downgrade():
    op.drop_column("notification_deliveries", "segments")
    op.drop_column("privacy_requests", "language")
