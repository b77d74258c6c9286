"""API jobs are claimed by one server: who holds a job and until when its claim lasts.

Several ``vidsearch serve`` processes may share one catalog (PostgreSQL, with Milvus holding the
vectors); a queued or running job must be run by exactly one of them, and taken up by another
when its server dies. ``claimed_by`` names the server, ``heartbeat_at`` is when it last said it
still works on the job (see ``core.jobs``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(128)))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("claimed_by")
