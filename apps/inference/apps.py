from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "apps.inference"
    verbose_name = "Passerelle d'inférence"
