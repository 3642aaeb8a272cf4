//! The back-office API for the desktop app (`/api/v1/admin/...`, `Authorization: Bearer <token>`
//! from `login`). Every write is authorized by role and audited in its own transaction; refused
//! writes are audited as `denied`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{
    AuthedUser, Permission, Role, authenticate_user, bearer, hash_password, new_secret,
    secret_hash, verify_password,
};
use crate::catalog::{
    CatalogTx, CustomerInput, CustomerView, ProductInput, ProductView, parse_catalog_csv,
};
use crate::db::{Conn, now_ms};
use crate::enroll::IssuedCode;
use crate::error::Error;
use crate::http::{AppState, JsonBody, Path, Query};
use crate::reports;
use crate::schema::{
    api_tokens, audit_log, branches, customer_balances, customers, devices, products, sale_lines,
    sales, settings, users,
};
use crate::throttle;
use crate::tx::Tx;
use crate::{with_conn, write_tx};
use tenda_domain::{Secret, TextKind};

const SESSION_MS: i64 = 12 * 60 * 60 * 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/branches",
            get(list_branches).post(create_branch),
        )
        .route(
            "/api/v1/admin/branches/{branch}/prices/{product}",
            put(set_branch_price),
        )
        .route(
            "/api/v1/admin/products",
            get(list_products).post(create_product),
        )
        .route("/api/v1/admin/products/count", get(count_products))
        .route("/api/v1/admin/products/import", post(import_products))
        .route(
            "/api/v1/admin/products/{id}",
            get(get_product).put(update_product),
        )
        .route(
            "/api/v1/admin/customers",
            get(list_customers).post(create_customer),
        )
        .route("/api/v1/admin/customers/{id}", put(update_customer))
        .route("/api/v1/admin/users", get(list_users).post(create_user))
        .route("/api/v1/admin/users/{id}", put(update_user))
        .route("/api/v1/admin/devices", get(list_devices))
        .route("/api/v1/admin/devices/{id}/revoke", post(revoke_device))
        .route(
            "/api/v1/admin/enrollment-codes",
            post(create_enrollment_code),
        )
        .route("/api/v1/admin/settings", get(list_settings))
        .route("/api/v1/admin/settings/{key}", put(put_setting))
        .route("/api/v1/admin/sales", get(list_sales))
        .route("/api/v1/admin/sales/{id}", get(get_sale))
        .route("/api/v1/admin/fiscal-notes", get(list_fiscal_notes))
        .route("/api/v1/admin/reports/oversold", get(oversold))
        .route("/api/v1/admin/reports/overdraft", get(overdraft))
        .route("/api/v1/admin/audit", get(list_audit))
        .merge(crate::device_records::routes())
}

