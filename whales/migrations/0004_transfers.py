import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("whales", "0003_pnl"),
    ]

    operations = [
        migrations.CreateModel(
            name="TokenTransfer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("signature", models.CharField(max_length=100)),
                ("direction", models.CharField(choices=[("in", "in"), ("out", "out")], max_length=3)),
                ("amount", models.DecimalField(decimal_places=18, max_digits=40)),
                (
                    "usd_price",
                    models.DecimalField(
                        blank=True, decimal_places=24, help_text="USD per token on receipt", max_digits=48, null=True
                    ),
                ),
                ("block_time", models.DateTimeField()),
                ("slot", models.BigIntegerField()),
                ("source", models.CharField(blank=True, max_length=40)),
                (
                    "arrived_via",
                    models.CharField(
                        choices=[
                            ("webhook", "webhook"),
                            ("poll", "poll"),
                            ("backfill", "backfill"),
                            ("reparse", "reparse"),
                        ],
                        max_length=10,
                    ),
                ),
                ("ingested_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "token",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="transfers", to="whales.token"
                    ),
                ),
                (
                    "wallet",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="transfers", to="whales.trackedwallet"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["wallet", "-block_time"], name="transfer_by_wallet")],
                "constraints": [
                    models.UniqueConstraint(fields=("signature", "wallet", "token"), name="transfer_once_per_signature")
                ],
            },
        ),
        migrations.RenameField(model_name="position", old_name="pending_swaps", new_name="pending_trades"),
        migrations.RenameField(model_name="walletstats", old_name="pending_swaps", new_name="pending_trades"),
        # Cycle keys become the engine's trade keys: a swap's id as text, or "t<id>" for a transfer.
        migrations.RemoveConstraint(model_name="positioncycle", name="one_cycle_per_opening"),
        migrations.RenameField(model_name="positioncycle", old_name="opened_swap_id", new_name="opened_key"),
        migrations.AlterField(model_name="positioncycle", name="opened_key", field=models.CharField(max_length=24)),
        migrations.SeparateDatabaseAndState(
            # One ALTER with USING: an UPDATE of NULLs followed by an ALTER would trip deferred triggers.
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE whales_positioncycle RENAME COLUMN closed_swap_id TO closed_key;"
                    "ALTER TABLE whales_positioncycle ALTER COLUMN closed_key TYPE varchar(24)"
                    " USING coalesce(closed_key::text, '');"
                    "ALTER TABLE whales_positioncycle ALTER COLUMN closed_key SET NOT NULL;",
                    "ALTER TABLE whales_positioncycle ALTER COLUMN closed_key DROP NOT NULL;"
                    "ALTER TABLE whales_positioncycle ALTER COLUMN closed_key TYPE bigint"
                    " USING nullif(closed_key, '')::bigint;"
                    "ALTER TABLE whales_positioncycle RENAME COLUMN closed_key TO closed_swap_id;",
                )
            ],
            state_operations=[
                migrations.RenameField(model_name="positioncycle", old_name="closed_swap_id", new_name="closed_key"),
                migrations.AlterField(
                    model_name="positioncycle", name="closed_key", field=models.CharField(blank=True, max_length=24)
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="positioncycle",
            constraint=models.UniqueConstraint(fields=("wallet", "token", "opened_key"), name="one_cycle_per_opening"),
        ),
    ]
