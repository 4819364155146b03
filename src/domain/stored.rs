//! The enums the database stores as text (statuses, kinds, roles, visibilities, ...), each
//! declared once with [`stored_enum!`]: the wire name a client sees is the text the database
//! holds. They sit beside the layers because the `db` rows, the services and the API types all
//! use them.

/// Declares an enum stored as text: the variants with their docs and wire names, from which
/// come serde and the OpenAPI schema (the wire names), `ALL`, `as_str`/`Display`,
/// `from_wire`, and diesel's `ToSql`/`FromSql` for `Text` on every backend (so row structs
/// hold the enum, not a string). Text in the database that names no variant is a
/// deserialization error, which the service answers as an internal error (logged).
///
/// The wire name is matched as a `tt`, not a `literal`: utoipa's derive does not look inside
/// the invisible group a `literal` fragment arrives in, and would publish the Rust names.
#[macro_export]
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[doc = $doc:literal])* $variant:ident = $wire:tt,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[doc = $doc])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];

            /// The wire name, which is also the text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The value with this wire name, if there is one.
            pub fn from_wire(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                Self::from_wire(&text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " {:?} in the database"), text)
                        .into()
                })
            }
        }
    };
}

/// A status with a workflow: which statuses may follow each one. The service checks every
/// move against it in one place (`service::check_transition`).
pub trait Workflow: Copy + Eq + std::fmt::Display + 'static {
    /// What the record is called in a problem's detail ("a centre cannot go from …").
    const WHAT: &'static str;
    /// The request field that names the status to move to.
    const FIELD: &'static str = "status";
    /// The statuses this one may move to; empty when it is final.
    fn next(self) -> &'static [Self];
}

// Accounts.

stored_enum! {
    pub enum Role {
        /// Manages the organization and its members.
        Admin = "admin",
        /// At a university: the industry-liaison office; at a company: posts and manages needs.
        Staff = "staff",
        /// A professor at a university.
        Faculty = "faculty",
    }
}

// The audit log.

stored_enum! {
    pub enum AuditAction {
        Create = "create",
        Update = "update",
        Delete = "delete",
        Restore = "restore",
    }
}

stored_enum! {
    /// What kind of record an entry is about.
    pub enum AuditEntity {
        Center = "center",
        FundedProject = "funded_project",
        Payment = "payment",
        Engagement = "engagement",
        Membership = "membership",
        /// An invitation to join an organization (created, then accepted, declined or revoked).
        Invitation = "invitation",
        Need = "need",
        Organization = "organization",
        /// Who owns a faculty profile: linking it to an account, or unlinking it.
        FacultyProfile = "faculty_profile",
        ComputeResource = "compute_resource",
        /// A request for compute and every decision on it.
        ComputeAllocation = "compute_allocation",
        /// An organization's webhook endpoint (registered, changed, disabled, deleted).
        WebhookEndpoint = "webhook_endpoint",
    }
}

// Centres.

stored_enum! {
    /// Who may see a centre or a funded project.
    pub enum ParticipantVisibility {
        /// Anyone, signed in or not.
        Public = "public",
        /// Only participants: the host (or performing) university's admins and staff, the
        /// partner (or sponsor) organizations' members, the faculty involved, and operators.
        Participants = "participants",
    }
}

stored_enum! {
    /// planned → active | closed; active → renewing | closed; renewing → active | closed;
    /// closed is final.
    #[derive(PartialOrd, Ord)]
    pub enum CenterStatus {
        Planned = "planned",
        Active = "active",
        Renewing = "renewing",
        Closed = "closed",
    }
}

impl Workflow for CenterStatus {
    const WHAT: &'static str = "centre";
    fn next(self) -> &'static [Self] {
        match self {
            Self::Planned => &[Self::Active, Self::Closed],
            Self::Active => &[Self::Renewing, Self::Closed],
            Self::Renewing => &[Self::Active, Self::Closed],
            Self::Closed => &[],
        }
    }
}