/// Authenticates the caller, checks `perm`, audits a refused write, then runs `f`.
pub(crate) async fn as_user<T, F>(
    st: &AppState,
    headers: &HeaderMap,
    perm: Permission,
    action: &'static str,
    f: F,
) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, &AuthedUser) -> Result<T, Error> + Send + 'static,
{
    let secret = bearer(headers)?;
    st.db
        .run(move |conn| {
            let user = authenticate_user(conn, &secret, now_ms())?;
            if let Err(e) = user.require(perm) {
                if !action.starts_with("read") {
                    with_conn!(&mut *conn, |c| c.audit(
                        &user.store_id,
                        &user.id,
                        action,
                        "-",
                        "denied"
                    ))?;
                }
                return Err(e);
            }
            f(conn, &user)
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    store_id: Uuid,
    login: String,
    password: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginResponse {
    pub token: String,
    pub user_id: Uuid,
    pub role: String,
    pub expires_at: i64,
}

pub(crate) async fn login(
    State(st): State<AppState>,
    source: crate::http::SourceIp,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, Error> {
    st.db
        .run(move |conn| {
            let now = now_ms();
            let store = req.store_id.to_string();
            let login = req.login.trim().to_owned();
            // The audit names what was typed only when it is a plausible login.
            let named = if TextKind::Login.check(&login).is_ok() {
                login.clone()
            } else {
                "-".to_owned()
            };
            let account_scope = format!("login:{store}:{}", login.to_lowercase());
            let source_scope = format!("login-from:{}", source.0);
            let audit = |conn: &mut Conn, actor: &str, outcome: &str| {
                with_conn!(conn, |c| c.audit(&store, actor, "login", &named, outcome))
            };
            if let Err(e) = throttle::check(conn, &[&account_scope, &source_scope], now) {
                audit(conn, "anonymous", "locked_out")?;
                return Err(e);
            }
            let row: Option<(String, String, String, bool)> =
                with_conn!(&mut *conn, |c| users::table
                    .filter(users::login.eq(&login))
                    .filter(users::store_id.eq(&store))
                    .select((
                        users::id,
                        users::credential_hash,
                        users::role,
                        users::active
                    ))
                    .first(c)
                    .optional())?;
            // The back office takes only a password (never a till PIN); a secret that breaks the
            // rule fails without the cost of a hash.
            let secret = Secret::from_typed(&req.password);
            let accepted = match &row {
                Some((_, hash, _, true)) => {
                    secret.validate_for_back_office().is_ok()
                        && verify_password(&req.password, hash)
                }
                _ => false,
            };
            let Some((user_id, _, role, _)) = row.filter(|_| accepted) else {
                let locked = throttle::fail(conn, &account_scope, throttle::ACCOUNT, now)?;
                let locked_source = throttle::fail(conn, &source_scope, throttle::SOURCE, now)?;
                let outcome = if locked.is_some() || locked_source.is_some() {
                    "failed_locked"
                } else {
                    "failed"
                };
                audit(conn, "anonymous", outcome)?;
                return Err(Error::Unauthorized("wrong user or password".into()));
            };
            throttle::clear(conn, &account_scope)?;
            let token = new_secret();
            let expires_at = now_ms() + SESSION_MS;
            write_tx!(&mut *conn, |c| {
                diesel::insert_into(api_tokens::table)
                    .values((
                        api_tokens::token_hash.eq(secret_hash(&token)),
                        api_tokens::user_id.eq(&user_id),
                        api_tokens::created_at.eq(now_ms()),
                        api_tokens::expires_at.eq(expires_at),
                    ))
                    .execute(c)?;
                c.audit(&store, &user_id, "login", "session", "ok")
            })?;
            Ok(LoginResponse {
                token,
                user_id: id(&user_id)?,
                role,
                expires_at,
            })
        })
        .await
        .map(Json)
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BranchView {
    pub id: Uuid,
    pub name: String,
}

fn id(s: &str) -> Result<Uuid, Error> {
    s.parse()
        .map_err(|_| Error::Internal("malformed id in the database".into()))
}

async fn list_branches(
    State(st): State<AppState>,
    h: HeaderMap,
) -> Result<Json<Vec<BranchView>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadCatalog,
        "read.branches",
        |conn, u| {
            let rows: Vec<(String, String)> = with_conn!(conn, |c| branches::table
                .filter(branches::store_id.eq(&u.store_id))
                .order(branches::name.asc())
                .select((branches::id, branches::name))
                .load(c))?;
            rows.into_iter()
                .map(|(i, name)| Ok(BranchView { id: id(&i)?, name }))
                .collect()
        },
    )
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameInput {
    name: String,
}

async fn create_branch(
    State(st): State<AppState>,
    h: HeaderMap,
    JsonBody(b): JsonBody<NameInput>,
) -> Result<Json<BranchView>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteSettings,
        "branch.create",
        move |conn, u| {
            let name = b.name.trim().to_owned();
            Error::check_text("name", TextKind::Name, &name)?;
            let bid = Uuid::now_v7();
            write_tx!(conn, |c| {
                diesel::insert_into(branches::table)
                    .values((
                        branches::id.eq(bid.to_string()),
                        branches::store_id.eq(&u.store_id),
                        branches::name.eq(&name),
                        branches::created_at.eq(now_ms()),
                    ))
                    .execute(c)?;
                c.audit(&u.store_id, &u.id, "branch.create", &bid.to_string(), "ok")
            })?;
            Ok(BranchView { id: bid, name })
        },
    )
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceInput {
    price_cents: i64,
}

async fn set_branch_price(
    State(st): State<AppState>,
    h: HeaderMap,
    Path((branch, product)): Path<(Uuid, Uuid)>,
    JsonBody(p): JsonBody<PriceInput>,
) -> Result<Json<serde_json::Value>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteCatalog,
        "price.set",
        move |conn, u| {
            if p.price_cents < 0 {
                return Err(Error::invalid("price_cents", "a price cannot be negative"));
            }
            write_tx!(conn, |c| {
                let owner: Option<String> = branches::table
                    .find(branch.to_string())
                    .select(branches::store_id)
                    .first(c)
                    .optional()?;
                if owner.as_deref() != Some(u.store_id.as_str()) {
                    return Err(Error::NotFound("branch".into()));
                }
                let v = c.next_version(&u.store_id, 1)?;
                c.set_branch_price(
                    &u.store_id,
                    &branch.to_string(),
                    &product.to_string(),
                    p.price_cents,
                    v,
                )?;
                c.audit(
                    &u.store_id,
                    &u.id,
                    "price.set",
                    &format!("{branch}/{product}"),
                    "ok",
                )
            })?;
            Ok(serde_json::json!({"ok": true}))
        },
    )
    .await
    .map(Json)
}

type ProductRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    String,
    bool,
    i64,
);

