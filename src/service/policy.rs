//! The one place that decides who may do what. Every use case asks here; nothing else
//! compares roles. Object-level rules take the organization concerned.

use crate::dto::accounts::Role;
use crate::dto::engagements::EngagementState;
use crate::dto::faculty::ProfileVisibility;
use crate::dto::needs::NeedVisibility;
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult};

/// An authenticated caller, as loaded for this request (so a disabled user, a removed
/// membership or a revoked operator flag takes effect at once).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub is_platform_operator: bool,
    pub memberships: Vec<CallerMembership>,
}

#[derive(Debug, Clone)]
pub struct CallerMembership {
    pub organization_id: String,
    pub organization_kind: OrganizationKind,
    pub role: Role,
}

impl Caller {
    pub fn role_in(&self, organization_id: &str) -> Option<Role> {
        self.memberships
            .iter()
            .find(|m| m.organization_id == organization_id)
            .map(|m| m.role)
    }

    fn is_admin_of(&self, organization_id: &str) -> bool {
        self.role_in(organization_id) == Some(Role::Admin)
    }
}

/// Everything the policy can be asked.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    CreateOrganization,
    UpdateOrganization {
        organization_id: &'a str,
    },
    /// Change an organization's kind: what its members may do and which records it may hold
    /// follow from the kind, so it is not the organization's own to change.
    ChangeOrganizationKind {
        organization_id: &'a str,
    },
    DeleteOrganization {
        organization_id: &'a str,
    },
    ViewMembers {
        organization_id: &'a str,
    },
    ManageMembers {
        organization_id: &'a str,
    },
    /// Register, change and delete an organization's webhook endpoints and read their
    /// deliveries (which carry everything the organization may read).
    ManageWebhooks {
        organization_id: &'a str,
    },
    /// Make an account a member without its consent (the bootstrap path).
    AddMemberDirectly,
    /// Create a profile at a university, possibly owned by `owner_user_id`.
    CreateFacultyProfile {
        university_id: &'a str,
        owner_user_id: Option<&'a str>,
    },
    EditFacultyProfile {
        university_id: &'a str,
        owner_user_id: Option<&'a str>,
    },
    /// Link a profile of a university to the account `owner_user_id` (`None`: unlink it).
    /// The owner reads the confidential needs the professor was invited to and makes the
    /// professor's moves in engagements, so who owns a profile is not profile content.
    LinkFacultyProfile {
        university_id: &'a str,
        owner_user_id: Option<&'a str>,
    },
    DeleteFacultyProfile {
        university_id: &'a str,
    },
    ImportFaculty {
        university_id: &'a str,
    },
    /// Create, edit, delete needs of a company and invite faculty to them.
    ManageNeeds {
        company_id: &'a str,
    },
    /// Make a move in the engagement workflow (`from: None` creates the engagement) between a
    /// need of `company_id` and a profile owned by `owner_user_id`. Who makes which move is
    /// [`ENGAGEMENT_MOVES`].
    MoveEngagement {
        company_id: &'a str,
        owner_user_id: Option<&'a str>,
        from: Option<EngagementState>,
        to: EngagementState,
    },
    /// Read a university's liaison reports.
    ViewReports {
        university_id: &'a str,
    },
    /// Create, edit, delete the joint lab centres a university hosts.
    ManageCenters {
        university_id: &'a str,
    },
    /// Create, edit, delete the funded projects a university performs, and their payments.
    ManageFundedProjects {
        university_id: &'a str,
    },
    /// Keep a compute resource an organization owns, and decide on what is asked of it:
    /// approve, reject, activate and expire its allocations, import its scheduler usage and
    /// read its whole report.
    ManageCompute {
        owner_id: &'a str,
    },
    /// Ask for compute on behalf of an organization: create, edit, submit and renew its
    /// requests (`requested_by`: who asked for the one at hand; `None` when creating).
    RequestCompute {
        applicant_id: &'a str,
        requested_by: Option<&'a str>,
    },
    /// Bring back something deleted, or look at deleted records.
    Restore,
    /// Follow the periodic sync refresh, which covers every university.
    ViewSyncRefresh,
}

/// Who makes a move in an engagement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The need's company: its admins and staff.
    Company,
    /// The owner of the faculty profile.
    Faculty,
    /// Either of them.
    Either,
}

