from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class AgencyKind(models.TextChoices):
    PRISON = "prison", "Kriminalomsorgen"
    NAV = "nav", "NAV"
    HEALTH = "health", "Helse"
    HOUSING = "housing", "Boligkontakt"
    HOSPITAL = "hospital", "Sykehus"
    MUNICIPALITY = "municipality", "Kommune"


class Agency(models.Model):
    """An organisation that works cases: a prison, a NAV office, a health service..."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=AgencyKind.choices)
    municipality = models.CharField(max_length=100, blank=True)
    notification_email = models.EmailField(blank=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency")

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    LEAD = "lead", "Lead"
    COORDINATOR = "coordinator", "Coordinator"
    PROCESS_ADMIN = "process_admin", "Process admin"
    AUDITOR = "auditor", "Auditor"


# Roles that work cases; process admins and auditors never see case data.
CASE_ROLES = (Role.MEMBER, Role.LEAD, Role.COORDINATOR)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="unique_membership_role"),
        ]

    def __str__(self):
        return f"{self.user} {self.role} @ {self.agency}"
