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
    UpdateOrganization { organization_id: &'a str },
    DeleteOrganization { organization_id: &'a str },
    ViewMembers { organization_id: &'a str },
    ManageMembers { organization_id: &'a str },
}

/// Allows or refuses an action: 401 without a caller, 403 when the caller may not.
pub fn authorize(caller: Option<&Caller>, action: Action<'_>) -> AppResult<()> {
    let Some(caller) = caller else {
        return Err(AppError::unauthenticated("no credentials"));
    };
    if caller.is_platform_operator {
        return Ok(());
    }
    let allowed = match action {
        // Organizations are the roots of every right; only operators create or delete them.
        Action::CreateOrganization | Action::DeleteOrganization { .. } => false,
        Action::UpdateOrganization { organization_id }
        | Action::ManageMembers { organization_id } => caller.is_admin_of(organization_id),
        Action::ViewMembers { organization_id } => caller.role_in(organization_id).is_some(),
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
        }))
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
