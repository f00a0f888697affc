"""The quote assets exist from the start: SOL's USD price history values every SOL-quoted swap."""

from django.db import migrations

QUOTE_TOKENS = [
    ("So11111111111111111111111111111111111111112", "SOL", "Wrapped SOL", 9),
    ("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "USDC", "USD Coin", 6),
    ("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", "USDT", "USDT", 6),
]


def create_quote_tokens(apps, schema_editor):
    Token = apps.get_model("whales", "Token")
    for mint, symbol, name, decimals in QUOTE_TOKENS:
        Token.objects.get_or_create(mint=mint, defaults={"symbol": symbol, "name": name, "decimals": decimals})


class Migration(migrations.Migration):
    dependencies = [("whales", "0001_initial")]
    operations = [migrations.RunPython(create_quote_tokens, migrations.RunPython.noop)]