fn product_view(r: ProductRow) -> Result<ProductView, Error> {
    Ok(ProductView {
        id: id(&r.0)?,
        sku: r.1,
        gtin: r.2,
        name: r.3,
        unit: r.4,
        price_cents: r.5,
        fiscal: serde_json::from_str(&r.6).unwrap_or(serde_json::Value::Null),
        active: r.7,
        version: r.8,
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

/// A store's products whose name or SKU contains `search`: what the list pages through and
/// the count counts.
#[diesel::dsl::auto_type(no_type_alias)]
fn products_matching<'a>(store_id: &'a str, search: &'a str) -> _ {
    let in_name: String = format!("%{search}%");
    let in_sku: String = format!("%{search}%");
    products::table
        .filter(products::store_id.eq(store_id))
        .filter(products::name.like(in_name).or(products::sku.like(in_sku)))
}

async fn list_products(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ProductView>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadCatalog,
        "read.products",
        move |conn, u| {
            let search = q.search.unwrap_or_default();
            let rows: Vec<ProductRow> =
                with_conn!(conn, |c| products_matching(&u.store_id, &search)
                    .order(products::name.asc())
                    .limit(q.limit.unwrap_or(100).clamp(1, 1000))
                    .offset(q.offset.unwrap_or(0).max(0))
                    .select((
                        products::id,
                        products::sku,
                        products::gtin,
                        products::name,
                        products::unit,
                        products::price_cents,
                        products::fiscal,
                        products::active,
                        products::version,
                    ))
                    .load(c))?;
            rows.into_iter().map(product_view).collect()
        },
    )
    .await
    .map(Json)
}

/// How many products the list above holds for the same search: a virtualized table sizes its
/// scrollbar with it before it has loaded a page.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProductCount {
    pub total: i64,
}

async fn count_products(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<ProductCount>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadCatalog,
        "read.products",
        move |conn, u| {
            let search = q.search.unwrap_or_default();
            let total: i64 = with_conn!(conn, |c| products_matching(&u.store_id, &search)
                .count()
                .get_result(c))?;
            Ok(ProductCount { total })
        },
    )
    .await
    .map(Json)
}

fn load_product(conn: &mut Conn, store: &str, pid: &str) -> Result<ProductView, Error> {
    let row: Option<ProductRow> = with_conn!(conn, |c| products::table
        .filter(products::store_id.eq(store))
        .filter(products::id.eq(pid))
        .select((
            products::id,
            products::sku,
            products::gtin,
            products::name,
            products::unit,
            products::price_cents,
            products::fiscal,
            products::active,
            products::version,
        ))
        .first(c)
        .optional())?;
    product_view(row.ok_or_else(|| Error::NotFound("product".into()))?)
}

async fn get_product(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(pid): Path<Uuid>,
) -> Result<Json<ProductView>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadCatalog,
        "read.product",
        move |conn, u| load_product(conn, &u.store_id, &pid.to_string()),
    )
    .await
    .map(Json)
}

