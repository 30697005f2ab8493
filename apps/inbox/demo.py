"""Fictitious citizens' messages for the demo authorities, some answered (with and without an AI draft) and
rated, so that `make run` shows a living inbox and dashboard. Names and addresses are invented (.invalid)."""

from datetime import timedelta

from django.utils import timezone

from . import rules, services
from .ai_share import ALGORITHM_VERSION, ai_share
from .models import Event, Message, Reply, Service
from .publication import public_version

SERVICES = ["Accueil et état civil", "Voirie et espaces verts", "Scolaire et périscolaire", "Urbanisme"]
SIGNATURE = (
    "\n\nJe vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées."
    "\n\nLe secrétariat de mairie"
)

# (days ago, service, name, subject, body, reply or None, AI draft or None, citizen rating, published)
MESSAGES = [
    (
        2,
        "Voirie et espaces verts",
        "Lucie Fontaine",
        "Nid-de-poule rue des Tilleuls",
        "Bonjour, un nid-de-poule s'est formé devant le 12 rue des Tilleuls, à hauteur du passage piéton. "
        "Plusieurs vélos ont failli tomber. Pouvez-vous intervenir ? Merci.",
        None,
        None,
        None,
        False,
    ),
    (
        9,
        "Scolaire et périscolaire",
        "Karim Benali",
        "Facture de cantine de novembre",
        "Madame, Monsieur, la facture de cantine de novembre de ma fille compte 16 repas alors qu'elle était "
        "malade une semaine (certificat médical fourni à l'école). Pouvez-vous corriger la facture ?",
        None,
        None,
        None,
        False,
    ),
    (
        1,
        "",
        "Jeanne Morel",
        "Quand passe le ramassage des encombrants ?",
        "Bonjour, je déménage à la fin du mois et j'ai un vieux canapé à jeter. Quand passe le prochain "
        "ramassage des encombrants dans la commune et faut-il s'inscrire ?",
        None,
        None,
        None,
        True,
    ),
    (
        40,
        "Accueil et état civil",
        "Thomas Girard",
        "Pièces pour un dossier de mariage",
        "Bonjour, nous souhaitons nous marier à la mairie en juin prochain. Quelles pièces devons-nous fournir "
        "et dans quel délai avant la date ?",
        "Madame, Monsieur,\n\nPour un mariage célébré en mairie, chacun des futurs époux fournit une pièce "
        "d'identité, un justificatif de domicile et un extrait d'acte de naissance de moins de trois mois. Le "
        "dossier complet doit être déposé au moins un mois avant la date souhaitée, pour la publication des bans."
        "\n\nLe service de l'état civil vous recevra sur rendez-vous pour vérifier le dossier." + SIGNATURE,
        "Madame, Monsieur,\n\nPour un mariage célébré en mairie, chacun des futurs époux fournit une pièce "
        "d'identité, un justificatif de domicile et un extrait d'acte de naissance de moins de trois mois. Le "
        "dossier complet doit être déposé au moins un mois avant la date souhaitée, pour la publication des bans."
        + SIGNATURE,
        5,
        True,
    ),
    (
        33,
        "Voirie et espaces verts",
        "Paul Lemaire",
        "Lampadaire éteint chemin du Moulin",
        "Bonsoir, le lampadaire au bout du chemin du Moulin ne s'allume plus depuis une semaine. C'est dangereux "
        "la nuit pour les enfants qui rentrent du bus.",
        "Monsieur,\n\nMerci pour votre signalement. Le lampadaire du chemin du Moulin a été signalé à notre "
        "prestataire d'éclairage public, qui interviendra dans la semaine. Nous vous remercions de votre "
        "vigilance." + SIGNATURE,
        "Monsieur,\n\nMerci pour votre signalement. Le lampadaire du chemin du Moulin a été signalé à notre "
        "prestataire d'éclairage public, qui interviendra dans les meilleurs délais. Nous vous remercions de "
        "votre vigilance." + SIGNATURE,
        4,
        False,
    ),
    (
        70,
        "Urbanisme",
        "Sophie Caron",
        "Déclaration préalable pour un abri de jardin",
        "Bonjour, je voudrais installer un abri de jardin de 8 m². Faut-il un permis ou une déclaration ?",
        "Madame,\n\nUn abri de jardin dont la surface est comprise entre 5 et 20 m² relève d'une déclaration "
        "préalable de travaux (formulaire Cerfa 13703). Le dossier se dépose en mairie ou en ligne ; le délai "
        "d'instruction est d'un mois. Le plan local d'urbanisme peut imposer des règles d'implantation : le "
        "service urbanisme peut les vérifier avec vous." + SIGNATURE,
        None,
        5,
        True,
    ),
    (
        95,
        "Scolaire et périscolaire",
        "Nadia Roux",
        "Inscription à l'accueil du mercredi",
        "Bonjour, comment inscrire mon fils de 7 ans à l'accueil de loisirs du mercredi ?",
        "Madame,\n\nL'inscription à l'accueil du mercredi se fait auprès du service périscolaire, avec la "
        "fiche sanitaire et l'attestation d'assurance. Les places sont attribuées dans l'ordre des demandes."
        + SIGNATURE,
        None,
        3,
        False,
    ),
    (
        120,
        "Accueil et état civil",
        "Hugo Lefèvre",
        "Horaires d'ouverture de la mairie",
        "Bonjour, la mairie est-elle ouverte le samedi matin ?",
        "Monsieur,\n\nLe secrétariat de mairie vous accueille le samedi matin de 9 h à 12 h, ainsi que du "
        "lundi au vendredi aux horaires affichés à l'entrée." + SIGNATURE,
        "Monsieur,\n\nLe secrétariat de mairie vous accueille le samedi matin de 9 h à 12 h, ainsi que du "
        "lundi au vendredi aux horaires affichés à l'entrée." + SIGNATURE,
        2,
        False,
    ),
]


