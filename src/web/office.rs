//! The liaison office's journey (issue 25): a dashboard for a university's admins and staff,
//! and its reports as CSV files one click away.
//!
//! Every figure comes from the service layer, exactly as the API's reports give it to the
//! same account: the funnel from `reports::funnel`, funding from `reports::funding`, the
//! centres from `reports::centers` with each centre's compute resources from
//! `compute::list_resources`, the funded projects from `projects::list` with their payment
//! totals from `projects::payments`. The CSV files are those reports' own tables, so a file
//! downloaded here is the API's `?format=csv` byte for byte (the API needs a bearer token,
//! which a link cannot carry; these routes use the session).
//!
//! The charts are SVG drawn here. They read without colour (each bar has its label and number
//! written beside it; the three kinds of funding bar differ in fill: solid, outlined, hatched)
//! and without the picture (every chart is followed by a table of the same figures). Colours
//! come from classes of the stylesheet: the pages' security policy allows no inline style.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use maud::{Markup, html};

use super::signed::{Signed, unavailable};
use super::{Lang, Messages, amount, grouped, link, money, page, param, respond};
use crate::domain::stored::{OrganizationKind, Role};
use crate::dto::compute::{ComputeResource, ListComputeResources};
use crate::dto::projects::{FundedProject, ListFundedProjects, PaymentList};
use crate::dto::reports::{
    CenterReportItem, CentersReport, FundingParams, FundingReport, FunnelReport, ReportParams,
};
use crate::error::AppError;
use crate::http::AppState;
use crate::service::accounts::Session;
use crate::service::policy::Caller;
use crate::service::reports;

const PATH: &str = "/office";
/// Funded projects per page (each costs one look-up of its payments).
const PROJECTS_PER_PAGE: i64 = 50;
/// Centres shown; the rest are in the CSV file (keeps the page well under 200 KB).
const MAX_CENTERS: usize = 30;
/// The CSV files: (file name, report).
const EXPORTS: [&str; 4] = ["funnel", "funding", "centers", "faculty-funding"];

/// The universities whose liaison office the caller is in (admin or staff), in the order of
/// the account's memberships.
pub(super) fn offices(caller: &Caller) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for m in &caller.memberships {
        if m.organization_kind == OrganizationKind::University
            && matches!(m.role, Role::Admin | Role::Staff)
            && !ids.contains(&m.organization_id)
        {
            ids.push(m.organization_id.clone());
        }
    }
    ids
}

/// Who asks, about which university and period.
struct Asked {
    lang: Lang,
    pairs: Vec<(String, String)>,
    session: Session,
    offices: Vec<String>,
    university_id: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Asked {
    /// Reads the request; or answers it already: not signed in (to the sign-in page), in no
    /// office and naming no university (403), a date that is not one (400). A university
    /// named by `university_id` that is not one of the caller's is left to the service to
    /// refuse (an operator may read any).
    async fn read(req: &HttpRequest, state: &AppState) -> Result<Asked, HttpResponse> {
        let Signed {
            lang,
            pairs,
            session,
        } = Signed::get(req, state).await?;
        let m = lang.messages();
        let offices = offices(&session.caller);
        let university_id =
            match param(&pairs, "university_id").or(offices.first().map(String::as_str)) {
                Some(u) => u.trim().to_owned(),
                None => {
                    return Err(problem(
                        lang,
                        &session,
                        &pairs,
                        StatusCode::FORBIDDEN,
                        m.office_forbidden,
                    ));
                }
            };
        let mut bad = Vec::new();
        let mut date = |key: &str| match param(&pairs, key) {
            None => None,
            Some(v) => {
                let d = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok();
                if d.is_none() {
                    bad.push(format!("{key}: {}", m.office_bad_date));
                }
                d
            }
        };
        let (from, to) = (date("from"), date("to"));
        if !bad.is_empty() {
            let why = format!("{} {}", m.office_cannot_show, bad.join("; "));
            return Err(problem(
                lang,
                &session,
                &pairs,
                StatusCode::BAD_REQUEST,
                &why,
            ));
        }
        Ok(Asked {
            lang,
            pairs,
            session,
            offices,
            university_id,
            from,
            to,
        })
    }

    fn caller(&self) -> Option<&Caller> {
        Some(&self.session.caller)
    }

    fn report_params(&self) -> ReportParams {
        ReportParams {
            university_id: self.university_id.clone(),
            from: self.from,
            to: self.to,
            format: None,
        }
    }

    fn funding_params(&self) -> FundingParams {
        FundingParams {
            university_id: self.university_id.clone(),
            from: self.from,
            to: self.to,
            format: None,
            rates: None,
            base: None,
        }
    }

    /// `path` for this university and period, with `extra` parameters.
    fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let (from, to) = (date_text(self.from), date_text(self.to));
        let mut pairs = vec![
            ("university_id", self.university_id.as_str()),
            ("from", from.as_str()),
            ("to", to.as_str()),
        ];
        pairs.extend_from_slice(extra);
        pairs.push(("lang", self.lang.tag()));
        link(path, &pairs)
    }