async fn create_product(
    State(st): State<AppState>,
    h: HeaderMap,
    JsonBody(p): JsonBody<ProductInput>,
) -> Result<Json<ProductView>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteCatalog,
        "product.create",
        move |conn, u| {
            p.validate("")?;
            let pid = write_tx!(&mut *conn, |c| {
                let exists: i64 = products::table
                    .filter(products::store_id.eq(&u.store_id))
                    .filter(products::sku.eq(p.sku.trim()))
                    .count()
                    .get_result(c)?;
                if exists > 0 {
                    return Err(Error::Taken {
                        field: "sku".into(),
                    });
                }
                let v = c.next_version(&u.store_id, 1)?;
                let ids = c.upsert_products(&u.store_id, std::slice::from_ref(&p), v)?;
                let pid = ids[0];
                c.audit(&u.store_id, &u.id, "product.create", &pid.to_string(), "ok")?;
                Ok(pid)
            })?;
            load_product(conn, &u.store_id, &pid.to_string())
        },
    )
    .await
    .map(Json)
}

async fn update_product(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(pid): Path<Uuid>,
    JsonBody(p): JsonBody<ProductInput>,
) -> Result<Json<ProductView>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteCatalog,
        "product.update",
        move |conn, u| {
            p.validate("")?;
            write_tx!(&mut *conn, |c| {
                let v = c.next_version(&u.store_id, 1)?;
                c.update_product(&u.store_id, &pid.to_string(), &p, v)?;
                c.audit(&u.store_id, &u.id, "product.update", &pid.to_string(), "ok")
            })?;
            load_product(conn, &u.store_id, &pid.to_string())
        },
    )
    .await
    .map(Json)
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportResult {
    pub imported: usize,
}

async fn import_products(
    State(st): State<AppState>,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportResult>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteCatalog,
        "product.import",
        move |conn, u| {
            let text = std::str::from_utf8(&body)
                .map_err(|_| Error::invalid("csv", "the file is not UTF-8 text"))?;
            let items = parse_catalog_csv(text)?;
            let n = items.len();
            write_tx!(conn, |c| {
                let v = c.next_version(&u.store_id, 1)?;
                c.upsert_products(&u.store_id, &items, v)?;
                c.audit(
                    &u.store_id,
                    &u.id,
                    "product.import",
                    &format!("{n} products"),
                    "ok",
                )
            })?;
            Ok(ImportResult { imported: n })
        },
    )
    .await
    .map(Json)
}

type CustomerRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    bool,
    i64,
    Option<i64>,
);

async fn list_customers(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<CustomerView>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadSales,
        "read.customers",
        move |conn, u| {
            let pattern = format!("%{}%", q.search.unwrap_or_default());
            let rows: Vec<CustomerRow> = with_conn!(conn, |c| customers::table
                .left_join(
                    customer_balances::table.on(customer_balances::customer_id.eq(customers::id))
                )
                .filter(customers::store_id.eq(&u.store_id))
                .filter(customers::name.like(&pattern))
                .order(customers::name.asc())
                .limit(q.limit.unwrap_or(100).clamp(1, 1000))
                .offset(q.offset.unwrap_or(0).max(0))
                .select((
                    customers::id,
                    customers::name,
                    customers::tax_id,
                    customers::phone,
                    customers::overdraft_limit_cents,
                    customers::active,
                    customers::version,
                    customer_balances::balance_cents.nullable(),
                ))
                .load(c))?;
            rows.into_iter()
                .map(|r| {
                    Ok(CustomerView {
                        id: id(&r.0)?,
                        name: r.1,
                        tax_id: r.2,
                        phone: r.3,
                        overdraft_limit_cents: r.4,
                        active: r.5,
                        version: r.6,
                        balance_cents: r.7.unwrap_or(0),
                    })
                })
                .collect()
        },
    )
    .await
    .map(Json)
}

async fn save_customer(
    st: AppState,
    h: HeaderMap,
    cid: Uuid,
    input: CustomerInput,
    action: &'static str,
) -> Result<Json<serde_json::Value>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteCustomers,
        action,
        move |conn, u| {
            input.validate()?;
            write_tx!(conn, |c| {
                let v = c.next_version(&u.store_id, 1)?;
                c.upsert_customer(&u.store_id, &cid.to_string(), &input, v)?;
                c.audit(&u.store_id, &u.id, action, &cid.to_string(), "ok")
            })?;
            Ok(serde_json::json!({"id": cid}))
        },
    )
    .await
    .map(Json)
}

async fn create_customer(
    State(st): State<AppState>,
    h: HeaderMap,
    JsonBody(c): JsonBody<CustomerInput>,
) -> Result<Json<serde_json::Value>, Error> {
    save_customer(st, h, Uuid::now_v7(), c, "customer.create").await
}

