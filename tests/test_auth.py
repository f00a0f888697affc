import pytest

pytestmark = pytest.mark.django_db


def test_the_dashboard_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_a_logged_in_user_sees_the_empty_dashboard(client, alice):
    client.force_login(alice)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No swaps yet" in html
    assert "No wallets tracked yet" in html
    assert 'ws-connect="/ws/live/?groups=feed.trades,feed.signals,leaderboard.7d"' in html
    assert '"X-CSRFToken": "' in html


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_alice_can_change_her_password(client, alice):
    client.force_login(alice)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "correct horse battery staple",
            "new_password1": "a brand new phrase 42",
            "new_password2": "a brand new phrase 42",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new phrase 42")


def test_logout_ends_the_session(client, alice):
    client.force_login(alice)
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_the_admin_refuses_a_non_staff_user(client, alice):
    client.force_login(alice)
    assert client.get("/admin/").status_code == 302


def test_a_superuser_reaches_the_admin(admin_client):
    assert admin_client.get("/admin/").status_code == 200