/// The engagement workflow: every legal move (`None` = the engagement is created in that state)
/// and the side that may make it. Anything not listed is illegal for everybody (409); a listed
/// move made by the wrong side is refused (403). Platform operators may make every listed move.
pub const ENGAGEMENT_MOVES: &[(Option<EngagementState>, EngagementState, Side)] = {
    use EngagementState::*;
    &[
        (None, Shortlisted, Side::Company),
        (None, Invited, Side::Company),
        (None, Interested, Side::Faculty),
        (Some(Shortlisted), Invited, Side::Company),
        // A professor who expresses interest in a need that shortlisted them.
        (Some(Shortlisted), Interested, Side::Faculty),
        (Some(Shortlisted), Closed, Side::Company),
        (Some(Invited), Interested, Side::Faculty),
        (Some(Invited), Declined, Side::Faculty),
        (Some(Invited), Closed, Side::Company),
        (Some(Interested), Agreed, Side::Company),
        // The company ends it, or the professor withdraws their interest.
        (Some(Interested), Closed, Side::Either),
    ]
};

/// Who may move an engagement from `from` to `to`; `None` when nobody may.
pub fn engagement_move(from: Option<EngagementState>, to: EngagementState) -> Option<Side> {
    ENGAGEMENT_MOVES
        .iter()
        .find(|(f, t, _)| *f == from && *t == to)
        .map(|(_, _, side)| *side)
}

/// The states an engagement in `from` may move to (empty when `from` is final).
pub fn engagement_next_states(from: EngagementState) -> Vec<EngagementState> {
    ENGAGEMENT_MOVES
        .iter()
        .filter(|(f, _, _)| *f == Some(from))
        .map(|(_, t, _)| *t)
        .collect()
}

/// Every write needs credentials: 401 before anything is looked up, so an anonymous write
/// is refused the same way whether or not the target is visible to anonymous callers.
pub fn require_signed_in(caller: Option<&Caller>) -> AppResult<&Caller> {
    caller.ok_or_else(|| AppError::unauthenticated("no credentials"))
}