async fn update_customer(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(cid): Path<Uuid>,
    JsonBody(c): JsonBody<CustomerInput>,
) -> Result<Json<serde_json::Value>, Error> {
    save_customer(st, h, cid, c, "customer.update").await
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub login: String,
    pub role: String,
    pub active: bool,
    pub version: i64,
}

async fn list_users(
    State(st): State<AppState>,
    h: HeaderMap,
) -> Result<Json<Vec<UserView>>, Error> {
    as_user(&st, &h, Permission::WriteUsers, "read.users", |conn, u| {
        let rows: Vec<(String, String, String, String, bool, i64)> =
            with_conn!(conn, |c| users::table
                .filter(users::store_id.eq(&u.store_id))
                .order(users::name.asc())
                .select((
                    users::id,
                    users::name,
                    users::login,
                    users::role,
                    users::active,
                    users::version
                ))
                .load(c))?;
        rows.into_iter()
            .map(|r| {
                Ok(UserView {
                    id: id(&r.0)?,
                    name: r.1,
                    login: r.2,
                    role: r.3,
                    active: r.4,
                    version: r.5,
                })
            })
            .collect()
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserInput {
    name: String,
    login: String,
    role: String,
    /// The PIN or password; omitted on update to keep the current one.
    #[serde(default)]
    secret: Option<String>,
    #[serde(default = "active_default")]
    active: bool,
}

fn active_default() -> bool {
    true
}

async fn save_user(
    st: AppState,
    h: HeaderMap,
    uid: Option<Uuid>,
    input: UserInput,
) -> Result<Json<UserView>, Error> {
    let action = if uid.is_some() {
        "user.update"
    } else {
        "user.create"
    };
    as_user(&st, &h, Permission::WriteUsers, action, move |conn, u| {
        let role = crate::auth::parse_role(&input.role)?;
        let name = input.name.trim().to_owned();
        Error::check_text("name", TextKind::Name, &name)?;
        let login = input.login.trim().to_owned();
        Error::check_text("login", TextKind::Login, &login)?;
        let hash = match &input.secret {
            // The till's own rule: a secret no till would accept is never stored.
            Some(s) => {
                Secret::from_typed(s).validate().map_err(|e| Error::Rule {
                    field: "secret".into(),
                    rule: e.code().into(),
                    reason: e.to_string(),
                    seq: None,
                })?;
                Some(hash_password(s)?)
            }
            None if uid.is_none() => {
                return Err(Error::invalid(
                    "secret",
                    "a new user needs a PIN or password",
                ));
            }
            None => None,
        };
        let target = uid.unwrap_or_else(Uuid::now_v7);
        if uid.is_some() && target.to_string() == u.id && (role != Role::Owner || !input.active) {
            return Err(Error::Conflict(
                "an owner cannot demote or deactivate themself".into(),
            ));
        }
        let version = write_tx!(conn, |c| {
            let v = c.next_version(&u.store_id, 1)?;
            if uid.is_some() {
                let n = diesel::update(
                    users::table
                        .filter(users::id.eq(target.to_string()))
                        .filter(users::store_id.eq(&u.store_id)),
                )
                .set((
                    users::name.eq(&name),
                    users::login.eq(&login),
                    users::role.eq(role.code()),
                    users::active.eq(input.active),
                    users::version.eq(v),
                ))
                .execute(c)?;
                if n == 0 {
                    return Err(Error::NotFound("user".into()));
                }
                if let Some(hash) = &hash {
                    diesel::update(users::table.find(target.to_string()))
                        .set(users::credential_hash.eq(hash))
                        .execute(c)?;
                }
            } else {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(target.to_string()),
                        users::store_id.eq(&u.store_id),
                        users::name.eq(&name),
                        users::login.eq(&login),
                        users::role.eq(role.code()),
                        users::credential_hash.eq(hash.clone().unwrap_or_default()),
                        users::active.eq(input.active),
                        users::version.eq(v),
                    ))
                    .execute(c)?;
            }
            c.audit(&u.store_id, &u.id, action, &target.to_string(), "ok")?;
            Ok(v)
        })?;
        Ok(UserView {
            id: target,
            name,
            login,
            role: role.code().into(),
            active: input.active,
            version,
        })
    })
    .await
    .map(Json)
}

async fn create_user(
    State(st): State<AppState>,
    h: HeaderMap,
    JsonBody(b): JsonBody<UserInput>,
) -> Result<Json<UserView>, Error> {
    save_user(st, h, None, b).await
}

async fn update_user(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(uid): Path<Uuid>,
    JsonBody(b): JsonBody<UserInput>,
) -> Result<Json<UserView>, Error> {
    save_user(st, h, Some(uid), b).await
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceView {
    pub id: Uuid,
    pub name: String,
    pub branch_id: Uuid,
    pub nfce_series: i64,
    pub last_seq: i64,
    pub revoked: bool,
    pub enrolled_at: i64,
    pub last_seen_at: Option<i64>,
}

async fn list_devices(
    State(st): State<AppState>,
    h: HeaderMap,
) -> Result<Json<Vec<DeviceView>>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteDevices,
        "read.devices",
        |conn, u| {
            type Row = (String, String, String, i64, i64, bool, i64, Option<i64>);
            let rows: Vec<Row> = with_conn!(conn, |c| devices::table
                .filter(devices::store_id.eq(&u.store_id))
                .order(devices::enrolled_at.asc())
                .select((
                    devices::id,
                    devices::name,
                    devices::branch_id,
                    devices::nfce_series,
                    devices::last_seq,
                    devices::revoked,
                    devices::enrolled_at,
                    devices::last_seen_at,
                ))
                .load(c))?;
            rows.into_iter()
                .map(|r| {
                    Ok(DeviceView {
                        id: id(&r.0)?,
                        name: r.1,
                        branch_id: id(&r.2)?,
                        nfce_series: r.3,
                        last_seq: r.4,
                        revoked: r.5,
                        enrolled_at: r.6,
                        last_seen_at: r.7,
                    })
                })
                .collect()
        },
    )
    .await
    .map(Json)
}

