"""Each video records how it was cut into segments and which speech model transcribed it; each
segment how strong the border at its start is (a shot change, a long pause, a new topic).

``segmentation`` lets ``vidsearch index`` find files cut by an older segmenter (or other
segment settings) and cut them again; ``asr_model`` lets ``status`` say which model heard them;
``border`` lets search grow a moment over weak borders and stop it at strong ones; a space's
``params`` say how its vectors were made beyond the model (the fused space: its visual and
speech weights, which ``vidsearch tune`` may change by re-fusing stored vectors).
Videos indexed before this revision have neither, and count as cut by an older segmenter.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("segmentation", sa.String(64)))
        batch.add_column(sa.Column("asr_model", sa.String(128)))
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("border", sa.Float()))
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("params", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("params")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("border")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("asr_model")
        batch.drop_column("segmentation")
