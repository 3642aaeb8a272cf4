//! Roles and permissions as data: which role may do which action. The standard matrix is the
//! starting point; a store may refine it (it is plain data, stored and synced like settings).

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Role {
    Seller,
    Manager,
    Owner,
}

/// Something a user may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Sell,
    TakeCash,
    TakeCard,
    PrintReceipt,
    Reprint,
    VoidLine,
    VoidSale,
    DiscountAboveLimit,
    AuthorizeContingency,
    OpenRegister,
    CloseRegister,
    CancelNote,
    ManageCatalog,
    ManageUsers,
    ManageRoles,
    ManageSettings,
    ViewReports,
    ManageBackups,
    EnrollDevice,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Seller, Role::Manager, Role::Owner];

    pub fn code(self) -> &'static str {
        match self {
            Role::Seller => "seller",
            Role::Manager => "manager",
            Role::Owner => "owner",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::Sell,
        Action::TakeCash,
        Action::TakeCard,
        Action::PrintReceipt,
        Action::Reprint,
        Action::VoidLine,
        Action::VoidSale,
        Action::DiscountAboveLimit,
        Action::AuthorizeContingency,
        Action::OpenRegister,
        Action::CloseRegister,
        Action::CancelNote,
        Action::ManageCatalog,
        Action::ManageUsers,
        Action::ManageRoles,
        Action::ManageSettings,
        Action::ViewReports,
        Action::ManageBackups,
        Action::EnrollDevice,
    ];

    /// Stable code used in audit entries and stored matrices.
    pub fn code(self) -> &'static str {
        match self {
            Action::Sell => "sell",
            Action::TakeCash => "take_cash",
            Action::TakeCard => "take_card",
            Action::PrintReceipt => "print_receipt",
            Action::Reprint => "reprint",
            Action::VoidLine => "void_line",
            Action::VoidSale => "void_sale",
            Action::DiscountAboveLimit => "discount_above_limit",
            Action::AuthorizeContingency => "authorize_contingency",
            Action::OpenRegister => "open_register",
            Action::CloseRegister => "close_register",
            Action::CancelNote => "cancel_note",
            Action::ManageCatalog => "manage_catalog",
            Action::ManageUsers => "manage_users",
            Action::ManageRoles => "manage_roles",
            Action::ManageSettings => "manage_settings",
            Action::ViewReports => "view_reports",
            Action::ManageBackups => "manage_backups",
            Action::EnrollDevice => "enroll_device",
        }
    }
}

/// One cell of the matrix: `role` may perform `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Permission {
    pub role: Role,
    pub action: Action,
}

/// The set of permissions in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionMatrix {
    pub permissions: Vec<Permission>,
    /// Largest total discount (basis points of the gross) a seller may give without a manager.
    pub seller_discount_limit_bp: u32,
}

/// Proof that an actor was authorized for an action. Only [`PermissionMatrix::authorize`] makes
/// one, so an operation that takes a `Grant` cannot run unauthorized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    actor: UserId,
    role: Role,
    action: Action,
}