async fn revoke_device(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(did): Path<Uuid>,
) -> Result<Json<serde_json::Value>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteDevices,
        "device.revoke",
        move |conn, u| {
            write_tx!(conn, |c| {
                let n = diesel::update(
                    devices::table
                        .filter(devices::id.eq(did.to_string()))
                        .filter(devices::store_id.eq(&u.store_id)),
                )
                .set(devices::revoked.eq(true))
                .execute(c)?;
                if n == 0 {
                    return Err(Error::NotFound("device".into()));
                }
                // A revoked store hub: its branch's tills stop using it.
                crate::hub::cloud::HubCloudTx::forget_hub(c, &u.store_id, &did.to_string())?;
                c.audit(&u.store_id, &u.id, "device.revoke", &did.to_string(), "ok")
            })?;
            Ok(serde_json::json!({"revoked": did}))
        },
    )
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    branch_id: Uuid,
    nfce_series: u32,
    /// How long the code stays usable; one day when omitted.
    #[serde(default)]
    ttl_minutes: Option<i64>,
}

async fn create_enrollment_code(
    State(st): State<AppState>,
    h: HeaderMap,
    JsonBody(r): JsonBody<CodeRequest>,
) -> Result<Json<IssuedCode>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteDevices,
        "device.enrollment_code",
        move |conn, u| {
            let ttl_ms = r.ttl_minutes.unwrap_or(24 * 60).clamp(1, 7 * 24 * 60) * 60_000;
            write_tx!(conn, |c| {
                let issued = c.issue_code(
                    &u.store_id,
                    &r.branch_id.to_string(),
                    r.nfce_series,
                    &u.id,
                    ttl_ms,
                )?;
                c.audit(
                    &u.store_id,
                    &u.id,
                    "device.enrollment_code",
                    &r.branch_id.to_string(),
                    "ok",
                )?;
                Ok(issued)
            })
        },
    )
    .await
    .map(Json)
}

async fn list_settings(
    State(st): State<AppState>,
    h: HeaderMap,
) -> Result<Json<std::collections::BTreeMap<String, String>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadSales,
        "read.settings",
        |conn, u| {
            let rows: Vec<(String, String)> = with_conn!(conn, |c| settings::table
                .filter(settings::store_id.eq(&u.store_id))
                .select((settings::key, settings::value))
                .load(c))?;
            Ok(rows.into_iter().collect())
        },
    )
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingInput {
    value: String,
}

