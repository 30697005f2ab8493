import factory
from django.contrib.auth import get_user_model

from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority, Membership


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authority

    name = factory.Sequence(lambda n: f"Commune n°{n}")
    slug = factory.Sequence(lambda n: f"commune-{n}")
    kind = Authority.Kind.COMMUNE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@mairie.example.fr")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Agent{n}")
    password = factory.PostGenerationMethodCall("set_password", "mot-de-passe-de-test")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates tenant rows inside their authority's context, as the application would."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenant_context(kwargs["authority"].pk):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    authority = factory.SubFactory(AuthorityFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.AGENT


class JobFactory(TenantFactory):
    class Meta:
        model = Job

    authority = factory.SubFactory(AuthorityFactory)
    kind = "platform.diagnostic"
