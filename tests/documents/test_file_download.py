"""An uploaded file is shown in the browser only when its type cannot run script from our origin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.services import add_document
from apps.tenants.context import tenant_context

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "content", "inline"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", False),
        ("notes.md", b"# Ordre du jour <script>alert(1)</script>", False),
        ("acte.pdf", b"%PDF-1.4\n%%EOF\n", True),
        ("note.txt", "Délibération".encode(), True),
    ],
)
def test_only_harmless_types_are_shown_inline(authority, agent_client, name, content, inline):
    with tenant_context(authority.pk):
        document, _ = add_document(authority=authority, file=SimpleUploadedFile(name, content), filename=name)
    response = agent_client.get(f"/documents/{document.pk}/fichier/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline" if inline else "attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