async fn put_setting(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(key): Path<String>,
    JsonBody(s): JsonBody<SettingInput>,
) -> Result<Json<serde_json::Value>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteSettings,
        "setting.put",
        move |conn, u| {
            if key.is_empty()
                || key.len() > 80
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                return Err(Error::invalid(
                    "key",
                    "use 1 to 80 letters, digits, dots, dashes or underscores",
                ));
            }
            // The till's own schema: a value no device could read is never stored.
            tenda_domain::settings::check(&key, &s.value).map_err(|e| Error::Rule {
                field: "value".into(),
                rule: e.code().into(),
                reason: e.to_string(),
                seq: None,
            })?;
            write_tx!(conn, |c| {
                let v = c.next_version(&u.store_id, 1)?;
                diesel::insert_into(settings::table)
                    .values((
                        settings::store_id.eq(&u.store_id),
                        settings::key.eq(&key),
                        settings::value.eq(&s.value),
                        settings::version.eq(v),
                    ))
                    .on_conflict((settings::store_id, settings::key))
                    .do_update()
                    .set((settings::value.eq(&s.value), settings::version.eq(v)))
                    .execute(c)?;
                c.audit(&u.store_id, &u.id, "setting.put", &key, "ok")
            })?;
            Ok(serde_json::json!({"key": key}))
        },
    )
    .await
    .map(Json)
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SaleView {
    pub id: Uuid,
    pub folio: i64,
    pub branch_id: Uuid,
    pub device_id: Uuid,
    pub device_seq: i64,
    pub local_number: Option<String>,
    pub customer_id: Option<String>,
    pub total_cents: i64,
    pub on_account_cents: i64,
    pub fiscal_status: String,
    pub access_key: Option<String>,
    pub recorded_at: i64,
    pub received_at: i64,
}

#[derive(Debug, Deserialize)]
struct SalesQuery {
    #[serde(default)]
    branch_id: Option<Uuid>,
    #[serde(default)]
    device_id: Option<Uuid>,
    #[serde(default)]
    fiscal_status: Option<String>,
    /// Sales with a folio above this (for paging).
    #[serde(default)]
    after_folio: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

type SaleRow = (
    String,
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
    i64,
    String,
    Option<String>,
    i64,
    i64,
);

fn sale_view(r: SaleRow) -> Result<SaleView, Error> {
    Ok(SaleView {
        id: id(&r.0)?,
        folio: r.1,
        branch_id: id(&r.2)?,
        device_id: id(&r.3)?,
        device_seq: r.4,
        local_number: r.5,
        customer_id: r.6,
        total_cents: r.7,
        on_account_cents: r.8,
        fiscal_status: r.9,
        access_key: r.10,
        recorded_at: r.11,
        received_at: r.12,
    })
}

fn query_sales(conn: &mut Conn, store: &str, q: &SalesQuery) -> Result<Vec<SaleView>, Error> {
    let rows: Vec<SaleRow> = with_conn!(conn, |c| {
        let mut query = sales::table
            .filter(sales::store_id.eq(store))
            .filter(sales::folio.gt(q.after_folio.unwrap_or(0)))
            .order(sales::folio.asc())
            .limit(q.limit.unwrap_or(100).clamp(1, 10_000))
            .select((
                sales::id,
                sales::folio,
                sales::branch_id,
                sales::device_id,
                sales::device_seq,
                sales::local_number,
                sales::customer_id,
                sales::total_cents,
                sales::on_account_cents,
                sales::fiscal_status,
                sales::access_key,
                sales::recorded_at,
                sales::received_at,
            ))
            .into_boxed();
        if let Some(b) = q.branch_id {
            query = query.filter(sales::branch_id.eq(b.to_string()));
        }
        if let Some(d) = q.device_id {
            query = query.filter(sales::device_id.eq(d.to_string()));
        }
        if let Some(s) = &q.fiscal_status {
            query = query.filter(sales::fiscal_status.eq(s.clone()));
        }
        query.load(c)
    })?;
    rows.into_iter().map(sale_view).collect()
}

async fn list_sales(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<SalesQuery>,
) -> Result<Json<Vec<SaleView>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadSales,
        "read.sales",
        move |conn, u| query_sales(conn, &u.store_id, &q),
    )
    .await
    .map(Json)
}