stored_enum! {
    #[derive(PartialOrd, Ord)]
    pub enum PartnerRole {
        FoundingSponsor = "founding_sponsor",
        Member = "member",
    }
}

// Engagements.

stored_enum! {
    /// Where an engagement stands. `agreed`, `declined` and `closed` are final.
    #[derive(Hash)]
    pub enum EngagementState {
        /// The company's own note: the professor does not see it.
        Shortlisted = "shortlisted",
        /// The company invited the professor; the professor now sees the need, even if confidential.
        Invited = "invited",
        /// The professor is interested (after an invitation, or on their own initiative).
        Interested = "interested",
        /// The professor declined the invitation.
        Declined = "declined",
        /// The company recorded an agreement.
        Agreed = "agreed",
        /// Ended without agreement (by the company, or by the professor withdrawing interest).
        Closed = "closed",
    }
}

stored_enum! {
    /// Why a professor declined an invitation (`other` needs `reason_text`).
    pub enum DeclineReason {
        NoCapacity = "no_capacity",
        OutOfScope = "out_of_scope",
        Timeline = "timeline",
        Budget = "budget",
        ConfidentialityTerms = "confidentiality_terms",
        Other = "other",
    }
}

// Faculty profiles.

stored_enum! {
    /// Ways of working together, shared by profiles (availability) and needs (what is sought).
    #[derive(Hash, PartialOrd, Ord)]
    pub enum CollaborationType {
        SponsoredResearch = "sponsored_research",
        Consulting = "consulting",
        JointLab = "joint_lab",
        StudentInternships = "student_internships",
        Licensing = "licensing",
    }
}

stored_enum! {
    pub enum ProfileVisibility {
        /// Anyone, signed in or not.
        Public = "public",
        /// Any signed-in user.
        Members = "members",
    }
}

// Invitations.

stored_enum! {
    pub enum InvitationStatus {
        /// Waiting for the invited account to accept or decline.
        Pending = "pending",
        /// The account accepted and is a member.
        Accepted = "accepted",
        /// The account declined; nothing changed.
        Declined = "declined",
        /// The organization's admin withdrew it before it was answered.
        Revoked = "revoked",
        /// Not answered within its lifetime: it can no longer be accepted or declined, and
        /// inviting the address again renews it. Never stored: a pending invitation reads as
        /// expired once its time has passed.
        Expired = "expired",
    }
}

// Needs.

stored_enum! {
    /// draft → open → closed | awarded; a draft may also be withdrawn (closed).
    pub enum NeedStatus {
        Draft = "draft",
        Open = "open",
        Closed = "closed",
        Awarded = "awarded",
    }
}

impl Workflow for NeedStatus {
    const WHAT: &'static str = "need";
    fn next(self) -> &'static [Self] {
        match self {
            Self::Draft => &[Self::Open, Self::Closed],
            Self::Open => &[Self::Closed, Self::Awarded],
            Self::Closed | Self::Awarded => &[],
        }
    }
}

stored_enum! {
    pub enum NeedVisibility {
        /// Anyone (once the need is no longer a draft).
        Public = "public",
        /// Any signed-in user.
        Members = "members",
        /// Only the company's own members, platform operators and invited faculty.
        Confidential = "confidential",
    }
}

// Organizations.

stored_enum! {
    pub enum OrganizationKind {
        University = "university",
        Company = "company",
        Government = "government",
        Foundation = "foundation",
    }
}

// Funded projects.

stored_enum! {
    pub enum ProjectType {
        SponsoredResearch = "sponsored_research",
        CenterFunding = "center_funding",
        /// A gift, e.g. an alumni-funded research building.
        Donation = "donation",
        GovernmentGrant = "government_grant",
        Consulting = "consulting",
        License = "license",
        InKind = "in_kind",
    }
}

