"""The web shell: sign-in, dashboard, authority switcher, settings pages, in French and accessible."""

import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client

from apps.tenants.context import tenant_context
from apps.tenants.models import Authority, Membership

from .factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


class FormAudit(HTMLParser):
    """Collects what an accessibility review checks first: labels, ids, language, skip link."""

    def __init__(self):
        super().__init__()
        self.labels_for, self.controls, self.lang, self.skip_link, self.h1 = set(), [], None, False, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "label" and attrs.get("for"):
            self.labels_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append(attrs)
        if tag == "a" and attrs.get("href") == "#contenu":
            self.skip_link = True
        if tag == "h1":
            self.h1 += 1


def assert_accessible_basics(html):
    audit = FormAudit()
    audit.feed(html)
    assert audit.lang == "fr"
    assert audit.skip_link and 'id="contenu"' in html
    assert audit.h1 == 1
    for control in audit.controls:
        assert control.get("id") in audit.labels_for or control.get("aria-label"), control


def test_login_page_is_french_and_labelled():
    page = Client().get("/connexion/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Adresse électronique" in html and "Mot de passe" in html
    assert_accessible_basics(html)


def test_printed_credentials_log_in_and_reach_the_dashboard(authority, member):
    user = member(authority, role=Role.ADMINISTRATOR)
    client = Client()
    response = client.post("/connexion/", {"username": user.email, "password": "mot-de-passe-de-test"})
    assert response.status_code == 302 and response["Location"] == "/"
    dashboard = client.get("/")
    html = dashboard.content.decode()
    assert dashboard.status_code == 200
    assert "Tableau de bord — Commune A" in html
    assert "Administrateur" in html
    assert_accessible_basics(html)


def test_wrong_password_gets_a_french_error():
    UserFactory(email="agent@mairie.example.fr")
    response = Client().post("/connexion/", {"username": "agent@mairie.example.fr", "password": "faux"})
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()


def test_anonymous_visitor_is_sent_to_the_login_page():
    response = Client().get("/travaux/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_logout_is_a_post_and_ends_the_session(authority, member, client_for):
    client = client_for(member(authority))
    assert client.post("/deconnexion/").status_code == 302
    assert client.get("/").status_code == 302


def test_user_without_authority_is_told_what_to_do(client_for):
    response = client_for(UserFactory()).get("/")
    assert response.status_code == 403
    assert "rattaché à aucune collectivité" in response.content.decode()


def test_switcher_lists_only_the_users_authorities(authority, other_authority, member, client_for):
    user = member(authority)
    member(other_authority, user=user)
    Authority.objects.create(name="Commune C", slug="commune-c")
    html = client_for(user).get("/").content.decode()
    assert "Changer de collectivité" in html
    assert "/collectivite/commune-b/choisir/" in html and "commune-c" not in html


def test_dashboard_lists_recent_jobs_of_the_current_authority(authority, other_authority, member, client_for):
    JobFactory(authority=authority, state="running", progress=30, message="Indexation A")
    JobFactory(authority=other_authority, state="running", message="Indexation B")
    html = client_for(member(authority)).get("/").content.decode()
    assert "Indexation A" in html and "Indexation B" not in html


@pytest.mark.parametrize("url", ["/parametres/membres/", "/parametres/cles-api/", "/parametres/collectivite/"])
def test_settings_pages_are_for_administrators(url, authority, member, client_for):
    assert client_for(member(authority, role=Role.AGENT)).get(url).status_code == 403
    page = client_for(member(authority, role=Role.ADMINISTRATOR)).get(url)
    assert page.status_code == 200
    assert_accessible_basics(page.content.decode())


def test_administrator_invites_a_new_member_who_receives_an_email(
    authority, member, client_for, django_capture_on_commit_callbacks
):
    client = client_for(member(authority, role=Role.ADMINISTRATOR))
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/parametres/membres/", {"email": "Nouvelle.Agente@Mairie.example.fr", "role": "reader"}, follow=True
        )
    assert "a le rôle « Lecteur »" in page.content.decode()
    with tenant_context(authority.pk):
        membership = Membership.objects.get(user__email="nouvelle.agente@mairie.example.fr")
    assert membership.role == Role.READER
    assert len(mail.outbox) == 1
    assert "votre accès a été créé" in mail.outbox[0].subject
    assert re.search(r"/mot-de-passe/nouveau/[^/]+/[^/]+/", mail.outbox[0].body)


def test_last_administrator_cannot_be_demoted_or_removed(authority, member, client_for):
    admin = member(authority, role=Role.ADMINISTRATOR)
    with tenant_context(authority.pk):
        own = Membership.objects.get(user=admin)
    client = client_for(admin)
    response = client.post(f"/parametres/membres/{own.pk}/", {"role": "agent"}, follow=True)
    assert "au moins un administrateur" in response.content.decode()
    response = client.post(f"/parametres/membres/{own.pk}/", {"remove": "1"}, follow=True)
    assert "au moins un administrateur" in response.content.decode()
    with tenant_context(authority.pk):
        assert Membership.objects.get(pk=own.pk).role == Role.ADMINISTRATOR


def test_authority_settings_reject_a_bad_insee_code_in_french(authority, member, client_for):
    client = client_for(member(authority, role=Role.ADMINISTRATOR))
    response = client.post(
        "/parametres/collectivite/",
        {"name": "Commune A", "kind": "commune", "insee_code": "123", "siren": "", "population": ""},
    )
    assert "Le code INSEE comporte 5 caractères" in response.content.decode()
    authority.refresh_from_db()
    assert authority.insee_code == ""


def test_password_reset_sends_a_link_that_sets_a_new_password(authority, member):
    user = member(authority)
    client = Client()
    client.post("/mot-de-passe/oublie/", {"email": user.email})
    link = re.search(r"http://testserver(/mot-de-passe/nouveau/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Choisir un mot de passe" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Un-nouveau-mot-de-passe-2026", "new_password2": "Un-nouveau-mot-de-passe-2026"},
    )
    assert done.status_code == 302
    assert Client().login(username=user.email, password="Un-nouveau-mot-de-passe-2026")


def test_staff_see_every_authority_in_the_admin(authority, other_authority, member):
    JobFactory(authority=authority)
    JobFactory(authority=other_authority)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/jobs/job/")
    assert page.status_code == 200
    assert "2 travaux" in page.content.decode()


def test_unknown_page_is_a_french_404(authority, member, client_for):
    response = client_for(member(authority)).get("/n-existe-pas/")
    assert response.status_code == 404
