"""The demo data `make run` creates: idempotent, and the printed credentials work."""

import pytest
from django.core.management import call_command
from django.test import Client

from apps.deliberations.models import Deliberation, ScdlImport
from apps.documents.models import Document
from apps.inbox.demo import MESSAGES
from apps.inbox.models import Message, Reply
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_its_credentials_log_in(
    settings, tmp_path, capsys, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.core.management.commands import seed_demo

    settings.MEDIA_ROOT = tmp_path
    settings.DELIB_FETCH_ATTACHMENTS = False  # the acts' PDFs are on the Internet, closed to tests
    # Fewer documents than the real demo: the local embedder takes about a second per passage.
    for slug, (name, kind, paths) in list(seed_demo.DEMO_DOCUMENTS.items()):
        monkeypatch.setitem(seed_demo.DEMO_DOCUMENTS, slug, (name, kind, paths[:2] if slug == "couthenans" else []))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        call_command("seed_demo")
    output = capsys.readouterr().out
    email = output.split("Adresse électronique : ")[1].split()[0]
    password = output.split("Mot de passe         : ")[1].split()[0]
    assert Client().login(username=email, password=password)
    couthenans = Authority.objects.get(slug="couthenans")
    with tenant_context(couthenans.pk):
        states = list(Document.objects.values_list("state", flat=True))
    assert len(states) == 2 and set(states) == {"indexed"}
    with tenant_context(couthenans.pk):  # a living inbox and dashboard, seeded once
        messages = list(Message.objects.values_list("state", flat=True))
        assert len(messages) == len(MESSAGES) and messages.count("replied") == 5
        assert Reply.objects.filter(ai_share__isnull=False, citizen_rating__isnull=False).count() == 3
    rennes, metropole = Authority.objects.get(slug="rennes"), Authority.objects.get(slug="saint-etienne-metropole")
    with tenant_context(rennes.pk):
        assert ScdlImport.objects.count() == 1  # seeding again imports nothing twice
        assert Deliberation.objects.filter(published=True).count() == 152
        assert Deliberation.objects.filter(matiere_code="7.10").count() == 11
    with tenant_context(metropole.pk):
        report = ScdlImport.objects.get().report
        assert report["rows"] == 80 and report["invalid"] == 80  # the real file fails the schema's checks
