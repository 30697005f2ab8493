"""OpenID Connect login (ProConnect): people are matched to accounts by e-mail address.

Access still comes from memberships: a person who signs in through ProConnect but belongs to
no authority sees the "no authority" page until an administrator adds them.
"""

from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class RegistreOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip().lower()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims):
        return self.UserModel.objects.create_user(
            email=claims["email"].strip().lower(),
            first_name=claims.get("given_name", "")[:150],
            last_name=(claims.get("usual_name") or claims.get("family_name") or "")[:150],
        )

    def update_user(self, user, claims):
        user.first_name = claims.get("given_name", user.first_name)[:150]
        user.last_name = (claims.get("usual_name") or claims.get("family_name") or user.last_name)[:150]
        user.save(update_fields=["first_name", "last_name"])
        return user
