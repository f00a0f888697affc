"""Make a fresh database usable: a demo login when there are no users yet, printed every run."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from aura import embedded

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create the demo login when the database has no users, and print it."

    def handle(self, *args, **options) -> None:
        users = get_user_model().objects
        login_file = embedded.data_dir() / "demo-login.txt"
        if not users.exists():
            password = secrets.token_urlsafe(12)
            users.create_superuser(DEMO_USERNAME, email="", password=password)
            login_file.parent.mkdir(parents=True, exist_ok=True)
            login_file.write_text(f"{DEMO_USERNAME} {password}\n")
            login_file.chmod(0o600)
        if login_file.exists() and users.filter(username=DEMO_USERNAME).exists():
            username, password = login_file.read_text().split()
            self.stdout.write(f"Demo login: {username} / {password}  (a superuser: it also reaches /admin/)")