stored_enum! {
    /// proposed → negotiating → active → completed | terminated; proposed and negotiating may
    /// also be terminated.
    pub enum ProjectStatus {
        Proposed = "proposed",
        Negotiating = "negotiating",
        Active = "active",
        Completed = "completed",
        Terminated = "terminated",
    }
}

impl Workflow for ProjectStatus {
    const WHAT: &'static str = "funded project";
    fn next(self) -> &'static [Self] {
        match self {
            Self::Proposed => &[Self::Negotiating, Self::Terminated],
            Self::Negotiating => &[Self::Active, Self::Terminated],
            Self::Active => &[Self::Completed, Self::Terminated],
            Self::Completed | Self::Terminated => &[],
        }
    }
}

stored_enum! {
    pub enum PaymentStatus {
        Scheduled = "scheduled",
        Received = "received",
        Cancelled = "cancelled",
    }
}

// Shared compute.

stored_enum! {
    pub enum ResourceKind {
        /// A cluster of GPU nodes, charged in GPU-hours.
        GpuCluster = "gpu_cluster",
        /// A supercomputer or CPU cluster, charged in node-hours (or GPU-hours).
        HpcSystem = "hpc_system",
        /// A pool of cloud credits.
        CloudCredits = "cloud_credits",
    }
}

stored_enum! {
    /// What a resource's capacity and its allocations count.
    pub enum ComputeUnit {
        GpuHours = "gpu_hours",
        NodeHours = "node_hours",
        Credits = "credits",
    }
}

stored_enum! {
    /// How long an allocation period is: its capacity is granted anew each period.
    pub enum PeriodLength {
        /// Named like `2027-01`.
        Month = "month",
        /// Named like `2027-Q1`.
        Quarter = "quarter",
        /// Named like `2027`.
        Year = "year",
    }
}

stored_enum! {
    pub enum ResourceStatus {
        /// Takes requests.
        Active = "active",
        /// Takes no new requests; its allocations and usage stay.
        Retired = "retired",
    }
}

stored_enum! {
    /// Whose share of a period's capacity an allocation counts against.
    pub enum Sector {
        Academia = "academia",
        Industry = "industry",
    }
}

stored_enum! {
    /// draft → submitted → approved | rejected; approved → active → expired (an approved
    /// allocation that was never activated may expire too).
    pub enum AllocationState {
        Draft = "draft",
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
        Active = "active",
        Expired = "expired",
    }
}

impl Workflow for AllocationState {
    const WHAT: &'static str = "compute allocation";
    const FIELD: &'static str = "to";
    fn next(self) -> &'static [Self] {
        match self {
            Self::Draft => &[Self::Submitted],
            Self::Submitted => &[Self::Approved, Self::Rejected],
            Self::Approved => &[Self::Active, Self::Expired],
            Self::Active => &[Self::Expired],
            Self::Rejected | Self::Expired => &[],
        }
    }
}

impl AllocationState {
    /// The states whose approved amount counts against the period's capacity.
    pub const GRANTED: [Self; 3] = [Self::Approved, Self::Active, Self::Expired];
}

stored_enum! {
    /// Whether a need brings compute to the work or needs it found.
    pub enum ComputeDirection {
        /// The company contributes it (its own GPUs, a cloud credit grant).
        Brings = "brings",
        /// The work needs it, and the company looks for it with the partner.
        Needs = "needs",
    }
}

// Profiles from outside sources.

stored_enum! {
    /// Where a field or publication of a profile came from.
    pub enum DataSource {
        /// Typed through the API by a person.
        Manual = "manual",
        /// A CSV or NDJSON file import.
        Import = "import",
        /// The ORCID public API.
        Orcid = "orcid",
        /// OpenAlex (its API or its snapshot files).
        OpenAlex = "openalex",
    }
}

impl DataSource {
    /// Whether a sync wrote it (and a later sync may change it again).
    pub fn is_synced(self) -> bool {
        matches!(self, Self::Orcid | Self::OpenAlex)
    }
}

