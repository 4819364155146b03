//! The one place that decides who may do what. Every use case asks here; nothing else
//! compares roles. Object-level rules take the organization concerned.

use crate::api::accounts::Role;
use crate::api::organizations::OrganizationKind;
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
    DeleteOrganization {
        organization_id: &'a str,
    },
    ViewMembers {
        organization_id: &'a str,
    },
    ManageMembers {
        organization_id: &'a str,
    },
    /// Create a profile at a university, possibly owned by `owner_user_id`.
    CreateFacultyProfile {
        university_id: &'a str,
        owner_user_id: Option<&'a str>,
    },
    EditFacultyProfile {
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
    /// Create, edit, delete the joint lab centres a university hosts.
    ManageCenters {
        university_id: &'a str,
    },
    /// Create, edit, delete the funded projects a university performs, and their payments.
    ManageFundedProjects {
        university_id: &'a str,
    },
    /// Bring back something deleted, or look at deleted records.
    Restore,
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
        Action::CreateOrganization | Action::DeleteOrganization { .. } | Action::Restore => false,
        Action::UpdateOrganization { organization_id }
        | Action::ManageMembers { organization_id } => caller.is_admin_of(organization_id),
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
        Action::DeleteFacultyProfile { university_id }
        | Action::ImportFaculty { university_id } => office(university_id),
        Action::ManageNeeds { company_id } => office(company_id),
        // Partners, sponsors and the faculty involved see these records but only the
        // university's liaison office keeps them.
        Action::ManageCenters { university_id }
        | Action::ManageFundedProjects { university_id } => office(university_id),
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(match action {
            Action::CreateOrganization => "Only platform operators create organizations",
            Action::DeleteOrganization { .. } => "Only platform operators delete organizations",
            Action::UpdateOrganization { .. } => {
                "Only this organization's admins and platform operators may change it"
            }
            Action::ManageMembers { .. } => {
                "Only this organization's admins and platform operators manage its members"
            }
            Action::ViewMembers { .. } => "Only this organization's members may see its members",
            Action::CreateFacultyProfile { .. } => {
                "Only the university's admins and staff (or a professor for their own profile) create profiles there"
            }
            Action::EditFacultyProfile { .. } => {
                "Only the profile's owner and the university's admins and staff may change it"
            }
            Action::DeleteFacultyProfile { .. } => {
                "Only the university's admins and staff may delete its profiles"
            }
            Action::ImportFaculty { .. } => {
                "Only the university's admins and staff may import its profiles"
            }
            Action::ManageNeeds { .. } => "Only the company's admins and staff manage its needs",
            Action::ManageCenters { .. } => {
                "Only the host university's admins and staff manage its centres"
            }
            Action::ManageFundedProjects { .. } => {
                "Only the performing university's admins and staff manage its funded projects"
            }
            Action::Restore => "Only platform operators see and restore deleted records",
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
            None => vec!["public"],
            Some(_) => vec!["public", "members"],
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
            visibilities: vec!["public"],
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
            visibilities: vec!["public", "members"],
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
            .unwrap_err()
            .code,
            crate::error::ErrorCode::Unauthenticated
        );
    }
}