/// Fiscal notes are the sales' fiscal documents: filter by `fiscal_status` (e.g. `contingency`).
async fn list_fiscal_notes(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<SalesQuery>,
) -> Result<Json<Vec<SaleView>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadSales,
        "read.fiscal_notes",
        move |conn, u| {
            let all = query_sales(conn, &u.store_id, &q)?;
            Ok(all
                .into_iter()
                .filter(|s| s.fiscal_status != "none")
                .collect())
        },
    )
    .await
    .map(Json)
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SaleDetail {
    pub sale: SaleView,
    pub lines: Vec<SaleLineView>,
    /// The sale exactly as the device pushed it.
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SaleLineView {
    pub line_no: i64,
    pub product_id: Uuid,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub total_cents: i64,
}

/// A sale's row, its payload as pushed and its lines (line no, product, quantity, unit price, total).
type SaleDetailRows = (
    Option<SaleRow>,
    Option<String>,
    Vec<(i64, String, i64, i64, i64)>,
);

async fn get_sale(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(sid): Path<Uuid>,
) -> Result<Json<SaleDetail>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadSales,
        "read.sale",
        move |conn, u| {
            let sid = sid.to_string();
            let (row, payload, lines): SaleDetailRows = with_conn!(conn, |c| {
                let row: Option<SaleRow> = sales::table
                    .filter(sales::store_id.eq(&u.store_id))
                    .filter(sales::id.eq(&sid))
                    .select((
                        sales::id,
                        sales::folio,
                        sales::branch_id,
                        sales::device_id,
                        sales::device_seq,
                        sales::local_number,
                        sales::customer_id,
                        sales::total_cents,
                        sales::on_account_cents,
                        sales::fiscal_status,
                        sales::access_key,
                        sales::recorded_at,
                        sales::received_at,
                    ))
                    .first(c)
                    .optional()?;
                let payload: Option<String> = sales::table
                    .find(&sid)
                    .select(sales::payload)
                    .first(c)
                    .optional()?;
                let lines = sale_lines::table
                    .filter(sale_lines::sale_id.eq(&sid))
                    .order(sale_lines::line_no.asc())
                    .select((
                        sale_lines::line_no,
                        sale_lines::product_id,
                        sale_lines::quantity,
                        sale_lines::unit_price_cents,
                        sale_lines::total_cents,
                    ))
                    .load(c)?;
                Ok::<_, Error>((row, payload, lines))
            })?;
            let sale = sale_view(row.ok_or_else(|| Error::NotFound("sale".into()))?)?;
            Ok(SaleDetail {
                sale,
                lines: lines
                    .into_iter()
                    .map(|l| {
                        Ok(SaleLineView {
                            line_no: l.0,
                            product_id: id(&l.1)?,
                            quantity: l.2,
                            unit_price_cents: l.3,
                            total_cents: l.4,
                        })
                    })
                    .collect::<Result<_, Error>>()?,
                payload: payload
                    .and_then(|p| serde_json::from_str(&p).ok())
                    .unwrap_or_default(),
            })
        },
    )
    .await
    .map(Json)
}

async fn oversold(
    State(st): State<AppState>,
    h: HeaderMap,
) -> Result<Json<Vec<reports::OversoldItem>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadReports,
        "read.oversold",
        |conn, u| reports::oversold(conn, &u.store_id),
    )
    .await
    .map(Json)
}

async fn overdraft(
    State(st): State<AppState>,
    h: HeaderMap,
) -> Result<Json<Vec<reports::OverdraftItem>>, Error> {
    as_user(
        &st,
        &h,
        Permission::ReadReports,
        "read.overdraft",
        |conn, u| reports::overdraft(conn, &u.store_id),
    )
    .await
    .map(Json)
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditView {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub outcome: String,
    pub at: i64,
}

async fn list_audit(
    State(st): State<AppState>,
    h: HeaderMap,
) -> Result<Json<Vec<AuditView>>, Error> {
    as_user(&st, &h, Permission::ReadReports, "read.audit", |conn, u| {
        let rows: Vec<(String, String, String, String, i64)> =
            with_conn!(conn, |c| audit_log::table
                .filter(audit_log::store_id.eq(&u.store_id))
                .order(audit_log::at.desc())
                .limit(1000)
                .select((
                    audit_log::actor,
                    audit_log::action,
                    audit_log::subject,
                    audit_log::outcome,
                    audit_log::at
                ))
                .load(c))?;
        Ok(rows
            .into_iter()
            .map(|r| AuditView {
                actor: r.0,
                action: r.1,
                subject: r.2,
                outcome: r.3,
                at: r.4,
            })
            .collect())
    })
    .await
    .map(Json)
}
