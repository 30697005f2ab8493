"""Create the demo authorities and account (idempotent) and print how to sign in."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand

from apps.deliberations.imports.services import start_import
from apps.deliberations.models import ScdlImport
from apps.documents.models import Collection, Document
from apps.documents.services import add_uploads
from apps.inbox.demo import seed_demo_inbox
from apps.jobs.models import Job
from apps.jobs.services import enqueue_job
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority, Membership

DEMO_EMAIL = "secretaire@demo.registre.fr"
DEMO_PASSWORD = "registre-demo-2026"  # noqa: S105 - a published demo credential, local runs only
DEMO_AUTHORITIES = [
    {
        "slug": "couthenans",
        "name": "Commune de Couthenans",
        "kind": Authority.Kind.COMMUNE,
        "contact_email": "mairie@couthenans.demo.registre.fr",
        "role": Membership.Role.ADMINISTRATOR,
    },
    {
        "slug": "avranches",
        "name": "Ville d'Avranches",
        "kind": Authority.Kind.COMMUNE,
        "contact_email": "mairie@avranches.demo.registre.fr",
        "role": Membership.Role.AGENT,
    },
    # Two real open-data registers: their published acts feed the public register and « how did
    # others decide? » for the communes above.
    {
        "slug": "rennes",
        "name": "Ville de Rennes",
        "kind": Authority.Kind.COMMUNE,
        "siren": "213502388",
        "population": 225081,
        "contact_email": "mairie@rennes.demo.registre.fr",
        "role": Membership.Role.AGENT,
    },
    {
        "slug": "saint-etienne-metropole",
        "name": "Saint-Étienne Métropole",
        "kind": Authority.Kind.INTERCOMMUNALITE,
        "siren": "244200770",
        "population": 404000,
        "contact_email": "contact@sem.demo.registre.fr",
        "role": Membership.Role.AGENT,
    },
]
# Real public minutes beside the repository (../shared/data), indexed by the worker on first run.
SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
DEMO_DOCUMENTS = {
    "couthenans": (
        "Comptes rendus du conseil",
        Document.Kind.COMPTE_RENDU,
        sorted((SHARED_DATA / "pdf-couthenans").glob("*.pdf")),
    ),
    "avranches": (
        "Procès-verbaux",
        Document.Kind.PROCES_VERBAL,
        sorted((SHARED_DATA / "proces-verbaux").glob("*.txt"))[-2:],
    ),
}
# SCDL files imported (and published) into the demo registers, through the real import job.
DEMO_REGISTERS = {
    "rennes": SHARED_DATA / "scdl" / "deliberations-ville-de-rennes-extrait-152.json",
    "saint-etienne-metropole": SHARED_DATA / "scdl" / "deliberations-saint-etienne-metropole-2022.csv",
}


class Command(BaseCommand):
    help = "Create demo authorities and a demo user (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        users = get_user_model()
        user = users.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = users.objects.create_user(
                email=DEMO_EMAIL, password=DEMO_PASSWORD, first_name="Camille", last_name="Martin"
            )
        for spec in DEMO_AUTHORITIES:
            spec = dict(spec)
            role = spec.pop("role")
            authority, _ = Authority.objects.get_or_create(slug=spec["slug"], defaults=spec)
            with tenant_context(authority.pk):
                Membership.objects.get_or_create(authority=authority, user=user, defaults={"role": role})
                if not Job.objects.exists():
                    enqueue_job(authority=authority, kind="platform.diagnostic", created_by=user)
                if not Document.objects.exists() and authority.slug in DEMO_DOCUMENTS:
                    self._add_demo_documents(authority, user)
                if authority.slug in DEMO_DOCUMENTS and seed_demo_inbox(authority, user):
                    self.stdout.write(f"{authority.name} : messages d'habitants de démonstration ajoutés.")
                if not ScdlImport.objects.exists() and DEMO_REGISTERS.get(authority.slug, Path()).is_file():
                    self._import_demo_register(authority, user)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nRegistre est prêt : {url}\n"
                f"  Adresse électronique : {DEMO_EMAIL}\n"
                f"  Mot de passe         : {DEMO_PASSWORD}\n"
                f"  Documentation de l'API : {url}api/docs/\n"
            )
        )

    def _add_demo_documents(self, authority, user):
        collection_name, kind, paths = DEMO_DOCUMENTS[authority.slug]
        if not paths:
            return
        collection = Collection.objects.create(
            authority=authority, name=collection_name, visibility=Collection.Visibility.PUBLIC
        )
        files = [SimpleUploadedFile(path.name, path.read_bytes()) for path in paths]
        add_uploads(
            authority=authority, files=files, created_by=user, collection=collection, kind=kind, source="démonstration"
        )
        self.stdout.write(f"{authority.name} : {len(files)} documents de démonstration en cours d'indexation.")

    def _import_demo_register(self, authority, user):
        path = DEMO_REGISTERS[authority.slug]
        upload = SimpleUploadedFile(path.name, path.read_bytes())
        start_import(
            authority=authority,
            source=ScdlImport.Source.UPLOAD,
            created_by=user,
            file=upload,
            filename=path.name,
            publish=True,
        )
        self.stdout.write(f"{authority.name} : import SCDL de démonstration en cours ({path.name}).")