impl Grant {
    pub fn actor(&self) -> UserId {
        self.actor
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn action(&self) -> Action {
        self.action
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role {role:?} may not {action:?}")]
pub struct Denied {
    pub role: Role,
    pub action: Action,
}

const SELLER: [Action; 5] = [
    Action::Sell,
    Action::TakeCash,
    Action::TakeCard,
    Action::PrintReceipt,
    Action::Reprint,
];
const MANAGER_EXTRA: [Action; 7] = [
    Action::VoidLine,
    Action::VoidSale,
    Action::DiscountAboveLimit,
    Action::AuthorizeContingency,
    Action::OpenRegister,
    Action::CloseRegister,
    Action::CancelNote,
];
const OWNER_EXTRA: [Action; 7] = [
    Action::ManageCatalog,
    Action::ManageUsers,
    Action::ManageRoles,
    Action::ManageSettings,
    Action::ViewReports,
    Action::ManageBackups,
    Action::EnrollDevice,
];

impl PermissionMatrix {
    /// The standard matrix: seller sells, takes cash and card, prints and reprints; manager adds
    /// voids, discounts above the seller limit, contingency, register open/close and note
    /// cancellation; owner adds catalog, users, roles, settings, reports, backups and device
    /// enrollment.
    pub fn standard() -> PermissionMatrix {
        let mut permissions = Vec::new();
        for role in Role::ALL {
            let mut actions: Vec<Action> = SELLER.to_vec();
            if role >= Role::Manager {
                actions.extend(MANAGER_EXTRA);
            }
            if role == Role::Owner {
                actions.extend(OWNER_EXTRA);
            }
            permissions.extend(
                actions
                    .into_iter()
                    .map(|action| Permission { role, action }),
            );
        }
        PermissionMatrix {
            permissions,
            seller_discount_limit_bp: 500,
        }
    }

    pub fn allows(&self, role: Role, action: Action) -> bool {
        self.permissions
            .iter()
            .any(|p| p.role == role && p.action == action)
    }

    pub fn authorize(&self, actor: UserId, role: Role, action: Action) -> Result<Grant, Denied> {
        if self.allows(role, action) {
            Ok(Grant {
                actor,
                role,
                action,
            })
        } else {
            Err(Denied { role, action })
        }
    }

    /// The action a discount of `discount_bp` needs: selling, or a manager's approval above the
    /// seller limit.
    pub fn action_for_discount(&self, discount_bp: u32) -> Action {
        if discount_bp > self.seller_discount_limit_bp {
            Action::DiscountAboveLimit
        } else {
            Action::Sell
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_matrix_cell_by_cell() {
        let m = PermissionMatrix::standard();
        // (action, seller, manager, owner) — the table in ARCHITECTURE.md.
        let table: [(Action, bool, bool, bool); 19] = [
            (Action::Sell, true, true, true),
            (Action::TakeCash, true, true, true),
            (Action::TakeCard, true, true, true),
            (Action::PrintReceipt, true, true, true),
            (Action::Reprint, true, true, true),
            (Action::VoidLine, false, true, true),
            (Action::VoidSale, false, true, true),
            (Action::DiscountAboveLimit, false, true, true),
            (Action::AuthorizeContingency, false, true, true),
            (Action::OpenRegister, false, true, true),
            (Action::CloseRegister, false, true, true),
            (Action::CancelNote, false, true, true),
            (Action::ManageCatalog, false, false, true),
            (Action::ManageUsers, false, false, true),
            (Action::ManageRoles, false, false, true),
            (Action::ManageSettings, false, false, true),
            (Action::ViewReports, false, false, true),
            (Action::ManageBackups, false, false, true),
            (Action::EnrollDevice, false, false, true),
        ];
        for (action, s, mg, o) in table {
            assert_eq!(m.allows(Role::Seller, action), s, "seller {action:?}");
            assert_eq!(m.allows(Role::Manager, action), mg, "manager {action:?}");
            assert_eq!(m.allows(Role::Owner, action), o, "owner {action:?}");
        }
        assert_eq!(
            Action::ALL.len(),
            table.len(),
            "every action is in the table"
        );
    }

    #[test]
    fn authorize_yields_a_grant_or_a_denial() {
        let m = PermissionMatrix::standard();
        let user = UserId::new();
        let g = m
            .authorize(user, Role::Manager, Action::VoidSale)
            .expect("managers void");
        assert_eq!((g.actor(), g.action()), (user, Action::VoidSale));
        assert_eq!(
            m.authorize(user, Role::Seller, Action::VoidSale),
            Err(Denied {
                role: Role::Seller,
                action: Action::VoidSale
            })
        );
    }

    #[test]
    fn discounts_above_the_seller_limit_need_a_manager() {
        let m = PermissionMatrix::standard();
        assert_eq!(m.action_for_discount(500), Action::Sell);
        assert_eq!(m.action_for_discount(501), Action::DiscountAboveLimit);
    }

    #[test]
    fn a_store_can_refine_the_matrix_as_data() {
        let mut m = PermissionMatrix::standard();
        m.permissions.push(Permission {
            role: Role::Seller,
            action: Action::OpenRegister,
        });
        let json = serde_json::to_string(&m).expect("serializes");
        let back: PermissionMatrix = serde_json::from_str(&json).expect("parses");
        assert!(back.allows(Role::Seller, Action::OpenRegister));
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
    }
}