/// Allows or refuses an action: 401 without a caller, 403 when the caller may not.
pub fn authorize(caller: Option<&Caller>, action: Action<'_>) -> AppResult<()> {
    let Some(caller) = caller else {
        return Err(AppError::unauthenticated("no credentials"));
    };
    if caller.is_platform_operator {
        return Ok(());
    }
    let office = |org: &str| matches!(caller.role_in(org), Some(Role::Admin | Role::Staff));
    let owns = |owner: Option<&str>| owner == Some(caller.user_id.as_str());
    let allowed = match action {
        // Organizations are the roots of every right; only operators create or delete them.
        Action::CreateOrganization
        | Action::DeleteOrganization { .. }
        | Action::ChangeOrganizationKind { .. }
        | Action::Restore
        | Action::ViewSyncRefresh => false,
        // Anyone else invites, and an account joins only by accepting: an admin must not
        // enrol other people's accounts, nor learn which addresses have one.
        Action::AddMemberDirectly => false,
        Action::UpdateOrganization { organization_id }
        | Action::ManageMembers { organization_id }
        | Action::ManageWebhooks { organization_id } => caller.is_admin_of(organization_id),
        Action::ViewMembers { organization_id } => caller.role_in(organization_id).is_some(),
        // The liaison office keeps its university's profiles; a professor may create and
        // edit the one profile they own there.
        Action::CreateFacultyProfile {
            university_id,
            owner_user_id,
        } => {
            office(university_id)
                || (caller.role_in(university_id) == Some(Role::Faculty) && owns(owner_user_id))
        }
        Action::EditFacultyProfile {
            university_id,
            owner_user_id,
        } => office(university_id) || owns(owner_user_id),
        // The university's admins (not every member of its office) decide which account is
        // which professor; a professor may link a profile they create to themselves. That the
        // account is the university's faculty member is checked against the data.
        Action::LinkFacultyProfile {
            university_id,
            owner_user_id,
        } => {
            caller.is_admin_of(university_id)
                || (caller.role_in(university_id) == Some(Role::Faculty) && owns(owner_user_id))
        }
        Action::DeleteFacultyProfile { university_id }
        | Action::ImportFaculty { university_id } => office(university_id),
        Action::ManageNeeds { company_id } => office(company_id),
        Action::ViewReports { university_id } => office(university_id),
        Action::MoveEngagement {
            company_id,
            owner_user_id,
            from,
            to,
        } => match engagement_move(from, to) {
            Some(Side::Company) => office(company_id),
            Some(Side::Faculty) => owns(owner_user_id),
            Some(Side::Either) => office(company_id) || owns(owner_user_id),
            None => false,
        },
        // Partners, sponsors and the faculty involved see these records but only the
        // university's liaison office keeps them.
        Action::ManageCenters { university_id }
        | Action::ManageFundedProjects { university_id } => office(university_id),
        Action::ManageCompute { owner_id } => office(owner_id),
        // A university's office and its professors (each for their own requests) apply for
        // academia; a company's admins and staff for industry.
        Action::RequestCompute {
            applicant_id,
            requested_by,
        } => {
            office(applicant_id)
                || (caller.role_in(applicant_id) == Some(Role::Faculty)
                    && requested_by.is_none_or(|r| r == caller.user_id))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(match action {
            Action::CreateOrganization => "Only platform operators create organizations",
            Action::DeleteOrganization { .. } => "Only platform operators delete organizations",
            Action::ChangeOrganizationKind { .. } => {
                "An organization's kind is fixed after creation; only platform operators may correct it"
            }
            Action::UpdateOrganization { .. } => {
                "Only this organization's admins and platform operators may change it"
            }
            Action::ManageMembers { .. } => {
                "Only this organization's admins and platform operators manage its members"
            }
            Action::ManageWebhooks { .. } => {
                "Only this organization's admins and platform operators manage its webhooks"
            }
            Action::ViewMembers { .. } => "Only this organization's members may see its members",
            Action::AddMemberDirectly => {
                "Only platform operators add members directly; invite the address with POST /api/v1/organizations/{id}/invitations, and its account joins by accepting"
            }
            Action::CreateFacultyProfile { .. } => {
                "Only the university's admins and staff (or a professor for their own profile) create profiles there"
            }
            Action::EditFacultyProfile { .. } => {
                "Only the profile's owner and the university's admins and staff may change it"
            }
            Action::LinkFacultyProfile { .. } => {
                "Only the university's admins and platform operators link a profile to an account (owner_user_id); staff edit its content"
            }
            Action::DeleteFacultyProfile { .. } => {
                "Only the university's admins and staff may delete its profiles"
            }
            Action::ImportFaculty { .. } => {
                "Only the university's admins and staff may import its profiles"
            }
            Action::ManageNeeds { .. } => "Only the company's admins and staff manage its needs",
            Action::MoveEngagement { from, to, .. } => match engagement_move(from, to) {
                Some(Side::Company) => {
                    "Only the need's company (its admins and staff) may make this move"
                }
                Some(Side::Faculty) => "Only the profile's owner may make this move",
                Some(Side::Either) => {
                    "Only the need's company or the profile's owner may make this move"
                }
                None => "Nobody may make this move",
            },
            Action::ViewReports { .. } => {
                "Only the university's admins and staff (and operators) read its reports"
            }
            Action::ManageCenters { .. } => {
                "Only the host university's admins and staff manage its centres"
            }
            Action::ManageFundedProjects { .. } => {
                "Only the performing university's admins and staff manage its funded projects"
            }
            Action::ManageCompute { .. } => {
                "Only the resource owner's admins and staff keep it and decide on its allocations"
            }
            Action::RequestCompute { .. } => {
                "Only the applicant organization's admins and staff (or, at a university, the professor who asked) apply for compute for it"
            }
            Action::Restore => "Only platform operators see and restore deleted records",
            Action::ViewSyncRefresh => "Only platform operators follow the periodic sync refresh",
        }))
    }
}

/// Which profiles a caller may see: public ones for everybody, members-only ones for any
/// signed-in user, deleted ones only for operators who ask.
pub fn faculty_scope(
    caller: Option<&Caller>,
    include_deleted: bool,
) -> AppResult<crate::db::faculty::FacultyScope> {
    if include_deleted {
        authorize(caller, Action::Restore)?;
    }
    Ok(crate::db::faculty::FacultyScope {
        visibilities: match caller {
            None => vec![ProfileVisibility::Public],
            Some(_) => vec![ProfileVisibility::Public, ProfileVisibility::Members],
        },
        include_deleted,
    })
}

/// Which needs a caller may see. Drafts: only the company's members (and operators).
/// Otherwise public needs for everybody, members-only needs for signed-in users, and
/// confidential needs for the company's members and the faculty it invited.
pub fn need_scope(
    caller: Option<&Caller>,
    include_deleted: bool,
) -> AppResult<crate::db::needs::NeedScope> {
    if include_deleted {
        authorize(caller, Action::Restore)?;
    }
    Ok(match caller {
        None => crate::db::needs::NeedScope {
            visibilities: vec![NeedVisibility::Public],
            include_deleted,
            ..Default::default()
        },
        Some(c) if c.is_platform_operator => crate::db::needs::NeedScope {
            all: true,
            include_deleted,
            ..Default::default()
        },
        Some(c) => crate::db::needs::NeedScope {
            all: false,
            visibilities: vec![NeedVisibility::Public, NeedVisibility::Members],
            member_of: c
                .memberships
                .iter()
                .filter(|m| m.organization_kind == OrganizationKind::Company)
                .map(|m| m.organization_id.clone())
                .collect(),
            invited_user: Some(c.user_id.clone()),
            include_deleted,
        },
    })
}

