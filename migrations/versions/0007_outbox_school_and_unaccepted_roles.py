"""outbox messages know the school they were sent for; roles never accepted are taken back

``outbox_messages.organisation_id``: the school a message was sent on behalf of (NULL for sign-in
links and codes), so that /dev/outbox shows a member of staff only their own school's messages.

Until now a staff invitation wrote the role when it was *sent*; from now on only accepting it
does. A role written that way for an invitation that was never accepted is removed: the one
created together with (within a minute of) a staff invitation for the same person, school and
role, when no invitation for them was ever accepted. The invitation itself stays, so the person
can still accept it (a new account by choosing its password, an existing one after signing in).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 07:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("outbox_messages", sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_outbox_messages_organisation_id_organisations"),
        "outbox_messages",
        "organisations",
        ["organisation_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        op.f("ix_outbox_messages_organisation_id"), "outbox_messages", ["organisation_id"], unique=False
    )
    _take_back_unaccepted_roles()


UNACCEPTED = """
DELETE FROM staff_memberships AS m
WHERE m.organisation_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM invitations AS i
              WHERE i.user_id = m.user_id AND i.organisation_id = m.organisation_id
                AND i.role = m.role AND i.status <> 'accepted'
                AND i.created_at BETWEEN m.created_at - INTERVAL '1 minute'
                                     AND m.created_at + INTERVAL '1 minute')
  AND NOT EXISTS (SELECT 1 FROM invitations AS i
                  WHERE i.user_id = m.user_id AND i.organisation_id = m.organisation_id
                    AND i.role = m.role AND i.status = 'accepted')
"""


def _take_back_unaccepted_roles():
    op.execute(UNACCEPTED)


def downgrade():
    # The roles taken back are not written again: they were never accepted.
    op.drop_index(op.f("ix_outbox_messages_organisation_id"), table_name="outbox_messages")
    op.drop_constraint(
        op.f("fk_outbox_messages_organisation_id_organisations"), "outbox_messages", type_="foreignkey"
    )
    op.drop_column("outbox_messages", "organisation_id")
