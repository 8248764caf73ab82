"""All models, importable from one place: ``from app.models import User, Pupil``."""

from app.models.audit import ActivityLog, RetentionRun
from app.models.consent import ConsentMethod, ConsentPurpose, ConsentRecord, PrivacyNotice
from app.models.learning import (
    Activity,
    ActivityKind,
    Award,
    AwardKind,
    Contribution,
    ContributionKind,
    Engagement,
    TopicActivity,
    TopicStatus,
    UsageEvent,
    UsageKind,
    WeeklyTopic,
    topic_classes,
)
from app.models.messaging import Channel, DeliveryStatus, NotificationDelivery, OutboxMessage
from app.models.people import (
    LoginToken,
    RecoveryCode,
    Role,
    StaffMembership,
    TokenPurpose,
    User,
    UserKind,
    UserSession,
    UserStatus,
)
from app.models.privacy import (
    OPEN_STATES,
    Breach,
    BreachDecision,
    DataExport,
    ExportState,
    PrivacyRequest,
    RequestChannel,
    RequestEvent,
    RequestKind,
    RequestState,
)
from app.models.school import (
    Guardianship,
    Invitation,
    InvitationStatus,
    Organisation,
    OrgKind,
    Pupil,
    RemovedBy,
    SchoolClass,
    Source,
    Trust,
    class_teachers,
)
from app.models.types import utcnow

__all__ = [name for name in dir() if not name.startswith("_")]