/// Which engagements a caller may see: operators all; a company's members those of its needs;
/// a professor those of the profiles they own once they were invited or said they are
/// interested (a shortlist, even one closed later, is the company's own note); a university's
/// admins and staff (its industry-liaison office) those of its profiles, once disclosed in
/// the same way: they track what comes of their professors' engagements, and may not move
/// them. Anonymous callers none (401).
pub fn engagement_scope(
    caller: Option<&Caller>,
) -> AppResult<crate::db::engagements::EngagementScope> {
    let caller = require_signed_in(caller)?;
    Ok(crate::db::engagements::EngagementScope {
        all: caller.is_platform_operator,
        companies: caller
            .memberships
            .iter()
            .filter(|m| m.organization_kind == OrganizationKind::Company)
            .map(|m| m.organization_id.clone())
            .collect(),
        universities: caller
            .memberships
            .iter()
            .filter(|m| {
                m.organization_kind == OrganizationKind::University
                    && matches!(m.role, Role::Admin | Role::Staff)
            })
            .map(|m| m.organization_id.clone())
            .collect(),
        owner_user_id: caller.user_id.clone(),
        disclosed_by: DISCLOSED_BY.to_vec(),
    })
}

/// An engagement is the professor's business from the first event that reached them: an
/// invitation, or their own interest. What came before (a shortlist, and its closing) is the
/// company's own note.
pub const DISCLOSED_BY: [EngagementState; 2] =
    [EngagementState::Invited, EngagementState::Interested];

/// Whether an engagement in `state` had certainly reached the professor's side: a disclosing
/// state, or one that only moves from disclosed states lead to (declined, agreed). `closed`
/// also ends a shortlist that never reached anybody, so it does not say.
pub fn engagement_disclosed(state: EngagementState) -> bool {
    let mut into = ENGAGEMENT_MOVES
        .iter()
        .filter(|(_, t, _)| *t == state)
        .peekable();
    DISCLOSED_BY.contains(&state)
        || (into.peek().is_some() && into.all(|(f, _, _)| f.is_some_and(engagement_disclosed)))
}

/// Whether a caller with `scope` could see an engagement of a need of `company_id` while it
/// was in `state` (what the audit log asks of each snapshot): the company's side in every
/// state, the professor's side once it was disclosed. Whether they see it now is the scope's
/// to say.
pub fn engagement_state_visible(
    scope: &crate::db::engagements::EngagementScope,
    company_id: &str,
    state: EngagementState,
) -> bool {
    scope.all || scope.companies.iter().any(|c| c == company_id) || engagement_disclosed(state)
}

/// Whether the caller sees the whole history of an engagement on a need of `company_id`:
/// operators and the company's members do; everyone else who sees it (the professor, their
/// university's office) sees it from its first [`DISCLOSED_BY`] event on, so that neither the
/// company's private notes nor when it first considered the professor show.
pub fn sees_whole_engagement(caller: &Caller, company_id: &str) -> bool {
    caller.is_platform_operator || caller.role_in(company_id).is_some()
}

/// Whose audit entries a caller may read: operators all; otherwise those concerning an
/// organization the caller is an admin or staff member of (403 for anyone else, and for an
/// `organization_id` filter naming another organization).
pub fn audit_scope(
    caller: Option<&Caller>,
    organization_id: Option<&str>,
) -> AppResult<crate::db::audit::AuditScope> {
    let caller = require_signed_in(caller)?;
    if caller.is_platform_operator {
        return Ok(crate::db::audit::AuditScope {
            all: true,
            organizations: Vec::new(),
        });
    }
    let organizations: Vec<String> = caller
        .memberships
        .iter()
        .filter(|m| matches!(m.role, Role::Admin | Role::Staff))
        .map(|m| m.organization_id.clone())
        .collect();
    let named_other = organization_id.is_some_and(|o| !organizations.iter().any(|m| m == o));
    if organizations.is_empty() || named_other {
        return Err(AppError::forbidden(
            "Only an organization's admins and staff (and operators) may read its audit log",
        ));
    }
    Ok(crate::db::audit::AuditScope {
        all: false,
        organizations,
    })
}

