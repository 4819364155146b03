//! `liaison demo`: loads a realistic, multilingual demo world into an empty database through
//! the service layer (the same validation, authorization, outbox and audit as the API), so
//! that everything a newcomer sees is what the service would have made of real requests.
//!
//! The world is data, shipped in the binary:
//! - `world.json`: organizations, demo accounts, the needs' companies and terms, engagements
//!   (each as the path of states it went through), joint centres and funded projects. Bodies
//!   are the API's own request bodies, with `"@key"` standing for the id of a record made
//!   earlier and `"@today"`, `"@today+N"`, `"@today-N"` for dates relative to the day it runs;
//! - `people.json`: faculty profiles and needs written for the demo;
//! - the labelled match-quality set (`tests/fixtures/match-eval.json`): its profiles (placed at
//!   the university named at the end of their department) and needs.
//!
//! All people, needs, amounts and agreements are fictional.

pub mod fake_sources;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::db::Db;
use crate::domain::Period;
use crate::domain::stored::PeriodLength;
use crate::dto::accounts::{AddMember, Role};
use crate::dto::centers::{CenterStatus, UpdateCenter};
use crate::dto::engagements::{CreateEngagement, EngagementState, Transition};
use crate::dto::needs::{NeedStatus, UpdateNeed};
use crate::dto::organizations::{CreateOrganization, ListOrganizations};
use crate::dto::projects::{ProjectStatus, UpdateFundedProject};
use crate::error::AppError;
use crate::service::auth::Auth;
use crate::service::policy::{Caller, Side};
use crate::service::{
    Precondition, accounts, centers, compute, engagements, faculty, needs, organizations,
};
use crate::service::{policy, projects};

/// The password of every demo account (printed at start: this is a demo, not a deployment).
pub const PASSWORD: &str = "liaison-demo-2026";

const WORLD: &str = include_str!("world.json");
const PEOPLE: &str = include_str!("people.json");
const EVAL_SET: &str = include_str!("../../tests/fixtures/match-eval.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct World {
    organizations: Vec<OrgSpec>,
    users: Vec<UserSpec>,
    logins: Vec<(String, String)>,
    needs: BTreeMap<String, NeedTerms>,
    engagements: Vec<EngagementSpec>,
    centers: Vec<CenterSpec>,
    projects: Vec<ProjectSpec>,
    compute: ComputeWorld,
}