stored_enum! {
    /// An outside source a profile is synced from.
    #[derive(Hash, PartialOrd, Ord)]
    pub enum SyncSource {
        /// The ORCID public API (needs the profile's `orcid`).
        Orcid = "orcid",
        /// The OpenAlex API (needs the profile's `openalex_id` or `orcid`).
        OpenAlex = "openalex",
    }
}

impl From<SyncSource> for DataSource {
    fn from(s: SyncSource) -> Self {
        match s {
            SyncSource::Orcid => Self::Orcid,
            SyncSource::OpenAlex => Self::OpenAlex,
        }
    }
}

stored_enum! {
    pub enum SyncJobState {
        /// Waiting for a runner.
        Queued = "queued",
        /// A runner is working through the profiles.
        Running = "running",
        /// Every profile was tried (some may have failed: see `failed` and `errors`).
        Succeeded = "succeeded",
        /// The job could not go on (see `detail`).
        Failed = "failed",
    }
}

stored_enum! {
    pub enum SyncJobKind {
        /// Asked for through the API.
        Request = "request",
        /// The periodic refresh of profiles whose last sync is older than the interval.
        Refresh = "refresh",
    }
}

// Events and notifications.

stored_enum! {
    /// What happened: the type of an event, a notification and a webhook delivery.
    #[derive(Hash, PartialOrd, Ord)]
    pub enum EventType {
        /// A need became open (created open, or a draft opened).
        NeedPublished = "need.published",
        /// An open need was edited.
        NeedUpdated = "need.updated",
        /// A need was closed, awarded or deleted.
        NeedClosed = "need.closed",
        /// An engagement moved (shortlisted, interested, declined, agreed, closed).
        EngagementStateChanged = "engagement.state_changed",
        /// A company invited a professor to a need (an engagement moved to `invited`).
        InvitationReceived = "invitation.received",
        /// A funded project was recorded.
        FundedProjectCreated = "funded_project.created",
        /// A payment of a funded project was received.
        PaymentReceived = "payment.received",
        /// A scheduled payment passed its due date unpaid.
        PaymentOverdue = "payment.overdue",
        /// An active centre's renewal date is within 60 days.
        CenterRenewalDue = "center.renewal_due",
        /// A compute allocation was approved or rejected.
        AllocationDecided = "allocation.decided",
        /// A record newly fits one of the recipient's saved alerts.
        AlertMatched = "alert.matched",
        /// One of the organization's webhook endpoints kept failing and was disabled.
        WebhookDisabled = "webhook.disabled",
    }
}

stored_enum! {
    /// How a user receives one type of event.
    pub enum Delivery {
        /// In the notifications of the API (and the app).
        InApp = "in_app",
        /// In the app, and by e-mail at once.
        Immediate = "immediate",
        /// In the app, and in a daily e-mail digest.
        Daily = "daily",
        /// In the app, and in a weekly e-mail digest.
        Weekly = "weekly",
        /// Not at all.
        None = "none",
    }
}

impl Delivery {
    /// Whether it sends e-mail.
    pub fn mails(self) -> bool {
        matches!(self, Self::Immediate | Self::Daily | Self::Weekly)
    }
}

stored_enum! {
    /// The language a user's e-mails are written in.
    pub enum Language {
        En = "en",
        Ko = "ko",
        /// Traditional Chinese.
        ZhHant = "zh-Hant",
    }
}

stored_enum! {
    /// What a saved alert watches for.
    pub enum AlertKind {
        /// New or changed records that a saved search finds.
        Search = "search",
        /// Profiles whose match score for a need (or needs whose score for a profile) reaches
        /// `min_score`.
        Match = "match",
    }
}

stored_enum! {
    pub enum DeliveryState {
        /// Waiting for its next attempt (or for its endpoint to be enabled again).
        Pending = "pending",
        /// The endpoint answered 2xx.
        Delivered = "delivered",
        /// Every attempt of the retry schedule failed, or the endpoint answered 410 Gone.
        Failed = "failed",
    }
}
