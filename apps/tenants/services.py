"""Writes on authorities and memberships."""

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction

from .models import Membership

Role = Membership.Role


class LastAdministratorError(Exception):
    """An authority must keep at least one administrator."""

    message = "La collectivité doit garder au moins un administrateur."


def add_member(*, authority, email: str, role: str, request=None) -> Membership:
    """Give a person a role; a new person receives an e-mail to choose a password."""
    users = get_user_model()
    email = email.strip().lower()
    user = users.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = users.objects.create_user(email=email)  # no usable password until they choose one
    membership, _ = Membership.objects.update_or_create(authority=authority, user=user, defaults={"role": role})
    if created:
        transaction.on_commit(lambda: send_invitation(email, request))
    return membership


class InvitationForm(PasswordResetForm):
    """Password reset that also reaches people who never had a password (new members)."""

    def get_users(self, email):
        return get_user_model()._default_manager.filter(email__iexact=email, is_active=True)


def send_invitation(email: str, request=None) -> None:
    form = InvitationForm({"email": email})
    if form.is_valid():
        form.save(
            request=request,
            use_https=bool(request and request.is_secure()),
            subject_template_name="registration/invitation_subject.txt",
            email_template_name="registration/invitation_email.txt",
        )


def _would_orphan(membership: Membership, new_role: str | None) -> bool:
    if membership.role != Role.ADMINISTRATOR or new_role == Role.ADMINISTRATOR:
        return False
    others = Membership.objects.filter(role=Role.ADMINISTRATOR).exclude(pk=membership.pk)
    return not others.exists()


def change_role(*, membership: Membership, role: str) -> Membership:
    if _would_orphan(membership, role):
        raise LastAdministratorError
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


def remove_member(*, membership: Membership) -> None:
    if _would_orphan(membership, None):
        raise LastAdministratorError
    membership.delete()