/// Which centres and funded projects a caller may see: public ones for everybody; for a
/// signed-in caller also those where an organization they act for (as admin or staff) is the
/// host, a partner, the performer or the sponsor, and those where they own the profile of the
/// director, a member, the PI or a co-investigator; everything for operators.
pub fn participant_scope(
    caller: Option<&Caller>,
    include_deleted: bool,
) -> AppResult<crate::db::centers::ParticipantScope> {
    if include_deleted {
        authorize(caller, Action::Restore)?;
    }
    Ok(crate::db::centers::ParticipantScope {
        public: true,
        include_deleted,
        ..participation(caller)
    })
}

/// Only what the caller takes part in (not what is merely public): who sees a project's
/// payments.
pub fn participation(caller: Option<&Caller>) -> crate::db::centers::ParticipantScope {
    match caller {
        None => crate::db::centers::ParticipantScope::default(),
        Some(c) => crate::db::centers::ParticipantScope {
            all: c.is_platform_operator,
            public: false,
            organizations: c
                .memberships
                .iter()
                .filter(|m| matches!(m.role, Role::Admin | Role::Staff))
                .map(|m| m.organization_id.clone())
                .collect(),
            user_id: Some(c.user_id.clone()),
            include_deleted: false,
        },
    }
}

/// Which roles an organization of a kind can grant: `faculty` only at universities.
pub fn role_fits(kind: OrganizationKind, role: Role) -> bool {
    role != Role::Faculty || kind == OrganizationKind::University
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(org: &str, role: Role) -> Caller {
        Caller {
            user_id: "u".into(),
            is_platform_operator: false,
            memberships: vec![CallerMembership {
                organization_id: org.into(),
                organization_kind: OrganizationKind::University,
                role,
            }],
        }
    }

    #[test]
    fn an_engagement_is_disclosed_once_it_was_invited_or_interested() {
        use EngagementState::*;
        let disclosed: Vec<_> = EngagementState::ALL
            .into_iter()
            .filter(|s| engagement_disclosed(*s))
            .collect();
        assert_eq!(disclosed, vec![Invited, Interested, Declined, Agreed]);
    }

    #[test]
    fn only_admins_link_profiles_and_only_operators_change_kinds() {
        let link = |owner| Action::LinkFacultyProfile {
            university_id: "a",
            owner_user_id: owner,
        };
        let kind = Action::ChangeOrganizationKind {
            organization_id: "a",
        };
        assert!(authorize(Some(&member("a", Role::Admin)), link(Some("p"))).is_ok());
        assert!(authorize(Some(&member("a", Role::Admin)), link(None)).is_ok());
        assert!(authorize(Some(&member("b", Role::Admin)), link(Some("p"))).is_err());
        assert!(authorize(Some(&member("a", Role::Staff)), link(Some("p"))).is_err());
        assert!(authorize(Some(&member("a", Role::Staff)), link(Some("u"))).is_err());
        // A professor links a profile to themselves only.
        assert!(authorize(Some(&member("a", Role::Faculty)), link(Some("u"))).is_ok());
        assert!(authorize(Some(&member("a", Role::Faculty)), link(Some("p"))).is_err());
        assert!(authorize(Some(&member("a", Role::Admin)), kind).is_err());
        let operator = Caller {
            is_platform_operator: true,
            ..member("b", Role::Staff)
        };
        assert!(authorize(Some(&operator), kind).is_ok());
        assert!(authorize(Some(&operator), link(Some("p"))).is_ok());
    }

    #[test]
    fn admins_manage_only_their_own_organization() {
        let admin = member("a", Role::Admin);
        assert!(
            authorize(
                Some(&admin),
                Action::ManageMembers {
                    organization_id: "a"
                }
            )
            .is_ok()
        );
        assert!(
            authorize(
                Some(&admin),
                Action::ManageMembers {
                    organization_id: "b"
                }
            )
            .is_err()
        );
        assert!(authorize(Some(&admin), Action::CreateOrganization).is_err());
        let staff = member("a", Role::Staff);
        assert!(
            authorize(
                Some(&staff),
                Action::ManageMembers {
                    organization_id: "a"
                }
            )
            .is_err()
        );
        assert!(
            authorize(
                Some(&staff),
                Action::ViewMembers {
                    organization_id: "a"
                }
            )
            .is_ok()
        );
        assert_eq!(
            authorize(
                None,
                Action::ViewMembers {
                    organization_id: "a"
                }
            )
            .err()
            .map(|e| e.code),
            Some(crate::error::ErrorCode::Unauthenticated)
        );
    }
}
