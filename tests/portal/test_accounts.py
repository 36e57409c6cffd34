"""Logging in and out, and choosing a new password by e-mail, in the portal's own pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_wrong_password_is_refused_in_spanish_and_the_right_one_logs_in(client):
    user = factories.make_user(username="compradora")

    wrong = client.post(reverse("login"), {"username": "compradora", "password": "otra"})
    logged_in_after_wrong = "_auth_user_id" in client.session
    right = client.post(reverse("login"), {"username": "compradora", "password": "contraseña-de-prueba-1"})

    assert wrong.status_code == 200
    assert "clave correctos" in wrong.content.decode()
    assert not logged_in_after_wrong
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_logout_needs_a_post_with_its_csrf_token(client):
    factories.make_user(username="salida")
    client.login(username="salida", password="contraseña-de-prueba-1")

    by_get = client.get(reverse("logout"))
    by_post = client.post(reverse("logout"))

    assert by_get.status_code == 405
    assert by_post.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_password_is_reset_through_the_link_sent_by_email(client):
    factories.make_user(username="olvido", email="olvido@example.mx")

    sent = client.post(reverse("password_reset"), {"email": "olvido@example.mx"})
    link = re.search(r"https?://[^/]+(/cuenta/recuperar/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    changed = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "nueva-clave-segura-2026", "new_password2": "nueva-clave-segura-2026"},
    )

    assert sent.status_code == 302
    assert mail.outbox[0].subject == "Licita: elija una contraseña nueva"
    assert changed.status_code == 302
    assert client.login(username="olvido", password="nueva-clave-segura-2026")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    sent = client.post(reverse("password_reset"), {"email": "nadie@example.mx"})

    assert (sent.status_code, len(mail.outbox)) == (302, 0)