/// Shared compute: resources, allocations in every state, renewals, and the jobs the
/// schedulers recorded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComputeWorld {
    resources: Vec<ResourceSpec>,
    allocations: Vec<AllocationSpec>,
    renewals: Vec<RenewalSpec>,
    jobs: Vec<JobSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceSpec {
    key: String,
    /// The account that registers it (of the owner).
    by: String,
    body: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocationSpec {
    #[serde(default)]
    key: Option<String>,
    /// The account that applies.
    by: String,
    body: Value,
    /// The owner's moves after it was created (`POST …/transitions` bodies).
    moves: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenewalSpec {
    of: String,
    by: String,
    body: Value,
}

/// One finished job: `day` days after the start of the current quarter (never after today).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobSpec {
    resource: String,
    account: String,
    user: String,
    gpus: u32,
    hours: u32,
    day: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CenterSpec {
    body: Value,
    /// Status moves made after it was created.
    #[serde(default)]
    status_after: Vec<CenterStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgSpec {
    key: String,
    /// Other spellings of the name, as the end of a profile's department may give it.
    #[serde(default)]
    aliases: Vec<String>,
    body: CreateOrganization,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    key: String,
    email: String,
    name: String,
    #[serde(default)]
    operator: bool,
    #[serde(default)]
    memberships: Vec<(String, Role)>,
    /// The faculty profile this account owns.
    #[serde(default)]
    profile: Option<String>,
}

/// A need's company and terms (the rest of a `POST /api/v1/needs` body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedTerms {
    company: String,
    body: Map<String, Value>,
    /// Where the need ends up once its engagements have happened.
    #[serde(default)]
    final_status: Option<NeedStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EngagementSpec {
    need: String,
    faculty: String,
    /// The states it went through, in order; the first is how it was created.
    path: Vec<EngagementState>,
    /// `reason_code`/`reason_text` of the last move.
    #[serde(default)]
    reason: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectSpec {
    body: Value,
    #[serde(default)]
    payments: Vec<Value>,
    /// Status moves made after the payments were recorded.
    #[serde(default)]
    status_after: Vec<ProjectStatus>,
    /// The account that records it, when not the university's office (which cannot see a
    /// company's confidential need, for one).
    #[serde(default)]
    by: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct People {
    faculty: Vec<Map<String, Value>>,
    needs: Vec<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct EvalSet {
    faculty: Vec<Map<String, Value>>,
    needs: Vec<Map<String, Value>>,
}

/// What was loaded, and who can log in.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub universities: usize,
    pub companies: usize,
    pub other_organizations: usize,
    pub faculty: usize,
    pub needs: usize,
    pub engagements: usize,
    pub engagement_states: BTreeMap<&'static str, usize>,
    pub centers: usize,
    pub projects: usize,
    pub payments: usize,
    pub compute_resources: usize,
    pub allocations: usize,
    pub jobs: usize,
    pub accounts: usize,
    /// (role, email), one per role, in the order they are printed.
    pub logins: Vec<(String, String)>,
    /// (name, profile id) of the profiles synced from the local sources
    /// (`--with-sources`).
    pub synced: Vec<(String, String)>,
}

/// With `liaison demo --with-sources`: a professor at NYCU known to the local ORCID and
/// OpenAlex ([`fake_sources`]), whose office typed only her name and iD, synced from both.
pub async fn seed_synced(
    db: &Db,
    sources: Arc<crate::sources::Sources>,
) -> anyhow::Result<Vec<(String, String)>> {
    let operator = crate::service::policy::Caller {
        user_id: "demo".to_owned(),
        is_platform_operator: true,
        memberships: Vec::new(),
    };
    let nycu = organizations::list(
        db,
        ListOrganizations {
            limit: Some(100),
            ..Default::default()
        },
    )
    .await
    .map_err(describe("listing organizations"))?
    .items
    .into_iter()
    .find(|o| o.name == "National Yang Ming Chiao Tung University")
    .ok_or_else(|| anyhow!("the demo world has no NYCU"))?;
    let mut input = crate::dto::faculty::CreateFacultyProfile::blank(&nycu.id);
    input.name = "Lin Mei-Ling".to_owned();
    input.orcid = Some("0000-0001-5109-3700".to_owned());
    let created = crate::service::faculty::create(db, Some(&operator), input)
        .await
        .map_err(describe("creating the synced profile"))?;
    let id = created.value.id;
    let report =
        crate::service::faculty::sync::sync_one(db, sources, Some(&operator), id.clone(), None)
            .await
            .map_err(describe("syncing from the local sources"))?;
    if let Some(e) = report.sources.iter().find_map(|s| s.error.as_ref()) {
        bail!("syncing from the local sources: {e}");
    }
    Ok(vec![("Lin Mei-Ling".to_owned(), id)])
}

/// Loads the demo world into `db`, which must hold no organization yet.
pub async fn seed(db: &Db, auth: &Arc<Auth>) -> anyhow::Result<Summary> {
    let world: World = serde_json::from_str(WORLD).context("src/demo/world.json")?;
    let people: People = serde_json::from_str(PEOPLE).context("src/demo/people.json")?;
    let eval: EvalSet = serde_json::from_str(EVAL_SET).context("the match evaluation set")?;
    let existing = organizations::list(
        db,
        ListOrganizations {
            limit: Some(1),
            ..Default::default()
        },
    )
    .await
    .map_err(describe("checking the database"))?;
    if !existing.items.is_empty() {
        bail!("the database already holds organizations: the demo loads only into an empty one");
    }
    let mut s = Seeder {
        db,
        today: chrono::Utc::now().date_naive(),
        refs: HashMap::new(),
        users: HashMap::new(),
        emails: HashMap::new(),
        callers: HashMap::new(),
        summary: Summary::default(),
    };
    s.accounts(&world, &eval, &people, auth).await?;
    s.organizations(&world).await?;
    let homes = Seeder::homes(&world, &eval, &people)?;
    s.memberships(&world, &homes, auth).await?;
    s.faculty(&world, &homes, &eval, &people).await?;
    s.needs(&world, &eval, &people).await?;
    s.engagements(&world).await?;
    s.need_outcomes(&world).await?;
    s.centers(&world).await?;
    s.projects(&world).await?;
    s.compute(&world).await?;
    s.summary.logins = world
        .logins
        .iter()
        .map(|(role, user)| {
            let spec = world.users.iter().find(|u| &u.key == user);
            spec.map(|u| (role.clone(), u.email.clone()))
                .ok_or_else(|| anyhow!("login {role:?} names unknown user {user:?}"))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(s.summary)
}

fn describe(what: impl Into<String>) -> impl Fn(AppError) -> anyhow::Error {
    let what = what.into();
    move |e| {
        let fields: Vec<String> = e
            .errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        anyhow!("{what}: {} {}", e.describe(), fields.join("; "))
    }
}

fn from_value<T: DeserializeOwned>(what: &str, v: Value) -> anyhow::Result<T> {
    serde_json::from_value(v).with_context(|| format!("demo data: {what}"))
}

/// An account for a professor who answers an engagement but has none in `world.json`.
struct ProfessorAccount {
    email: String,
    name: String,
}

struct Seeder<'a> {
    db: &'a Db,
    today: NaiveDate,
    /// Demo key → id of what was made for it (organizations, profiles, needs, centres as
    /// `center-N`, engagements as `need/faculty`).
    refs: HashMap<String, String>,
    /// User key (or faculty key, for professors' accounts) → user id.
    users: HashMap<String, String>,
    emails: HashMap<String, String>,
    callers: HashMap<String, Caller>,
    summary: Summary,
}

impl Seeder<'_> {
    fn id(&self, key: &str) -> anyhow::Result<String> {
        self.refs
            .get(key)
            .cloned()
            .ok_or_else(|| anyhow!("demo data names {key:?}, which is not defined (yet)"))
    }

    /// The allocation quarter `offset` quarters from today's.
    fn quarter(&self, offset: i32) -> anyhow::Result<Period> {
        let months = offset.unsigned_abs().saturating_mul(3);
        let day = if offset < 0 {
            self.today.checked_sub_months(chrono::Months::new(months))
        } else {
            self.today.checked_add_months(chrono::Months::new(months))
        };
        day.and_then(|d| Period::containing(PeriodLength::Quarter, d))
            .ok_or_else(|| anyhow!("no quarter {offset} from {}", self.today))
    }

    /// Replaces `"@key"` by the id made for `key`, `"@today±N"` by a date and `"@quarter±N"`
    /// by an allocation quarter.
    fn resolve(&self, v: Value) -> anyhow::Result<Value> {
        Ok(match v {
            Value::String(s) => match s.strip_prefix('@') {
                Some(rest) if rest.starts_with("quarter") => {
                    let offset = rest.strip_prefix("quarter").unwrap_or_default();
                    let n: i32 = if offset.is_empty() {
                        0
                    } else {
                        offset
                            .trim_start_matches('+')
                            .parse()
                            .with_context(|| format!("bad quarter {s:?}"))?
                    };
                    Value::String(self.quarter(n)?.name)
                }
                Some(rest) if rest.starts_with("today") => {
                    let offset = rest.strip_prefix("today").unwrap_or_default();
                    let days: i64 = if offset.is_empty() {
                        0
                    } else {
                        offset
                            .trim_start_matches('+')
                            .parse()
                            .with_context(|| format!("bad date {s:?}"))?
                    };
                    let date = chrono::Duration::try_days(days)
                        .and_then(|d| self.today.checked_add_signed(d))
                        .ok_or_else(|| anyhow!("date out of range: {s:?}"))?;
                    Value::String(date.to_string())
                }
                Some(key) => Value::String(self.id(key)?),
                None => Value::String(s),
            },
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|i| self.resolve(i))
                    .collect::<anyhow::Result<_>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| Ok((k, self.resolve(v)?)))
                    .collect::<anyhow::Result<_>>()?,
            ),
            other => other,
        })
    }

    fn caller(&self, user_key: &str) -> anyhow::Result<&Caller> {
        self.callers
            .get(user_key)
            .ok_or_else(|| anyhow!("no demo account {user_key:?}"))
    }

    /// The first `staff` (else `admin`) account of an organization, else the operator.
    fn acting_for(&self, world: &World, org: &str) -> anyhow::Result<&Caller> {
        let member = |role: Role| {
            world
                .users
                .iter()
                .find(|u| u.memberships.iter().any(|(o, r)| o == org && *r == role))
        };
        match member(Role::Staff).or_else(|| member(Role::Admin)) {
            Some(u) => self.caller(&u.key),
            None => self.caller("operator"),
        }
    }

    /// Professors who make a move in an engagement need an account of their own; those not
    /// in `world.json` get one named after their profile.
    fn professor_accounts(
        world: &World,
        eval: &EvalSet,
        people: &People,
    ) -> anyhow::Result<BTreeMap<String, ProfessorAccount>> {
        let owned: HashSet<&str> = world
            .users
            .iter()
            .filter_map(|u| u.profile.as_deref())
            .collect();
        let mut out = BTreeMap::new();
        for e in &world.engagements {
            let mut from = None;
            let mut faculty_moves = false;
            for to in &e.path {
                faculty_moves |= policy::engagement_move(from, *to) == Some(Side::Faculty);
                from = Some(*to);
            }
            if !faculty_moves || owned.contains(e.faculty.as_str()) {
                continue;
            }
            let profile = eval
                .faculty
                .iter()
                .chain(&people.faculty)
                .find(|f| f.get("key").and_then(Value::as_str) == Some(e.faculty.as_str()))
                .ok_or_else(|| anyhow!("engagement names unknown profile {:?}", e.faculty))?;
            let name = profile
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&e.faculty);
            out.insert(
                e.faculty.clone(),
                ProfessorAccount {
                    email: format!("{}@faculty.example", e.faculty),
                    name: name.to_owned(),
                },
            );
        }
        Ok(out)
    }

    async fn accounts(
        &mut self,
        world: &World,
        eval: &EvalSet,
        people: &People,
        auth: &Auth,
    ) -> anyhow::Result<()> {
        // One hash for every demo account: they share the demo password, and hashing is slow.
        let hash = auth
            .passwords
            .hash(PASSWORD)
            .map_err(describe("hashing the demo password"))?;
        let professors = Self::professor_accounts(world, eval, people)?;
        let specs = world
            .users
            .iter()
            .map(|u| {
                (
                    u.key.as_str(),
                    u.email.as_str(),
                    u.name.as_str(),
                    u.operator,
                )
            })
            .chain(
                professors
                    .iter()
                    .map(|(k, p)| (k.as_str(), p.email.as_str(), p.name.as_str(), false)),
            );
        for (key, email, name, operator) in specs {
            let user =
                accounts::create_user_with_hash_blocking(self.db, email, name, &hash, operator)
                    .map_err(describe(format!("account {email}")))?;
            self.users.insert(key.to_owned(), user.id);
            self.emails.insert(key.to_owned(), email.to_owned());
        }
        self.summary.accounts = self.users.len();
        let operator = self.users.get("operator").cloned();
        let operator = operator.ok_or_else(|| anyhow!("world.json has no `operator` user"))?;
        let caller = accounts::load_caller(self.db, operator)
            .await
            .map_err(describe("the operator"))?;
        self.callers.insert("operator".to_owned(), caller);
        Ok(())
    }

    async fn organizations(&mut self, world: &World) -> anyhow::Result<()> {
        use crate::dto::organizations::OrganizationKind as Kind;
        for org in &world.organizations {
            let made =
                organizations::create(self.db, Some(self.caller("operator")?), org.body.clone())
                    .await
                    .map_err(describe(format!("organization {}", org.key)))?;
            self.refs.insert(org.key.clone(), made.value.id);
            match org.body.kind {
                Kind::University => self.summary.universities += 1,
                Kind::Company => self.summary.companies += 1,
                Kind::Government | Kind::Foundation => self.summary.other_organizations += 1,
            }
        }
        Ok(())
    }

    async fn memberships(
        &mut self,
        world: &World,
        homes: &HashMap<String, String>,
        auth: &Arc<Auth>,
    ) -> anyhow::Result<()> {
        let mut all: Vec<(String, String, Role)> = Vec::new();
        for u in &world.users {
            for (org, role) in &u.memberships {
                all.push((u.key.clone(), org.clone(), *role));
            }
        }
        // Professors' own accounts: faculty of the profile's university.
        for key in self.users.keys() {
            if let Some(home) = homes.get(key.as_str())
                && !all.iter().any(|(u, _, _)| u == key)
            {
                all.push((key.clone(), home.clone(), Role::Faculty));
            }
        }
        for (user, org, role) in all {
            let email = self
                .emails
                .get(&user)
                .cloned()
                .ok_or_else(|| anyhow!("membership of unknown account {user:?}"))?;
            accounts::add_member(
                self.db,
                Arc::clone(auth),
                Some(self.caller("operator")?),
                self.id(&org)?,
                AddMember {
                    email,
                    role,
                    display_name: None,
                },
            )
            .await
            .map_err(describe(format!("membership of {user} in {org}")))?;
        }
        let keys: Vec<(String, String)> = self
            .users
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, id) in keys {
            let caller = accounts::load_caller(self.db, id)
                .await
                .map_err(describe(format!("account {key}")))?;
            self.callers.insert(key, caller);
        }
        Ok(())
    }

    /// Every profile's university key.
    fn homes(
        world: &World,
        eval: &EvalSet,
        people: &People,
    ) -> anyhow::Result<HashMap<String, String>> {
        let mut homes = HashMap::new();
        for f in &eval.faculty {
            let (key, department) = (text(f, "key")?, text(f, "department")?);
            let (_, place) = split_department(department);
            let org = world
                .organizations
                .iter()
                .find(|o| o.body.name == place || o.aliases.iter().any(|a| a == place))
                .ok_or_else(|| anyhow!("profile {key}: no demo university is named {place:?}"))?;
            homes.insert(key.to_owned(), org.key.clone());
        }
        for f in &people.faculty {
            homes.insert(
                text(f, "key")?.to_owned(),
                text(f, "university")?.to_owned(),
            );
        }
        Ok(homes)
    }

    async fn faculty(
        &mut self,
        world: &World,
        homes: &HashMap<String, String>,
        eval: &EvalSet,
        people: &People,
    ) -> anyhow::Result<()> {
        let owners: HashMap<&str, &str> = world
            .users
            .iter()
            .filter_map(|u| u.profile.as_deref().map(|p| (p, u.key.as_str())))
            .collect();
        for f in eval.faculty.iter().chain(&people.faculty) {
            let key = text(f, "key")?.to_owned();
            let mut body = f.clone();
            body.remove("key");
            body.remove("university");
            if let Some(Value::String(d)) = body.get("department") {
                let (department, _) = split_department(d);
                body.insert("department".into(), json!(department));
            }
            let university = homes
                .get(&key)
                .ok_or_else(|| anyhow!("profile {key}: no university"))?;
            body.insert("university_id".into(), json!(self.id(university)?));
            body.insert("external_id".into(), json!(format!("demo:{key}")));
            let owner = owners.get(key.as_str()).copied().unwrap_or(key.as_str());
            if let Some(user) = self.users.get(owner) {
                body.insert("owner_user_id".into(), json!(user));
            }
            if !body.contains_key("languages") {
                body.insert("languages".into(), json!(languages_of(f)));
            }
            if !body.contains_key("availability") {
                body.insert(
                    "availability".into(),
                    json!(["sponsored_research", "consulting", "student_internships"]),
                );
            }
            let input = from_value(&format!("profile {key}"), Value::Object(body))?;
            let made = faculty::create(self.db, Some(self.caller("operator")?), input)
                .await
                .map_err(describe(format!("profile {key}")))?;
            self.refs.insert(key, made.value.id);
            self.summary.faculty += 1;
        }
        Ok(())
    }

    async fn needs(
        &mut self,
        world: &World,
        eval: &EvalSet,
        people: &People,
    ) -> anyhow::Result<()> {
        let mut all: Vec<(String, String, Map<String, Value>)> = Vec::new();
        for n in &eval.needs {
            let key = text(n, "key")?;
            let terms = world
                .needs
                .get(key)
                .ok_or_else(|| anyhow!("world.json gives no company for need {key}"))?;
            let mut body = n.clone();
            body.extend(terms.body.clone());
            all.push((key.to_owned(), terms.company.clone(), body));
        }
        for n in &people.needs {
            let mut body = n.clone();
            let company = text(n, "company")?.to_owned();
            body.remove("company");
            body.entry("status").or_insert(json!("open"));
            body.entry("visibility").or_insert(json!("public"));
            body.entry("remote").or_insert(json!(true));
            body.entry("deadline").or_insert(json!("@today+60"));
            all.push((text(n, "key")?.to_owned(), company, body));
        }
        for (key, company, mut body) in all {
            body.remove("key");
            body.insert("company_id".into(), json!(format!("@{company}")));
            let input = from_value(&format!("need {key}"), self.resolve(Value::Object(body))?)?;
            let made = needs::create(self.db, Some(self.acting_for(world, &company)?), input)
                .await
                .map_err(describe(format!("need {key}")))?;
            self.refs.insert(key, made.value.id);
            self.summary.needs += 1;
        }
        Ok(())
    }

    /// The account that makes a move: the company's, or the professor's own.
    fn mover(
        &self,
        world: &World,
        e: &EngagementSpec,
        from: Option<EngagementState>,
        to: EngagementState,
    ) -> anyhow::Result<&Caller> {
        match policy::engagement_move(from, to) {
            Some(Side::Faculty) => {
                let owner = world
                    .users
                    .iter()
                    .find(|u| u.profile.as_deref() == Some(e.faculty.as_str()))
                    .map_or(e.faculty.as_str(), |u| u.key.as_str());
                self.caller(owner)
            }
            Some(Side::Company | Side::Either) => {
                let company = &world
                    .needs
                    .get(&e.need)
                    .ok_or_else(|| anyhow!("engagement on unknown need {}", e.need))?
                    .company;
                self.acting_for(world, company)
            }
            None => bail!(
                "engagement {}/{}: no move from {from:?} to {to:?}",
                e.need,
                e.faculty
            ),
        }
    }

    async fn engagements(&mut self, world: &World) -> anyhow::Result<()> {
        for e in &world.engagements {
            let what = format!("engagement {}/{}", e.need, e.faculty);
            let (first, rest) = e
                .path
                .split_first()
                .ok_or_else(|| anyhow!("{what}: empty path"))?;
            let reason_of = |last: bool| -> Map<String, Value> {
                if last {
                    e.reason.clone().unwrap_or_default()
                } else {
                    Map::new()
                }
            };
            let mut create = reason_of(rest.is_empty());
            create.insert("need_id".into(), json!(self.id(&e.need)?));
            create.insert("faculty_id".into(), json!(self.id(&e.faculty)?));
            create.insert("state".into(), json!(first));
            create.remove("reason_code");
            let input: CreateEngagement = from_value(&what, Value::Object(create))?;
            let (_, made) =
                engagements::create(self.db, Some(self.mover(world, e, None, *first)?), input)
                    .await
                    .map_err(describe(what.clone()))?;
            let id = made.value.id;
            let mut from = *first;
            for (i, to) in rest.iter().enumerate() {
                let mut t = reason_of(i + 1 == rest.len());
                t.insert("to".into(), json!(to));
                let input: Transition = from_value(&what, Value::Object(t))?;
                engagements::transition(
                    self.db,
                    Some(self.mover(world, e, Some(from), *to)?),
                    id.clone(),
                    Precondition::Any,
                    input,
                )
                .await
                .map_err(describe(format!("{what} to {to:?}")))?;
                from = *to;
            }
            *self
                .summary
                .engagement_states
                .entry(from.as_str())
                .or_default() += 1;
            self.summary.engagements += 1;
            self.refs.insert(format!("{}/{}", e.need, e.faculty), id);
        }
        Ok(())
    }

    async fn need_outcomes(&mut self, world: &World) -> anyhow::Result<()> {
        for (key, terms) in &world.needs {
            let Some(status) = terms.final_status else {
                continue;
            };
            needs::update(
                self.db,
                Some(self.acting_for(world, &terms.company)?),
                self.id(key)?,
                Precondition::Any,
                UpdateNeed {
                    status: Some(status),
                    ..Default::default()
                },
            )
            .await
            .map_err(describe(format!("need {key} to {status:?}")))?;
        }
        Ok(())
    }

    async fn centers(&mut self, world: &World) -> anyhow::Result<()> {
        for (i, c) in world.centers.iter().enumerate() {
            let what = format!("centre {i}");
            let host = reference(&c.body, "host_university_id")
                .ok_or_else(|| anyhow!("{what}: host_university_id is not an @reference"))?;
            let body = self.resolve(c.body.clone())?;
            let caller = self.acting_for(world, host)?.clone();
            let input = from_value(&what, body)?;
            let made = centers::create(self.db, Some(&caller), input)
                .await
                .map_err(describe(what.clone()))?;
            for status in &c.status_after {
                centers::update(
                    self.db,
                    Some(&caller),
                    made.value.id.clone(),
                    Precondition::Any,
                    UpdateCenter {
                        status: Some(*status),
                        ..Default::default()
                    },
                )
                .await
                .map_err(describe(format!("{what} to {status:?}")))?;
            }
            self.refs.insert(format!("center-{i}"), made.value.id);
            self.summary.centers += 1;
        }
        Ok(())
    }

    async fn projects(&mut self, world: &World) -> anyhow::Result<()> {
        for (i, p) in world.projects.iter().enumerate() {
            let what = format!("funded project {i}");
            let university = reference(&p.body, "university_id")
                .ok_or_else(|| anyhow!("{what}: university_id is not an @reference"))?;
            let body = self.resolve(p.body.clone())?;
            let caller = match &p.by {
                Some(user) => self.caller(user)?,
                None => self.acting_for(world, university)?,
            }
            .clone();
            let input = from_value(&what, body)?;
            let made = projects::create(self.db, Some(&caller), input)
                .await
                .map_err(describe(what.clone()))?;
            let id = made.value.id;
            for payment in &p.payments {
                let input = from_value(&what, self.resolve(payment.clone())?)?;
                projects::add_payment(self.db, Some(&caller), id.clone(), input)
                    .await
                    .map_err(describe(format!("{what}: payment")))?;
                self.summary.payments += 1;
            }
            for status in &p.status_after {
                projects::update(
                    self.db,
                    Some(&caller),
                    id.clone(),
                    Precondition::Any,
                    UpdateFundedProject {
                        status: Some(*status),
                        ..Default::default()
                    },
                )
                .await
                .map_err(describe(format!("{what} to {status:?}")))?;
            }
            self.summary.projects += 1;
        }
        Ok(())
    }
}