    /// A page of the dashboard saying what went wrong, with the error's status (a server
    /// failure is the generic page that says nothing of its cause).
    fn failed(&self, e: &AppError) -> HttpResponse {
        let status =
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if !status.is_client_error() {
            return unavailable(self.lang, e);
        }
        let m = self.lang.messages();
        let why = super::signed::problem_text(self.lang, e, &[]);
        let text = format!("{} {why}", m.office_cannot_show);
        problem(self.lang, &self.session, &self.pairs, status, &text)
    }
}

fn date_text(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn problem(
    lang: Lang,
    session: &Session,
    pairs: &[(String, String)],
    status: StatusCode,
    text: &str,
) -> HttpResponse {
    let m = lang.messages();
    let body = html! {
        h1 { (m.office_heading) }
        p.problem role="alert" { (text) }
        p { a href=(link("/", &[("lang", lang.tag())])) { (m.go_home) } }
    };
    respond(
        status,
        true,
        page(lang, Some(session), m.office_heading, PATH, pairs, body),
    )
}

/// Everything the dashboard shows.
struct Dashboard {
    /// The university's name, and the caller's offices with their names (for the chooser).
    university: String,
    choices: Vec<(String, String)>,
    funnel: FunnelReport,
    funding: FundingReport,
    centers: CentersReport,
    compute: BTreeMap<String, Vec<ComputeResource>>,
    /// Each project with its payments (`None`: the caller does not take part in it).
    projects: Vec<(FundedProject, Option<PaymentList>)>,
    next_cursor: Option<String>,
    /// Organization names by id (sponsors).
    names: BTreeMap<String, String>,
}

/// An organization's name for the page ("name (local name)"), or `None` when it cannot be
/// found; a server failure is an error.
async fn org_name(state: &AppState, id: &str) -> Result<Option<String>, AppError> {
    match crate::service::organizations::get(&state.db, id.to_owned()).await {
        Ok(o) => Ok(Some(match o.value.local_name {
            Some(local) if local != o.value.name => format!("{} ({local})", o.value.name),
            _ => o.value.name,
        })),
        Err(e) if e.code.status() >= 500 => Err(e),
        Err(_) => Ok(None),
    }
}

async fn gather(state: &AppState, a: &Asked) -> Result<Dashboard, AppError> {
    let db = &state.db;
    // The funnel first: it checks the caller may read this university's reports.
    let (funnel, _) = reports::funnel(db, a.caller(), a.report_params()).await?;
    let (funding, _) = reports::funding(db, a.caller(), a.funding_params()).await?;
    let (centers, _) = reports::centers(db, a.caller(), a.report_params()).await?;
    let mut compute = BTreeMap::new();
    for c in centers.centers.iter().take(MAX_CENTERS) {
        let list = crate::service::compute::list_resources(
            db,
            ListComputeResources {
                center_id: Some(c.id.clone()),
                limit: Some(100),
                ..Default::default()
            },
        )
        .await?;
        compute.insert(c.id.clone(), list.items);
    }
    let list = crate::service::projects::list(
        db,
        a.caller(),
        ListFundedProjects {
            university_id: Some(a.university_id.clone()),
            limit: Some(PROJECTS_PER_PAGE),
            cursor: param(&a.pairs, "cursor").map(str::to_owned),
            ..Default::default()
        },
    )
    .await?;
    let mut projects = Vec::new();
    for p in list.items {
        let payments = match crate::service::projects::payments(db, a.caller(), p.id.clone()).await
        {
            Ok(l) => Some(l),
            Err(e) if e.code.status() >= 500 => return Err(e),
            Err(_) => None,
        };
        projects.push((p, payments));
    }
    let mut names: BTreeMap<String, String> = funding
        .rows
        .iter()
        .filter_map(|r| Some((r.sponsor_id.clone(), r.sponsor_name.clone()?)))
        .collect();
    for (p, _) in &projects {
        if !names.contains_key(&p.sponsor_id)
            && let Some(n) = org_name(state, &p.sponsor_id).await?
        {
            names.insert(p.sponsor_id.clone(), n);
        }
    }
    let university = org_name(state, &a.university_id)
        .await?
        .unwrap_or_else(|| a.university_id.clone());
    let mut choices = Vec::new();
    if a.offices.len() > 1 || !a.offices.contains(&a.university_id) {
        for id in &a.offices {
            let name = org_name(state, id).await?.unwrap_or_else(|| id.clone());
            choices.push((id.clone(), name));
        }
    }
    Ok(Dashboard {
        university,
        choices,
        funnel,
        funding,
        centers,
        compute,
        projects,
        next_cursor: list.next_cursor,
        names,
    })
}

/// `GET /office`: the dashboard.
pub async fn dashboard(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let a = match Asked::read(&req, &state).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let d = match gather(&state, &a).await {
        Ok(d) => d,
        Err(e) => return a.failed(&e),
    };
    let m = a.lang.messages();
    let title = format!("{} · {}", m.office_heading, d.university);
    let body = html! {
        h1 { (m.office_heading) " · " (d.university) }
        p.intro { (m.office_intro) }
        (chooser(&a, &d))
        (exports(&a))
        (funnel_section(m, &d.funnel))
        (funding_section(m, &d.funding))
        (centers_section(m, &d))
        (projects_section(&a, &d))
    };
    respond(
        StatusCode::OK,
        true,
        page(a.lang, Some(&a.session), &title, PATH, &a.pairs, body),
    )
}

/// `GET /office/exports/{report}.csv`: a report's CSV file, as the API gives it.
pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> HttpResponse {
    let a = match Asked::read(&req, &state).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let (db, caller) = (&state.db, a.caller());
    let name = file
        .strip_suffix(".csv")
        .and_then(|n| EXPORTS.into_iter().find(|e| *e == n));
    let table = match name {
        Some("funnel") => reports::funnel(db, caller, a.report_params())
            .await
            .map(|r| r.1),
        Some("funding") => reports::funding(db, caller, a.funding_params())
            .await
            .map(|r| r.1),
        Some("centers") => reports::centers(db, caller, a.report_params())
            .await
            .map(|r| r.1),
        Some("faculty-funding") => reports::faculty_funding(db, caller, a.report_params())
            .await
            .map(|r| r.1),
        _ => {
            let m = a.lang.messages();
            return problem(
                a.lang,
                &a.session,
                &a.pairs,
                StatusCode::NOT_FOUND,
                m.not_found,
            );
        }
    };
    let table = match table {
        Ok(t) => t,
        Err(e) => return a.failed(&e),
    };
    let mut res = HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(table.to_csv());
    let disposition = format!("attachment; filename=\"{}.csv\"", name.unwrap_or("report"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// The university (when the caller has several offices) and the period.
fn chooser(a: &Asked, d: &Dashboard) -> Markup {
    let m = a.lang.messages();
    html! {
        form.period action=(PATH) method="get" {
            input type="hidden" name="lang" value=(a.lang.tag());
            @if d.choices.is_empty() {
                input type="hidden" name="university_id" value=(a.university_id);
            } @else {
                p {
                    label for="university_id" { (m.office_university) }
                    select #university_id name="university_id" {
                        @for (id, name) in &d.choices {
                            option value=(id) selected[*id == a.university_id] { (name) }
                        }
                    }
                }
            }
            p {
                label for="from" { (m.office_from) }
                input #from type="date" name="from" value=(date_text(a.from));
            }
            p {
                label for="to" { (m.office_to) }
                input #to type="date" name="to" value=(date_text(a.to));
            }
            p { button type="submit" { (m.office_show) } }
        }
    }
}

fn exports(a: &Asked) -> Markup {
    let m = a.lang.messages();
    let names = [
        m.export_funnel,
        m.export_funding,
        m.export_centers,
        m.export_faculty_funding,
    ];
    html! {
        section.exports aria-labelledby="exports" {
            h2 #exports { (m.exports_heading) }
            p.note { (m.exports_note) }
            ul {
                @for (file, name) in EXPORTS.iter().zip(names) {
                    @let path = format!("{PATH}/exports/{file}.csv");
                    li { a href=(a.link(&path, &[])) download { (name) " (" (file) ".csv)" } }
                }
            }
        }
    }
}

/// A bar's length for `v` of `max` on `span` units (at least 2 for anything above zero, so
/// that it shows).
fn bar(v: u128, max: u128, span: u32) -> u32 {
    if v == 0 || max == 0 {
        return 0;
    }
    ((v * u128::from(span) / max) as u32).max(2)
}

fn funnel_section(m: &Messages, f: &FunnelReport) -> Markup {
    let stages = [
        (m.funnel_needs, f.needs),
        (m.funnel_engagements, f.engagements),
        (m.funnel_invited, f.invited),
        (m.funnel_responded, f.responded),
        (m.funnel_agreed, f.agreed),
        (m.funnel_funded_needs, f.funded_projects_from_needs),
        (
            m.funnel_funded_engagements,
            f.funded_projects_from_engagements,
        ),
    ];
    let max = stages.iter().map(|s| u128::from(s.1)).max().unwrap_or(0);
    const ROW: usize = 46;
    let height = ROW * stages.len() + 4;
    let states = [
        ("shortlisted", m.state_shortlisted),
        ("invited", m.state_invited),
        ("interested", m.state_interested),
        ("declined", m.state_declined),
        ("agreed", m.state_agreed),
        ("closed", m.state_closed),
    ];
    html! {
        section.funnel aria-labelledby="funnel" {
            h2 #funnel { (m.funnel_heading) }
            p.note { (m.funnel_note) }
            figure.chart-figure {
                svg.chart viewBox=(format!("0 0 720 {height}")) role="img" aria-labelledby="funnel-chart" {
                    title #funnel-chart { (m.funnel_heading) }
                    @for (i, (label, n)) in stages.iter().enumerate() {
                        @let y = i * ROW;
                        @let w = bar(u128::from(*n), max, 560);
                        text.label x="0" y=(y + 15) { (label) }
                        rect.bar x="0" y=(y + 21) width=(w) height="18" {}
                        text.value x=(w + 8) y=(y + 35) { (grouped(u128::from(*n))) }
                    }
                }
                table.figures {
                    caption { (m.funnel_heading) }
                    thead { tr { th scope="col" { (m.stage) } th.num scope="col" { (m.count) } } }
                    tbody {
                        @for (label, n) in &stages {
                            tr { th scope="row" { (label) } td.num { (grouped(u128::from(*n))) } }
                        }
                    }
                }
            }
            @if let Some(h) = f.median_hours_to_first_response {
                p { (Messages::count(m.funnel_median, format!("{h:.1}"))) }
            }
            table.figures {
                caption { (m.funnel_by_state) }
                thead { tr { th scope="col" { (m.center_status) } th.num scope="col" { (m.count) } } }
                tbody {
                    @for (state, name) in states {
                        tr {
                            th scope="row" { (name) }
                            td.num { (grouped(u128::from(f.engagements_by_state.get(state).copied().unwrap_or(0)))) }
                        }
                    }
                }
            }
        }
    }
}

/// Committed, pipeline and received per year, for one currency.
type YearAmounts = BTreeMap<i32, [i128; 3]>;

fn funding_section(m: &Messages, r: &FundingReport) -> Markup {
    let mut by_currency: BTreeMap<&str, YearAmounts> = BTreeMap::new();
    for row in &r.rows {
        let y = by_currency
            .entry(row.currency.as_str())
            .or_default()
            .entry(row.year)
            .or_default();
        y[0] += i128::from(row.committed_minor);
        y[1] += i128::from(row.pipeline_minor);
        y[2] += i128::from(row.received_minor);
    }
    html! {
        section.funding aria-labelledby="funding" {
            h2 #funding { (m.funding_heading) }
            p.note { (m.funding_note) }
            @if by_currency.is_empty() {
                p { (m.funding_none) }
            }
            @for (currency, years) in &by_currency {
                (currency_figure(m, currency, years, r))
            }
        }
    }
}

fn currency_figure(m: &Messages, currency: &str, years: &YearAmounts, r: &FundingReport) -> Markup {
    let kinds = [
        (m.funding_committed, "bar"),
        (m.funding_pipeline, "bar-outline"),
        (m.funding_received, "bar-hatched"),
    ];
    let max = years
        .values()
        .flat_map(|a| a.iter())
        .map(|v| v.max(&0).unsigned_abs())
        .max()
        .unwrap_or(0);
    const BAR: usize = 16;
    const YEAR: usize = 3 * (BAR + 4) + 14;
    let height = YEAR * years.len();
    let title = Messages::count(m.funding_in, currency);
    let id = format!("funding-{currency}");
    let hatch = format!("hatch-{currency}");
    let total = r.totals.iter().find(|t| t.currency == currency);
    html! {
        figure.chart-figure {
            h3 { (title) }
            svg.chart viewBox=(format!("0 0 720 {height}")) role="img" aria-labelledby=(id) {
                title id=(id) { (title) }
                defs {
                    pattern id=(hatch) width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                        rect.hatch width="3" height="6" {}
                    }
                }
                @for (i, (year, amounts)) in years.iter().enumerate() {
                    @let top = i * YEAR;
                    text.label x="0" y=(top + BAR) { (year) }
                    @for (k, ((label, class), v)) in kinds.iter().zip(amounts).enumerate() {
                        @let y = top + k * (BAR + 4);
                        @let w = bar(v.max(&0).unsigned_abs(), max, 340);
                        @if *class == "bar-hatched" {
                            rect class=(class) x="64" y=(y) width=(w) height=(BAR) fill=(format!("url(#{hatch})")) {}
                        } @else {
                            rect class=(class) x="64" y=(y) width=(w) height=(BAR) {}
                        }
                        text.value x=(64 + w + 8) y=(y + BAR - 3) { (label) " " (amount(*v, currency)) }
                    }
                }
            }
            table.figures {
                caption { (title) }
                thead {
                    tr {
                        th scope="col" { (m.year) }
                        @for (label, _) in kinds { th.num scope="col" { (label) " (" (currency) ")" } }
                    }
                }
                tbody {
                    @for (year, amounts) in years {
                        tr {
                            th scope="row" { (year) }
                            @for v in amounts { td.num { (amount(*v, currency)) } }
                        }
                    }
                }
                @if let Some(t) = total {
                    tfoot {
                        tr {
                            th scope="row" { (m.total) }
                            @for v in [t.committed_minor, t.pipeline_minor, t.received_minor] {
                                td.num { (amount(i128::from(v), currency)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn centers_section(m: &Messages, d: &Dashboard) -> Markup {
    let centers = &d.centers.centers;
    html! {
        section.centers aria-labelledby="centers" {
            h2 #centers { (m.centers_heading) }
            p.note { (m.centers_note) }
            @if centers.is_empty() {
                p { (m.centers_none) }
            }
            @for c in centers.iter().take(MAX_CENTERS) {
                (center_view(m, c, d.compute.get(&c.id).map_or(&[][..], Vec::as_slice)))
            }
            @if centers.len() > MAX_CENTERS {
                p.note { (Messages::count(m.centers_more, centers.len() - MAX_CENTERS)) }
            }
        }
    }
}

/// A centre's recorded shared resources, one line each.
fn resource_lines(m: &Messages, resources: &serde_json::Value) -> Vec<String> {
    let number = |v: &serde_json::Value| v.as_u64().map(|n| grouped(u128::from(n)));
    resources
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| match r["kind"].as_str().unwrap_or_default() {
            "gpu" => {
                let count = Messages::count(m.gpus, number(&r["count"]).unwrap_or_default());
                match r["model"].as_str() {
                    Some(model) => format!("{model}: {count}"),
                    None => count,
                }
            }
            "hpc_allocation" => {
                Messages::count(m.gpu_hours, number(&r["gpu_hours"]).unwrap_or_default())
            }
            "lab_space" => {
                Messages::count(m.lab_space, number(&r["square_meters"]).unwrap_or_default())
            }
            other => other.replace('_', " "),
        })
        .collect()
}

fn center_view(m: &Messages, c: &CenterReportItem, compute: &[ComputeResource]) -> Markup {
    let people = |p: &crate::dto::reports::PersonRef| match &p.local_name {
        Some(l) if *l != p.name => format!("{} ({l})", p.name),
        _ => p.name.clone(),
    };
    let resources = resource_lines(m, &c.shared_resources);
    html! {
        article.center {
            h3 {
                (c.name)
                @if let Some(l) = c.local_name.as_ref().filter(|l| **l != c.name) {
                    " · " (l)
                }
            }
            dl {
                dt { (m.center_status) }
                dd {
                    (m.value(&c.status))
                    @if let Some(d) = c.established_date { " · " (d) }
                    " – "
                    @if let Some(d) = c.end_date { (d) }
                }
                @if let Some(d) = &c.director {
                    dt { (m.center_director) }
                    dd { (people(d)) }
                }
                @if !c.members.is_empty() {
                    dt { (m.center_members) }
                    dd { (c.members.iter().map(people).collect::<Vec<_>>().join(", ")) }
                }
                @if !c.partners.is_empty() {
                    dt { (m.center_partners) }
                    dd {
                        ul {
                            @for p in &c.partners {
                                li { (p.name.as_deref().unwrap_or(&p.company_id)) " (" (m.value(p.role.as_str())) ")" }
                            }
                        }
                    }
                }
                @if !resources.is_empty() {
                    dt { (m.center_resources) }
                    dd { ul { @for r in &resources { li { (r) } } } }
                }
                @if !compute.is_empty() {
                    dt { (m.center_compute) }
                    dd {
                        ul {
                            @for r in compute {
                                li {
                                    (r.name)
                                    @if let (Some(model), Some(n)) = (&r.gpu_model, r.gpu_count) {
                                        " · " (model) ": " (Messages::count(m.gpus, grouped(u128::from(n.unsigned_abs()))))
                                    }
                                    @let capacity = format!("{} {}", grouped(u128::from(r.capacity.unsigned_abs())), m.value(r.unit.as_str()));
                                    " · " (Messages::count(m.per_period, capacity).replace("{p}", m.value(r.period.as_str())))
                                }
                            }
                        }
                    }
                }
                @if !c.funding_totals.is_empty() {
                    dt { (m.center_funding) }
                    dd {
                        ul {
                            @for (currency, v) in &c.funding_totals {
                                li { (money(i128::from(*v), currency)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn projects_section(a: &Asked, d: &Dashboard) -> Markup {
    let m = a.lang.messages();
    html! {
        section.projects aria-labelledby="projects" {
            h2 #projects { (m.projects_heading) }
            p.note { (m.projects_note) }
            @if d.projects.is_empty() {
                p { (m.projects_none) }
            } @else {
                div.table-scroll {
                    table.projects {
                        thead {
                            tr {
                                th scope="col" { (m.project_title) }
                                th scope="col" { (m.project_sponsor) }
                                th scope="col" { (m.project_type) }
                                th scope="col" { (m.center_status) }
                                th scope="col" { (m.project_dates) }
                                th.num scope="col" { (m.project_amount) }
                                th.num scope="col" { (m.project_scheduled) }
                                th.num scope="col" { (m.project_received) }
                            }
                        }
                        tbody {
                            @for (p, payments) in &d.projects {
                                tr {
                                    th scope="row" { (p.title) }
                                    td { (d.names.get(&p.sponsor_id).map_or(p.sponsor_id.as_str(), String::as_str)) }
                                    td { (m.value(p.kind.as_str())) }
                                    td { (m.value(p.status.as_str())) }
                                    td {
                                        @if let Some(s) = p.start_date { (s) }
                                        " – "
                                        @if let Some(e) = p.end_date { (e) }
                                    }
                                    td.num { (money(i128::from(p.amount_minor), &p.currency)) }
                                    @match payments {
                                        Some(l) => {
                                            td.num { (money(i128::from(l.scheduled_minor), &l.currency)) }
                                            td.num { (money(i128::from(l.received_minor), &l.currency)) }
                                        }
                                        None => { td.num { "–" } td.num { "–" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &d.next_cursor {
                p { a rel="next" href=(a.link(PATH, &[("cursor", next.as_str())])) { (m.projects_more) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_in_the_currencys_major_unit() {
        assert_eq!(amount(123_456, "USD"), "1,234.56");
        assert_eq!(amount(5, "USD"), "0.05");
        assert_eq!(amount(123_456, "KRW"), "123,456");
        assert_eq!(amount(1_234_567, "KWD"), "1,234.567");
        assert_eq!(amount(-100, "TWD"), "-1.00");
        assert_eq!(amount(0, "JPY"), "0");
        assert_eq!(money(400_000_000, "USD"), "USD 4,000,000.00");
    }

    #[test]
    fn bars_scale_to_the_largest_and_show_anything_above_zero() {
        assert_eq!(bar(10, 10, 500), 500);
        assert_eq!(bar(5, 10, 500), 250);
        assert_eq!(bar(1, 1_000_000, 500), 2);
        assert_eq!(bar(0, 10, 500), 0);
        assert_eq!(bar(0, 0, 500), 0);
    }
}
