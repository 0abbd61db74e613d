"""add seizure analytics: filter columns on the analytic rows, transit rows, indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

The analytic rows (`seizure_report`, `seizure_item`, and the new `seizure_transit`) carry copies
of what every answer filters on (group, hidden flag, handling code, date), and the new daily
counters (`seizure_count`, `seizure_quantity`) hold what answers sum. Existing rows and counters
are filled from `message` and `seizure_report` here; `cencomm analytics rebuild` recomputes
everything from the stored JWS.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seizure_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("sender_organization_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("week_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("hidden", sa.Boolean(), nullable=True))
    with op.batch_alter_table("seizure_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("occurred_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("hc", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("hidden", sa.Boolean(), nullable=True))
    op.create_table(
        "seizure_transit",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("hc", sa.String(length=20), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["seizure_report.message_id"],
            name=op.f("fk_seizure_transit_message_id_seizure_report"),
        ),
        sa.PrimaryKeyConstraint("message_id", "position", name=op.f("pk_seizure_transit")),
    )
    op.create_table(
        "seizure_count",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("hc", sa.String(length=20), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("interceptions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "group_id", "occurred_on", "hc", "dimension", "name", name=op.f("pk_seizure_count")
        ),
    )
    with op.batch_alter_table("seizure_count", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seizure_count_scope",
            ["group_id", "occurred_on", "hc", "dimension", "name", "interceptions"],
            unique=False,
        )
    op.create_table(
        "seizure_quantity",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("hc", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("interceptions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "group_id",
            "occurred_on",
            "hc",
            "country",
            "category",
            "unit",
            name=op.f("pk_seizure_quantity"),
        ),
    )
    with op.batch_alter_table("seizure_quantity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seizure_quantity_scope",
            [
                "group_id",
                "occurred_on",
                "hc",
                "country",
                "category",
                "unit",
                "quantity",
                "interceptions",
            ],
            unique=False,
        )
    _fill_existing_rows()
    _fill_rollups()
    with op.batch_alter_table("seizure_report", schema=None) as batch_op:
        for name in ("seq", "sender_organization_id", "reported_at", "week_start", "hidden"):
            batch_op.alter_column(name, nullable=False)
        batch_op.create_index(
            "ix_seizure_report_analytics", ["group_id", "hidden", "occurred_on"], unique=False
        )
        batch_op.create_index("ix_seizure_report_group_seq", ["group_id", "seq"], unique=True)
        batch_op.create_index(
            "ix_seizure_report_reported_at", ["group_id", "hidden", "reported_at"], unique=False
        )
    with op.batch_alter_table("seizure_item", schema=None) as batch_op:
        for name in ("group_id", "occurred_on", "country", "hc", "hidden"):
            batch_op.alter_column(name, nullable=False)


def _fill_existing_rows() -> None:
    """Copy the filter columns from `message` onto rows written before this revision."""
    bind = op.get_bind()
    message = sa.table(
        "message",
        sa.column("id", sa.Uuid()),
        sa.column("seq", sa.BigInteger()),
        sa.column("sender_organization_id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("hidden", sa.Boolean()),
    )
    report = sa.table(
        "seizure_report",
        sa.column("message_id", sa.Uuid()),
        sa.column("group_id", sa.Uuid()),
        sa.column("occurred_on", sa.Date()),
        sa.column("country", sa.String()),
        sa.column("hc", sa.String()),
        sa.column("transit", sa.JSON()),
        sa.column("seq", sa.BigInteger()),
        sa.column("sender_organization_id", sa.Uuid()),
        sa.column("reported_at", sa.DateTime(timezone=True)),
        sa.column("week_start", sa.Date()),
        sa.column("hidden", sa.Boolean()),
    )
    item = sa.table(
        "seizure_item",
        sa.column("message_id", sa.Uuid()),
        sa.column("group_id", sa.Uuid()),
        sa.column("occurred_on", sa.Date()),
        sa.column("country", sa.String()),
        sa.column("hc", sa.String()),
        sa.column("hidden", sa.Boolean()),
    )
    transit = sa.table(
        "seizure_transit",
        sa.column("message_id", sa.Uuid()),
        sa.column("position", sa.Integer()),
        sa.column("country", sa.String()),
        sa.column("group_id", sa.Uuid()),
        sa.column("occurred_on", sa.Date()),
        sa.column("hc", sa.String()),
        sa.column("hidden", sa.Boolean()),
    )
    rows = bind.execute(
        sa.select(
            report.c.message_id,
            report.c.group_id,
            report.c.occurred_on,
            report.c.country,
            report.c.hc,
            report.c.transit,
            message.c.seq,
            message.c.sender_organization_id,
            message.c.created_at,
            message.c.hidden,
        ).join(message, message.c.id == report.c.message_id)
    ).all()
    for row in rows:
        occurred: date = row.occurred_on
        bind.execute(
            report.update()
            .where(report.c.message_id == row.message_id)
            .values(
                seq=row.seq,
                sender_organization_id=row.sender_organization_id,
                reported_at=row.created_at,
                week_start=occurred - timedelta(days=occurred.weekday()),
                hidden=row.hidden,
            )
        )
        bind.execute(
            item.update()
            .where(item.c.message_id == row.message_id)
            .values(
                group_id=row.group_id,
                occurred_on=occurred,
                country=row.country,
                hc=row.hc,
                hidden=row.hidden,
            )
        )
        for position, country in enumerate(row.transit or []):
            bind.execute(
                transit.insert().values(
                    message_id=row.message_id,
                    position=position,
                    country=country,
                    group_id=row.group_id,
                    occurred_on=occurred,
                    hc=row.hc,
                    hidden=row.hidden,
                )
            )


_ROLLUP_COUNTS = """
INSERT INTO seizure_count (group_id, occurred_on, hc, dimension, name, interceptions)
SELECT group_id, occurred_on, hc, '{dimension}', {name}, count(DISTINCT message_id)
FROM {table} WHERE hidden = :hidden AND {name} IS NOT NULL
GROUP BY group_id, occurred_on, hc{extra}
"""
_ROLLUP_QUANTITIES = """
INSERT INTO seizure_quantity
    (group_id, occurred_on, hc, country, category, unit, quantity, interceptions)