impl Seeder<'_> {
    async fn compute(&mut self, world: &World) -> anyhow::Result<()> {
        let c = &world.compute;
        // Resource key → the key of its owner, whose staff decide.
        let mut owners: HashMap<&str, &str> = HashMap::new();
        for r in &c.resources {
            let what = format!("compute resource {}", r.key);
            let owner = reference(&r.body, "owner_id")
                .ok_or_else(|| anyhow!("{what}: owner_id is not an @reference"))?;
            let input = from_value(&what, self.resolve(r.body.clone())?)?;
            let made = compute::create_resource(self.db, Some(self.caller(&r.by)?), input)
                .await
                .map_err(describe(what.clone()))?;
            self.refs.insert(r.key.clone(), made.value.id);
            owners.insert(r.key.as_str(), owner);
            self.summary.compute_resources += 1;
        }
        for (i, a) in c.allocations.iter().enumerate() {
            let what = format!("allocation {i}");
            let resource = reference(&a.body, "resource_id")
                .ok_or_else(|| anyhow!("{what}: resource_id is not an @reference"))?;
            let owner = owners
                .get(resource)
                .ok_or_else(|| anyhow!("{what}: unknown resource {resource:?}"))?;
            let input = from_value(&what, self.resolve(a.body.clone())?)?;
            let made = compute::create_allocation(self.db, Some(self.caller(&a.by)?), input)
                .await
                .map_err(describe(what.clone()))?;
            let id = made.value.id;
            let decider = self.acting_for(world, owner)?.clone();
            for m in &a.moves {
                let input = from_value(&what, self.resolve(m.clone())?)?;
                compute::transition(
                    self.db,
                    Some(&decider),
                    id.clone(),
                    Precondition::Any,
                    input,
                )
                .await
                .map_err(describe(format!("{what}: {m}")))?;
            }
            if let Some(key) = &a.key {
                self.refs.insert(key.clone(), id);
            }
            self.summary.allocations += 1;
        }
        for r in &c.renewals {
            let what = format!("renewal of {}", r.of);
            let input = from_value(&what, self.resolve(r.body.clone())?)?;
            compute::renew(self.db, Some(self.caller(&r.by)?), self.id(&r.of)?, input)
                .await
                .map_err(describe(what))?;
            self.summary.allocations += 1;
        }
        // What the schedulers recorded, as sacct writes it, imported by each owner's staff.
        let quarter = self.quarter(0)?;
        let mut files: BTreeMap<&str, String> = BTreeMap::new();
        for (n, j) in c.jobs.iter().enumerate() {
            let day = (quarter.start + chrono::Duration::days(i64::from(j.day))).min(self.today);
            let start = day.and_hms_opt(8, 0, 0).unwrap_or_default();
            let end = start + chrono::Duration::hours(i64::from(j.hours));
            let seconds = u64::from(j.hours) * 3600;
            let nodes = j.gpus.div_ceil(8);
            files.entry(j.resource.as_str()).or_default().push_str(&format!(
                "{}|{}|{}|gpu|billing={},cpu={},gres/gpu={},node={nodes}|{seconds}|{}|{}|COMPLETED\n",
                910_000 + n,
                j.account,
                j.user,
                j.gpus * 8,
                j.gpus * 8,
                j.gpus,
                start.format("%Y-%m-%dT%H:%M:%S"),
                end.format("%Y-%m-%dT%H:%M:%S"),
            ));
        }
        for (resource, sacct) in files {
            let owner = owners
                .get(resource)
                .ok_or_else(|| anyhow!("a job names unknown resource {resource:?}"))?;
            let caller = self.acting_for(world, owner)?.clone();
            let report = compute::import_usage(
                self.db,
                Some(&caller),
                self.id(resource)?,
                sacct.into_bytes(),
            )
            .await
            .map_err(describe(format!("usage of {resource}")))?;
            if report.rejected > 0 {
                bail!(
                    "usage of {resource}: {} job(s) rejected: {:?}",
                    report.rejected,
                    report.rows
                );
            }
            self.summary.jobs += report.charged;
        }
        Ok(())
    }
}

