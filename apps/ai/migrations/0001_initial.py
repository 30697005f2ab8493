"""Conversations and generations move from the assistant to the model-call platform. State only: the
tables (assistant_conversation, assistant_generation), their indexes and their row-level security
policies stay exactly as the assistant created them; nothing is rewritten."""

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models

MOVED = ("conversation", "generation")


def move_content_types(apps, schema_editor):
    """Permissions and admin history follow the models (a fresh database has none yet)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.using(schema_editor.connection.alias).filter(
        app_label="assistant", model__in=MOVED).update(app_label="ai")


def restore_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.using(schema_editor.connection.alias).filter(
        app_label="ai", model__in=MOVED).update(app_label="assistant")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("assistant", "0002_generation_tasks_of_other_apps"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0001_initial"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Conversation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200, verbose_name='titre')),
                        ('collections', models.JSONField(blank=True, default=list, verbose_name='collections interrogées')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='créée le')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='mise à jour le')),
                        ('authority', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, to='tenants.authority', verbose_name='collectivité')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='utilisateur')),
                    ],
                    options={
                        'verbose_name': 'conversation',
                        'db_table': 'assistant_conversation',
                        'verbose_name_plural': 'conversations',
                        'ordering': ['-updated_at', '-id'],
                    },
                    managers=[
                        ('objects', django.db.models.manager.Manager()),
                        ('all_tenants', django.db.models.manager.Manager()),
                    ],
                ),
                migrations.CreateModel(
                    name='Generation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('task', models.CharField(choices=[('answer', 'Question'), ('summary', 'Résumé'), ('key_points', 'Points clés'), ('plain_language', 'Reformulation en langage clair'), ('compare', 'Comparaison'), ('minutes', 'Compte rendu'), ('email', 'Courriel'), ('spelling', 'Correction'), ('extraction', 'Extraction de délibérations'), ('matiere', 'Suggestion de matière')], max_length=20, verbose_name='tâche')),
                        ('mode', models.CharField(choices=[('generative', 'IA générative'), ('extractive', 'Extraits (sans IA générative)')], default='generative', max_length=12, verbose_name='mode')),
                        ('input', models.JSONField(default=dict, verbose_name='demande')),
                        ('query', models.TextField(blank=True, verbose_name='recherche effectuée')),
                        ('template', models.CharField(blank=True, max_length=60, verbose_name='modèle de consigne')),
                        ('model', models.CharField(blank=True, max_length=200, verbose_name="modèle d'IA")),
                        ('route', models.CharField(blank=True, max_length=60, verbose_name="route d'inférence")),
                        ('sources', models.JSONField(blank=True, default=list, verbose_name='sources fournies')),
                        ('output', models.TextField(blank=True, verbose_name='réponse')),
                        ('result', models.JSONField(blank=True, default=dict, verbose_name='résultat structuré')),
                        ('confidence', models.FloatField(blank=True, null=True, verbose_name='confiance de la recherche')),
                        ('invalid_citations', models.JSONField(blank=True, default=list, verbose_name='citations invalides retirées')),
                        ('flagged', models.BooleanField(default=False, verbose_name='à vérifier')),
                        ('outcome', models.CharField(choices=[('pending', 'En attente'), ('running', 'En cours'), ('waiting', "En attente du service d'IA"), ('done', 'Terminé'), ('abstained', 'Pas de réponse dans les sources'), ('refused', 'Refusé'), ('failed', 'Échec')], db_index=True, default='pending', max_length=10, verbose_name='issue')),
                        ('error', models.TextField(blank=True, verbose_name='erreur')),
                        ('pseudonymised', models.PositiveIntegerField(default=0, verbose_name='données personnelles masquées')),
                        ('prompt_tokens', models.PositiveIntegerField(default=0, verbose_name='jetons en entrée')),
                        ('completion_tokens', models.PositiveIntegerField(default=0, verbose_name='jetons générés')),
                        ('tokens_estimated', models.BooleanField(default=False, verbose_name='jetons estimés')),
                        ('latency_ms', models.PositiveIntegerField(default=0, verbose_name='durée de génération (ms)')),
                        ('energy_wh', models.FloatField(default=0, verbose_name='énergie estimée (Wh)')),
                        ('co2_g', models.FloatField(default=0, verbose_name='CO₂ estimé (g)')),
                        ('rating', models.SmallIntegerField(blank=True, choices=[(1, 'Utile'), (-1, 'Pas utile')], null=True, verbose_name='avis')),
                        ('rating_reason', models.CharField(blank=True, max_length=500, verbose_name="motif de l'avis")),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='demandé le')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='terminé le')),
                        ('authority', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, to='tenants.authority', verbose_name='collectivité')),
                        ('conversation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='generations', to='ai.conversation')),
                        ('job', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.job')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='demandé par')),
                    ],
                    options={
                        'verbose_name': 'génération',
                        'db_table': 'assistant_generation',
                        'verbose_name_plural': 'générations',
                        'ordering': ['-created_at', '-id'],
                    },
                    managers=[
                        ('objects', django.db.models.manager.Manager()),
                        ('all_tenants', django.db.models.manager.Manager()),
                    ],
                ),
                migrations.AddIndex(
                    model_name='conversation',
                    index=models.Index(fields=['authority', 'user', '-updated_at'], name='conversation_user_recent'),
                ),
                migrations.AddIndex(
                    model_name='generation',
                    index=models.Index(fields=['authority', '-created_at'], name='generation_authority_recent'),
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
