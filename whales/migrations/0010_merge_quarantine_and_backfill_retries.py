# Two migrations made side by side from 0007; neither touches what the other does.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('whales', '0008_quarantine_and_live'),
        ('whales', '0009_backfill_retries_and_pending_figures'),
    ]

    operations = []
