"""axe-core (WCAG 2.1 A/AA) on the import pages in headless Chromium: the form (with its errors), the list,
a report with issues, and a running import whose progress updates without a reload."""

import pytest

from apps.deliberations.imports.services import start_import
from apps.deliberations.models import ScdlImport
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership
from tests.browser import axe_violations
from tests.system_tools import needs

from .support import SAINT_ETIENNE, upload

pytestmark = [
    needs("chromium"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(signed_in, authority, member):
    return signed_in(member(authority, role=Membership.Role.AGENT))


def test_the_form_with_its_errors_then_the_report_have_no_wcag_violation(page, live_server, authority):
    page.goto(f"{live_server.url}/deliberations/imports/nouveau/")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Lancer l'import").click()  # nothing given: errors shown
    assert page.locator(".notice-error").count() == 1
    assert axe_violations(page) == []
    page.get_by_label("Fichier SCDL").set_input_files(str(SAINT_ETIENNE))
    page.get_by_role("button", name="Lancer l'import").click()  # the job runs in-process at commit
    page.wait_for_selector("text=Détail des problèmes", timeout=30_000)
    assert page.locator("table.issues tbody tr").count() == 100
    assert axe_violations(page) == []
    page.get_by_role("link", name="Page suivante").first.click()
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/deliberations/imports/")
    assert axe_violations(page) == []


def test_a_running_import_shows_its_progress_then_its_report_without_reload(page, live_server, authority):
    from apps.jobs.models import Job

    with tenant_context(authority.pk):
        scdl_import = start_import(
            authority=authority, source=ScdlImport.Source.UPLOAD, file=upload(SAINT_ETIENNE.read_bytes(), "sem.csv")
        )
    with tenant_context(authority.pk):  # shown as still running, as if a worker were at work
        Job.objects.filter(pk=scdl_import.job_id).update(state="running", progress=40, message="32 lignes vérifiées")
    page.goto(f"{live_server.url}/deliberations/imports/{scdl_import.pk}/")
    assert page.locator("progress[value='40']").count() == 1
    assert axe_violations(page) == []
    page.evaluate("window.notReloaded = true")
    with tenant_context(authority.pk):
        Job.objects.filter(pk=scdl_import.job_id).update(state="succeeded", progress=100)
    page.wait_for_selector("text=Lignes en erreur (non importées)", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    assert axe_violations(page) == []