def seed_demo_inbox(authority, user) -> int:
    """Call inside the authority's tenant context; does nothing if it already has messages."""
    if Message.objects.exists():
        return 0
    services.update_settings(
        authority=authority,
        reply_days=rules.reply_days(authority),
        retention_months=rules.retention_months(authority),
        service_names=SERVICES,
    )
    by_name = {service.name: service for service in Service.objects.all()}
    now = timezone.now()
    for n, (days_ago, service, name, subject, body, reply, draft, rating, published) in enumerate(MESSAGES):
        email = f"{name.split()[0].lower()}.{n}@exemple.invalid"
        message, _ = services.receive_message(
            authority=authority,
            sender_name=name,
            sender_email=email,
            subject=subject,
            body=body,
            service=by_name.get(service),
            consent_publication=published or n == 2,
            channel=Message.Channel.FORM,
        )
        received = now - timedelta(days=days_ago, hours=3 * n)
        Message.objects.filter(pk=message.pk).update(
            received_at=received, due_on=rules.due_on(authority, timezone.localtime(received).date())
        )
        Event.objects.filter(message=message).update(at=received)
        if reply is None:
            continue
        # The Services Publics+ pattern, made up: replies drafted with the AI leave sooner.
        sent = received + (timedelta(days=1, hours=2 + n) if draft else timedelta(days=3, hours=5 + n))
        share = ai_share(draft, reply).percent if draft else None
        created = Reply.objects.create(
            authority=authority,
            message=message,
            text=reply,
            draft_text=draft or "",
            ai_share=share,
            ai_share_version=ALGORITHM_VERSION if draft else "",
            sent_by=user,
            published=published,
            published_title=public_version(subject, reply)[0] if published else "",
            published_text=public_version(subject, reply)[1] if published else "",
            citizen_rating=rating,
            citizen_rated_at=sent + timedelta(days=1) if rating else None,
            emailed_at=sent,
        )
        Reply.objects.filter(pk=created.pk).update(sent_at=sent)
        event = services.record_event(message, Event.Kind.SENT, user, reply=created.pk, ai_share=share)
        Event.objects.filter(pk=event.pk).update(at=sent)
        Message.objects.filter(pk=message.pk).update(state=Message.State.REPLIED, replied_at=sent)
    return len(MESSAGES)
