"""A generation number the writers bump, so readers in other processes notice a change.

A running server loads the vector indexes once; an indexing run in another process writes the
catalog and the index files. Reading one row tells the server whether anything changed since it
last reconciled, without reading every id on every search.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "catalog_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(state, [{"name": "generation", "value": 0}])


def downgrade() -> None:
    op.drop_table("catalog_state")