/// The key a `"@key"` field of an unresolved body refers to.
fn reference<'v>(body: &'v Value, field: &str) -> Option<&'v str> {
    body.get(field)?.as_str()?.strip_prefix('@')
}

fn text<'m>(m: &'m Map<String, Value>, field: &str) -> anyhow::Result<&'m str> {
    m.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("demo data: a record without {field:?}"))
}

/// "Department, University" → ("Department", "University"); the labelled set names the
/// university at the end of the department.
fn split_department(d: &str) -> (&str, &str) {
    match d.rsplit_once(',') {
        Some((dept, place)) => (dept.trim(), place.trim()),
        None => (d.trim(), d.trim()),
    }
}

/// The languages a profile is written in: English (its publications), plus Korean or
/// Traditional Chinese when its text has Hangul or Han characters.
fn languages_of(f: &Map<String, Value>) -> Vec<&'static str> {
    let texts: String = ["research_interests", "bio", "local_name"]
        .iter()
        .filter_map(|k| f.get(*k).and_then(Value::as_str))
        .collect();
    let hangul = texts
        .chars()
        .any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
    let han = texts
        .chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    let kana = texts
        .chars()
        .any(|c| ('\u{3040}'..='\u{30FF}').contains(&c));
    let mut langs = vec!["en"];
    if kana {
        langs.push("ja");
    } else if hangul {
        langs.push("ko");
    } else if han {
        langs.push("zh-Hant");
    }
    langs
}