SELECT group_id, occurred_on, hc, country, category, unit, sum(quantity),
    count(DISTINCT message_id)
FROM seizure_item WHERE hidden = :hidden
GROUP BY group_id, occurred_on, hc, country, category, unit
"""
_DIMENSIONS = {
    "all": ("''", "seizure_report"),
    "route": ("origin || ' ' || destination", "seizure_report"),
    "transit": ("country", "seizure_transit"),
    **{
        name: (name, "seizure_report")
        for name in (
            "country",
            "region",
            "transport_mode",
            "detection",
            "concealment",
            "infringement",
        )
    },
}


def _fill_rollups() -> None:
    """The daily counters of every visible report (the same SQL as `analytics rebuild`)."""
    bind = op.get_bind()
    for dimension, (name, table) in _DIMENSIONS.items():
        bind.execute(
            sa.text(
                _ROLLUP_COUNTS.format(
                    dimension=dimension,
                    name=name,
                    table=table,
                    extra="" if dimension == "all" else f", {name}",
                )
            ),
            {"hidden": False},
        )
    bind.execute(sa.text(_ROLLUP_QUANTITIES), {"hidden": False})


def downgrade() -> None:
    op.drop_table("seizure_quantity")
    op.drop_table("seizure_count")
    op.drop_table("seizure_transit")
    with op.batch_alter_table("seizure_item", schema=None) as batch_op:
        for name in ("hidden", "hc", "country", "occurred_on", "group_id"):
            batch_op.drop_column(name)
    with op.batch_alter_table("seizure_report", schema=None) as batch_op:
        batch_op.drop_index("ix_seizure_report_reported_at")
        batch_op.drop_index("ix_seizure_report_group_seq")
        batch_op.drop_index("ix_seizure_report_analytics")
        for name in ("hidden", "week_start", "reported_at", "sender_organization_id", "seq"):
            batch_op.drop_column(name)
