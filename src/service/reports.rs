//! Reports for liaison offices: computed exactly from the database (integer counts and
//! minor units; medians of durations), readable by the university's admins and staff and
//! operators, and rendered as JSON or as CSV (RFC 4180, UTF-8 with a byte-order mark so that
//! spreadsheet programs show Korean and Chinese correctly).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};

use crate::db::Db;
use crate::db::engagements::EventRow;
use crate::domain::PublicId;
use crate::domain::stored::{CenterStatus, OrganizationKind, ProjectStatus};
use crate::dto::engagements::EngagementState;
use crate::dto::reports::{
    CenterFunding, CenterReportItem, CentersReport, CurrencyTotal, FacultyFundingReport,
    FacultyFundingRow, FundingParams, FundingReport, FundingRow, FunnelReport, PartnerRef,
    PersonRef, ReportParams,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};

use super::policy::{self, Action, Caller};

/// One cell of a report table. Numbers are built only from numeric values, so they are the
/// only cells written as they are; every text cell goes through the spreadsheet-formula guard
/// in [`Table::to_csv`].
#[derive(Debug, Clone, PartialEq)]
pub struct Cell(CellKind);

#[derive(Debug, Clone, PartialEq)]
enum CellKind {
    Text(String),
    Number(String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Self(CellKind::Text(s.into()))
    }

    /// A decimal number with `places` digits after the point.
    pub fn decimal(v: f64, places: usize) -> Self {
        Self(CellKind::Number(format!("{v:.places$}")))
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Self::text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Self::text(s)
    }
}

macro_rules! integer_cells {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell {
            fn from(v: $t) -> Self {
                Self(CellKind::Number(v.to_string()))
            }
        }
    )*};
}
integer_cells!(i32, i64, u64, i128);

/// A report as a table: what the CSV form shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Self {
        Self {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// RFC 4180: CRLF line ends; fields with a comma, quote, CR or LF quoted, quotes doubled;
    /// preceded by a UTF-8 byte-order mark. Text cells that a spreadsheet would read as a
    /// formula are neutralised (see [`csv_text`]); number cells are written as they are, so
    /// `-5` stays a number.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let header = self.columns.iter().map(|c| csv_text(c));
        out.push_str(&header.collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match &c.0 {
                    CellKind::Text(s) => csv_text(s),
                    CellKind::Number(n) => n.clone(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// One text field of a CSV file. Spreadsheet programs run a cell that begins with `=`, `+`,
/// `-`, `@`, tab or carriage return as a formula (`=HYPERLINK(...)` in a centre's name would
/// run on the office's computer), so such a cell gets a leading `'` and is quoted (OWASP's
/// CSV-injection rule). The stored data and the JSON answers are unchanged: only the CSV form
/// is guarded. Otherwise RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes
/// doubled.
pub fn csv_text(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula {
        format!("\"'{}\"", s.replace('"', "\"\""))
    } else if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Checked report parameters, and what the reader may see: a report counts and names only
/// what the GET endpoints would show them (the same scopes), so a company's private
/// shortlist is not in its professor's university's funnel.
pub struct Period {
    pub university_id: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub engagements: crate::db::engagements::EngagementScope,
    /// Centres and funded projects.
    pub records: crate::db::centers::ParticipantScope,
}

impl Period {
    fn parse(caller: Option<&Caller>, p: &ReportParams) -> AppResult<Self> {
        let mut errors = Vec::new();
        let university_id = PublicId::parse(&p.university_id);
        if university_id.is_none() {
            errors.push(FieldError::new(
                "university_id",
                FieldCode::InvalidId,
                "must be an id",
            ));
        }
        if let (Some(f), Some(t)) = (p.from, p.to)
            && t <= f
        {
            errors.push(FieldError::new(
                "to",
                FieldCode::BeforeFrom,
                "must be after `from`",
            ));
        }
        match university_id {
            Some(university_id) if errors.is_empty() => Ok(Self {
                university_id,
                from: p.from,
                to: p.to,
                engagements: policy::engagement_scope(caller)?,
                records: policy::participant_scope(caller, false)?,
            }),
            _ => Err(AppError::query(errors)),
        }
    }

    fn bounds(&self) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
        (
            self.from.and_then(|d| d.and_hms_opt(0, 0, 0)),
            self.to.and_then(|d| d.and_hms_opt(0, 0, 0)),
        )
    }
}

/// Checks the caller may read the university's reports (404 for an unknown university).
async fn authorized(db: &Db, caller: Option<&Caller>, p: &ReportParams) -> AppResult<Period> {
    let period = Period::parse(caller, p)?;
    let id = period.university_id.clone();
    let kind = db
        .run(move |c| {
            Ok(crate::db::organizations::find(c, &id)?
                .filter(|o| o.deleted_at.is_none())
                .map(|o| o.kind))
        })
        .await?;
    if kind != Some(OrganizationKind::University) {
        // Callers who could read it learn it is not a university; others learn nothing.
        policy::authorize(
            caller,
            Action::ViewReports {
                university_id: &period.university_id,
            },
        )?;
        return Err(AppError::not_found("University"));
    }
    policy::authorize(
        caller,
        Action::ViewReports {
            university_id: &period.university_id,
        },
    )?;
    Ok(period)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The first invitation and the professor's first answer after it.
fn time_to_first_response(events: &[EventRow]) -> (bool, Option<f64>) {
    let invited = events
        .iter()
        .find(|e| e.to_state == EngagementState::Invited);
    let Some(invited) = invited else {
        return (false, None);
    };
    let answer = events.iter().filter(|e| e.seq > invited.seq).find(|e| {
        matches!(
            e.to_state,
            EngagementState::Interested | EngagementState::Declined
        )
    });
    (
        true,
        answer.map(|a| (a.at - invited.at).num_seconds().max(0) as f64 / 3600.0),
    )
}

pub async fn funnel(
    db: &Db,
    caller: Option<&Caller>,
    p: ReportParams,
) -> AppResult<(FunnelReport, Table)> {
    let period = authorized(db, caller, &p).await?;
    let (from, to) = period.bounds();
    let uni = period.university_id.clone();
    let (engagements, records) = (period.engagements.clone(), period.records.clone());
    let (rows, projects) = db
        .run(move |c| {
            Ok((
                crate::db::reports::engagements_of_university(c, &engagements, &uni, from, to)?,
                crate::db::reports::projects_of_university(c, &records, &uni)?,
            ))
        })
        .await?;
    let in_period = |p: &&crate::db::projects::ProjectRow| {
        from.is_none_or(|f| p.created_at >= f) && to.is_none_or(|t| p.created_at < t)
    };
    let from_needs = projects
        .iter()
        .filter(in_period)
        .filter(|p| p.need_id.is_some())
        .count() as u64;
    let from_engagements = projects
        .iter()
        .filter(in_period)
        .filter(|p| p.engagement_id.is_some())
        .count() as u64;
    let mut by_state: BTreeMap<String, u64> = EngagementState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut needs = std::collections::HashSet::new();
    let (mut invited, mut responded, mut agreed) = (0u64, 0u64, 0u64);
    let mut waits = Vec::new();
    for (e, events) in &rows {
        *by_state.entry(e.state.as_str().to_owned()).or_default() += 1;
        needs.insert(e.need_id.clone());
        let (was_invited, answered) = time_to_first_response(events);
        if was_invited {
            invited += 1;
        }
        if let Some(h) = answered {
            responded += 1;
            waits.push(h);
        }
        if events
            .iter()
            .any(|ev| ev.to_state == EngagementState::Agreed)
        {
            agreed += 1;
        }
    }
    let report = FunnelReport {
        university_id: period.university_id,
        from: period.from,
        to: period.to,
        needs: needs.len() as u64,
        engagements: rows.len() as u64,
        engagements_by_state: by_state,
        invited,
        responded,
        median_hours_to_first_response: median(waits),
        agreed,
        funded_projects_from_needs: from_needs,
        funded_projects_from_engagements: from_engagements,
    };
    let mut t = Table::new(&["stage", "count"]);
    t.row(vec!["needs".into(), report.needs.into()]);
    t.row(vec!["engagements".into(), report.engagements.into()]);
    for (state, n) in &report.engagements_by_state {
        t.row(vec![format!("engagements_{state}").into(), (*n).into()]);
    }
    t.row(vec!["invited".into(), report.invited.into()]);
    t.row(vec!["responded".into(), report.responded.into()]);
    t.row(vec!["agreed".into(), report.agreed.into()]);
    t.row(vec![
        "funded_projects_from_needs".into(),
        report.funded_projects_from_needs.into(),
    ]);
    t.row(vec![
        "funded_projects_from_engagements".into(),
        report.funded_projects_from_engagements.into(),
    ]);
    t.row(vec![
        "median_hours_to_first_response".into(),
        report
            .median_hours_to_first_response
            .map_or_else(|| Cell::text(""), |h| Cell::decimal(h, 2)),
    ]);
    Ok((report, t))
}

/// Digits after the decimal point of a currency's minor unit (ISO 4217; 2 unless listed).
pub fn minor_exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// An exchange rate as an exact decimal: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    mantissa: i128,
    scale: u32,
}

fn currency_code(field: &str, v: &str) -> Result<String, FieldError> {
    let c = v.trim().to_ascii_uppercase();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(FieldError::new(
            field,
            FieldCode::InvalidCurrency,
            format!("{v:?} is not an ISO 4217 code"),
        ))
    }
}

/// `TWD:0.031,KRW:0.00073` → rates (positive decimals, at most 12 decimal places).
pub fn parse_rates(v: &str) -> Result<BTreeMap<String, Rate>, FieldError> {
    let bad = |why: String| FieldError::new("rates", FieldCode::InvalidRates, why);
    let mut out = BTreeMap::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, rate) = part
            .split_once(':')
            .ok_or_else(|| bad(format!("{part:?} is not CODE:RATE")))?;
        let code = currency_code("rates", code)?;
        let rate = rate.trim();
        let (int, frac) = rate.split_once('.').unwrap_or((rate, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 12
            || int.len() > 15
        {
            return Err(bad(format!("{rate:?} is not a decimal rate")));
        }
        let mantissa: i128 = format!("{int}{frac}")
            .parse()
            .map_err(|_| bad(format!("{rate:?} is not a decimal rate")))?;
        if mantissa == 0 {
            return Err(bad(format!("the rate of {code} must be above zero")));
        }
        out.insert(
            code,
            Rate {
                mantissa,
                scale: frac.len() as u32,
            },
        );
    }
    Ok(out)
}

/// Converts minor units of `from` into minor units of `base` exactly, rounding half away
/// from zero; `None` on overflow.
pub fn convert(amount_minor: i128, from: &str, rate: Rate, base: &str) -> Option<i128> {
    let num = amount_minor
        .checked_mul(rate.mantissa)?
        .checked_mul(10i128.checked_pow(minor_exponent(base))?)?;
    let den = 10i128
        .checked_pow(rate.scale)?
        .checked_mul(10i128.checked_pow(minor_exponent(from))?)?;
    let q = num / den;
    let r = num % den;
    Some(if r.abs() * 2 >= den {
        q + num.signum()
    } else {
        q
    })
}

fn to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

async fn authorized_university(
    db: &Db,
    caller: Option<&Caller>,
    university_id: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Option<crate::dto::reports::ReportFormat>,
) -> AppResult<Period> {
    authorized(
        db,
        caller,
        &ReportParams {
            university_id: university_id.to_owned(),
            from,
            to,
            format,
        },
    )
    .await
}

/// One line of the funding report before sponsors are named: rows sort by these fields in
/// this order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FundingKey {
    year: i32,
    sponsor_id: String,
    kind: String,
    currency: String,
}

/// Sums of one currency, in minor units: `i128` so that adding never overflows (a report
/// shows them clamped to `i64`).
#[derive(Debug, Clone, Copy, Default)]
struct Amounts {
    /// Active and completed projects, and centre commitments.
    committed: i128,
    /// Projects not yet under way.
    pipeline: i128,
    /// Payments received.
    received: i128,
}

impl Amounts {
    fn add(&mut self, other: Amounts) {
        self.committed += other.committed;
        self.pipeline += other.pipeline;
        self.received += other.received;
    }

    fn total(self, currency: String) -> CurrencyTotal {
        CurrencyTotal {
            currency,
            committed_minor: to_i64(self.committed),
            pipeline_minor: to_i64(self.pipeline),
            received_minor: to_i64(self.received),
        }
    }
}

/// What a funding line adds up: how many projects or commitments, and their amounts.
#[derive(Debug, Clone, Copy, Default)]
struct FundingSums {
    count: u64,
    amounts: Amounts,
}

/// Exchange rates into one base currency, as a funding report's parameters give them.
struct Conversion {
    rates: BTreeMap<String, Rate>,
    base: String,
}

/// Funding by year × sponsor × type, per currency; converted totals only with rates.
pub async fn funding(
    db: &Db,
    caller: Option<&Caller>,
    p: FundingParams,
) -> AppResult<(FundingReport, Table)> {
    let conversion = conversion(&p)?;
    let period =
        authorized_university(db, caller, &p.university_id, p.from, p.to, p.format).await?;
    let lines = funding_lines(db, &period).await?;
    let sponsor_ids: Vec<String> = lines.keys().map(|k| k.sponsor_id.clone()).collect();
    let orgs = db
        .run(move |c| Ok(crate::db::reports::organizations(c, sponsor_ids)?))
        .await?;
    let mut totals: BTreeMap<String, Amounts> = BTreeMap::new();
    let mut rows = Vec::new();
    for (key, sums) in lines {
        totals
            .entry(key.currency.clone())
            .or_default()
            .add(sums.amounts);
        rows.push(FundingRow {
            year: key.year,
            sponsor_name: orgs.get(&key.sponsor_id).map(|o| o.0.clone()),
            sponsor_id: key.sponsor_id,
            kind: key.kind,
            currency: key.currency,
            count: sums.count,
            committed_minor: to_i64(sums.amounts.committed),
            pipeline_minor: to_i64(sums.amounts.pipeline),
            received_minor: to_i64(sums.amounts.received),
        });
    }
    let converted = match &conversion {
        Some(conversion) => Some(converted_total(&totals, conversion)?),
        None => None,
    };
    let totals: Vec<CurrencyTotal> = totals
        .into_iter()
        .map(|(currency, amounts)| amounts.total(currency))
        .collect();
    let table = funding_table(&rows, &totals, converted.as_ref());
    Ok((
        FundingReport {
            university_id: period.university_id,
            rows,
            totals,
            converted,
        },
        table,
    ))
}

/// Checks `rates` and `base`, which go together: `None` when neither is given.
fn conversion(p: &FundingParams) -> AppResult<Option<Conversion>> {
    let mut errors = Vec::new();
    let rates = match p.rates.as_deref().map(parse_rates).transpose() {
        Ok(r) => r,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let base = match p
        .base
        .as_deref()
        .map(|b| currency_code("base", b))
        .transpose()
    {
        Ok(b) => b,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if rates.is_some() != base.is_some() && errors.is_empty() {
        errors.push(FieldError::new(
            "base",
            FieldCode::RequiredTogether,
            "`rates` and `base` go together",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::query(errors));
    }
    Ok(rates
        .zip(base)
        .map(|(rates, base)| Conversion { rates, base }))
}

/// The funding the reader may see of the period's university, summed per line: funded
/// projects by the year they start (terminated ones left out), centre commitments by their
/// year.
async fn funding_lines(db: &Db, period: &Period) -> AppResult<BTreeMap<FundingKey, FundingSums>> {
    let uni = period.university_id.clone();
    let records = period.records.clone();
    let (projects, centers, received) = db
        .run(move |c| {
            let projects = crate::db::reports::projects_of_university(c, &records, &uni)?;
            let ids: Vec<String> = projects.iter().map(|p| p.id.clone()).collect();
            let received = crate::db::reports::received_by_project(c, &ids)?;
            let centers = crate::db::reports::centers_of_university(c, &records, &uni)?;
            let center_ids: Vec<String> = centers.iter().map(|c| c.id.clone()).collect();
            let parts = crate::db::centers::load_parts(c, &center_ids)?;
            Ok((projects, parts, received))
        })
        .await?;
    let (from, to) = (period.from, period.to);
    let in_period = |d: NaiveDate| from.is_none_or(|f| d >= f) && to.is_none_or(|t| d < t);
    let mut lines: BTreeMap<FundingKey, FundingSums> = BTreeMap::new();
    for pr in &projects {
        let start = pr.start_date.unwrap_or(pr.created_at.date());
        if !in_period(start) || pr.status == ProjectStatus::Terminated {
            continue;
        }
        let line = lines
            .entry(FundingKey {
                year: chrono::Datelike::year(&start),
                sponsor_id: pr.sponsor_id.clone(),
                kind: pr.kind.as_str().to_owned(),
                currency: pr.currency.clone(),
            })
            .or_default();
        line.count += 1;
        let amount = i128::from(pr.amount_minor);
        match pr.status {
            ProjectStatus::Active | ProjectStatus::Completed => line.amounts.committed += amount,
            _ => line.amounts.pipeline += amount,
        }
        line.amounts.received += received.get(&pr.id).copied().unwrap_or_default();
    }
    for parts in centers.values() {
        for f in &parts.funding {
            let Some(jan1) = NaiveDate::from_ymd_opt(f.year, 1, 1) else {
                continue;
            };
            if !in_period(jan1) {
                continue;
            }
            let line = lines
                .entry(FundingKey {
                    year: f.year,
                    sponsor_id: f.sponsor_id.clone(),
                    kind: "center_commitment".to_owned(),
                    currency: f.currency.clone(),
                })
                .or_default();
            line.count += 1;
            line.amounts.committed += i128::from(f.amount_minor);
        }
    }
    Ok(lines)
}

/// Every currency's totals in the base currency, added up. A currency without a rate, or an
/// amount too large to convert, is a 400.
fn converted_total(
    totals: &BTreeMap<String, Amounts>,
    conversion: &Conversion,
) -> AppResult<CurrencyTotal> {
    let Conversion { rates, base } = conversion;
    let mut sum = Amounts::default();
    let mut missing = Vec::new();
    for (currency, amounts) in totals {
        let rate = if currency == base {
            Rate {
                mantissa: 1,
                scale: 0,
            }
        } else if let Some(r) = rates.get(currency) {
            *r
        } else {
            missing.push(currency.clone());
            continue;
        };
        let conv = |v: i128| {
            convert(v, currency, rate, base).ok_or_else(|| {
                AppError::query(vec![FieldError::new(
                    "rates",
                    FieldCode::Overflow,
                    "the converted amount is too large",
                )])
            })
        };
        sum.add(Amounts {
            committed: conv(amounts.committed)?,
            pipeline: conv(amounts.pipeline)?,
            received: conv(amounts.received)?,
        });
    }
    if !missing.is_empty() {
        return Err(AppError::query(vec![FieldError::new(
            "rates",
            FieldCode::MissingRate,
            format!("no rate for {}", missing.join(", ")),
        )]));
    }
    Ok(sum.total(base.clone()))
}

/// The CSV form: one row per line, then one `total` row per currency and one for the
/// converted total.
fn funding_table(
    rows: &[FundingRow],
    totals: &[CurrencyTotal],
    converted: Option<&CurrencyTotal>,
) -> Table {
    let mut t = Table::new(&[
        "year",
        "sponsor_id",
        "sponsor_name",
        "type",
        "currency",
        "count",
        "committed_minor",
        "pipeline_minor",
        "received_minor",
    ]);
    for r in rows {
        t.row(vec![
            r.year.into(),
            r.sponsor_id.clone().into(),
            r.sponsor_name.clone().unwrap_or_default().into(),
            r.kind.clone().into(),
            r.currency.clone().into(),
            r.count.into(),
            r.committed_minor.into(),
            r.pipeline_minor.into(),
            r.received_minor.into(),
        ]);
    }
    for total in totals.iter().chain(converted) {
        t.row(vec![
            "total".into(),
            "".into(),
            "".into(),
            "".into(),
            total.currency.clone().into(),
            "".into(),
            total.committed_minor.into(),
            total.pipeline_minor.into(),
            total.received_minor.into(),
        ]);
    }
    t
}

/// The university's active and renewing centres with members, resources and funding.
pub async fn centers(
    db: &Db,
    caller: Option<&Caller>,
    p: ReportParams,
) -> AppResult<(CentersReport, Table)> {
    let period = authorized(db, caller, &p).await?;
    let uni = period.university_id.clone();
    let records = period.records.clone();
    let (rows, mut parts, people, orgs) = db
        .run(move |c| {
            let rows: Vec<_> = crate::db::reports::centers_of_university(c, &records, &uni)?
                .into_iter()
                .filter(|r| matches!(r.status, CenterStatus::Active | CenterStatus::Renewing))
                .collect();
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let parts = crate::db::centers::load_parts(c, &ids)?;
            let people: Vec<String> = rows
                .iter()
                .filter_map(|r| r.director_id.clone())
                .chain(parts.values().flat_map(|p| p.member_ids.clone()))
                .collect();
            let orgs: Vec<String> = parts
                .values()
                .flat_map(|p| p.partners.iter().map(|x| x.0.clone()))
                .collect();
            Ok((
                rows,
                parts,
                crate::db::reports::profile_names(c, people)?,
                crate::db::reports::organizations(c, orgs)?,
            ))
        })
        .await?;
    let person = |id: &str| PersonRef {
        id: id.to_owned(),
        name: people.get(id).map(|p| p.0.clone()).unwrap_or_default(),
        local_name: people.get(id).and_then(|p| p.1.clone()),
    };
    let mut t = Table::new(&[
        "id",
        "name",
        "local_name",
        "status",
        "established_date",
        "end_date",
        "director",
        "members",
        "partners",
        "gpus",
        "gpu_hours",
        "lab_square_meters",
        "funding",
    ]);
    let mut centers = Vec::new();
    for r in rows {
        let p = parts.remove(&r.id).unwrap_or_default();
        let resources: serde_json::Value =
            serde_json::from_str(&r.shared_resources).map_err(AppError::internal)?;
        let sum = |kind: &str, field: &str| -> i64 {
            resources
                .as_array()
                .into_iter()
                .flatten()
                .filter(|x| x["kind"] == kind)
                .filter_map(|x| x[field].as_i64())
                .sum()
        };
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for f in &p.funding {
            let e = totals.entry(f.currency.clone()).or_default();
            *e = e.saturating_add(f.amount_minor);
        }
        let item = CenterReportItem {
            director: r.director_id.as_deref().map(person),
            members: p.member_ids.iter().map(|m| person(m)).collect(),
            partners: p
                .partners
                .iter()
                .map(|(id, role)| PartnerRef {
                    name: orgs.get(id).map(|o| o.0.clone()),
                    company_id: id.clone(),
                    role: role.as_str().to_owned(),
                })
                .collect(),
            funding: p
                .funding
                .iter()
                .map(|f| CenterFunding {
                    year: f.year,
                    sponsor_id: f.sponsor_id.clone(),
                    currency: f.currency.clone(),
                    amount_minor: f.amount_minor,
                })
                .collect(),
            funding_totals: totals,
            shared_resources: resources.clone(),
            id: r.id,
            name: r.name,
            local_name: r.local_name,
            status: r.status.as_str().to_owned(),
            established_date: r.established_date,
            renewal_date: r.renewal_date,
            end_date: r.end_date,
        };
        t.row(vec![
            item.id.clone().into(),
            item.name.clone().into(),
            item.local_name.clone().unwrap_or_default().into(),
            item.status.clone().into(),
            item.established_date
                .map(|d| d.to_string())
                .unwrap_or_default()
                .into(),
            item.end_date
                .map(|d| d.to_string())
                .unwrap_or_default()
                .into(),
            item.director
                .as_ref()
                .map(|d| d.name.clone())
                .unwrap_or_default()
                .into(),
            item.members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
                .into(),
            item.partners
                .iter()
                .map(|x| {
                    format!(
                        "{} ({})",
                        x.name.as_deref().unwrap_or(&x.company_id),
                        x.role
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
                .into(),
            sum("gpu", "count").into(),
            sum("hpc_allocation", "gpu_hours").into(),
            sum("lab_space", "square_meters").into(),
            item.funding_totals
                .iter()
                .map(|(c, v)| format!("{c} {v}"))
                .collect::<Vec<_>>()
                .join("; ")
                .into(),
        ]);
        centers.push(item);
    }
    Ok((
        CentersReport {
            university_id: period.university_id,
            centers,
        },
        t,
    ))
}

/// Industry funding per professor: active and completed projects sponsored by companies,
/// each counted for its principal investigator, per currency.
pub async fn faculty_funding(
    db: &Db,
    caller: Option<&Caller>,
    p: ReportParams,
) -> AppResult<(FacultyFundingReport, Table)> {
    let period = authorized(db, caller, &p).await?;
    let uni = period.university_id.clone();
    let (from, to) = (p.from, p.to);
    let records = period.records.clone();
    let (projects, co, orgs, people) = db
        .run(move |c| {
            let projects = crate::db::reports::projects_of_university(c, &records, &uni)?;
            let sponsors: Vec<String> = projects.iter().map(|p| p.sponsor_id.clone()).collect();
            let orgs = crate::db::reports::organizations(c, sponsors)?;
            let projects: Vec<_> = projects
                .into_iter()
                .filter(|p| {
                    orgs.get(&p.sponsor_id)
                        .is_some_and(|o| o.1 == OrganizationKind::Company)
                })
                .filter(|p| matches!(p.status, ProjectStatus::Active | ProjectStatus::Completed))
                .filter(|p| {
                    let start = p.start_date.unwrap_or(p.created_at.date());
                    from.is_none_or(|f| start >= f) && to.is_none_or(|t| start < t)
                })
                .collect();
            let ids: Vec<String> = projects.iter().map(|p| p.id.clone()).collect();
            let co = crate::db::projects::load_investigators(c, &ids)?;
            let people: Vec<String> = projects
                .iter()
                .filter_map(|p| p.pi_id.clone())
                .chain(co.values().flatten().cloned())
                .collect();
            let people = crate::db::reports::profile_names(c, people)?;
            Ok((projects, co, orgs, people))
        })
        .await?;
    let _ = orgs;
    // (faculty, currency) → (led, amount, co-investigated)
    let mut cells: BTreeMap<(String, String), (u64, i128, u64)> = BTreeMap::new();
    for pr in &projects {
        if let Some(pi) = &pr.pi_id {
            let c = cells.entry((pi.clone(), pr.currency.clone())).or_default();
            c.0 += 1;
            c.1 += i128::from(pr.amount_minor);
        }
        for f in co.get(&pr.id).into_iter().flatten() {
            cells.entry((f.clone(), pr.currency.clone())).or_default().2 += 1;
        }
    }
    let mut rows: Vec<FacultyFundingRow> = cells
        .into_iter()
        .map(|((id, currency), (led, amount, co))| FacultyFundingRow {
            faculty: PersonRef {
                name: people.get(&id).map(|p| p.0.clone()).unwrap_or_default(),
                local_name: people.get(&id).and_then(|p| p.1.clone()),
                id,
            },
            currency,
            projects_led: led,
            amount_minor: to_i64(amount),
            projects_co_investigated: co,
        })
        .collect();
    rows.sort_by(|a, b| {
        a.currency
            .cmp(&b.currency)
            .then(b.amount_minor.cmp(&a.amount_minor))
            .then(a.faculty.id.cmp(&b.faculty.id))
    });
    let mut t = Table::new(&[
        "faculty_id",
        "name",
        "local_name",
        "currency",
        "projects_led",
        "amount_minor",
        "projects_co_investigated",
    ]);
    for r in &rows {
        t.row(vec![
            r.faculty.id.clone().into(),
            r.faculty.name.clone().into(),
            r.faculty.local_name.clone().unwrap_or_default().into(),
            r.currency.clone().into(),
            r.projects_led.into(),
            r.amount_minor.into(),
            r.projects_co_investigated.into(),
        ]);
    }
    Ok((
        FacultyFundingReport {
            university_id: period.university_id,
            rows,
        },
        t,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting_and_starts_with_a_bom() {
        let mut t = Table::new(&["name", "note"]);
        t.row(vec!["國立陽明交通大學".into(), "a, \"b\"\nc".into()]);
        t.row(vec!["서울대학교".into(), "plain".into()]);
        assert_eq!(
            t.to_csv(),
            "\u{feff}name,note\r\n國立陽明交通大學,\"a, \"\"b\"\"\nc\"\r\n서울대학교,plain\r\n"
        );
    }

    #[test]
    fn csv_text_cells_that_a_spreadsheet_would_run_are_neutralised() {
        for lead in ['=', '+', '-', '@', '\t', '\r'] {
            assert_eq!(
                csv_text(&format!("{lead}SUM(A1)")),
                format!("\"'{lead}SUM(A1)\"")
            );
        }
        // Quotes inside are still doubled; the rule looks at the first character only.
        assert_eq!(
            csv_text("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_text("a=b-c"), "a=b-c");
        assert_eq!(csv_text(" =1"), " =1");
        assert_eq!(csv_text(""), "");
        // Numbers are not text: a negative amount stays a number, text that looks like one
        // does not.
        let mut t = Table::new(&["n", "text", "decimal"]);
        t.row(vec![(-5i64).into(), "-5".into(), Cell::decimal(-1.5, 2)]);
        assert_eq!(t.to_csv(), "\u{feff}n,text,decimal\r\n-5,\"'-5\",-1.50\r\n");
    }

    #[test]
    fn conversion_is_exact_and_respects_minor_units() {
        let rates = parse_rates("TWD:0.031, KRW:0.00073,JPY:1").unwrap_or_default();
        assert_eq!(rates.len(), 3);
        // 1,000.00 TWD = 31.00 USD
        assert_eq!(convert(100_000, "TWD", rates["TWD"], "USD"), Some(3_100));
        // 1,000,000 KRW (no minor unit) = 730.00 USD
        assert_eq!(convert(1_000_000, "KRW", rates["KRW"], "USD"), Some(73_000));
        // Half away from zero: 0.05 TWD × 0.031 = 0.00155 USD → 0 cents; 50 TWD → 1.55 USD.
        assert_eq!(convert(5, "TWD", rates["TWD"], "USD"), Some(0));
        assert_eq!(convert(5_000, "TWD", rates["TWD"], "USD"), Some(155));
        assert_eq!(convert(-5_000, "TWD", rates["TWD"], "USD"), Some(-155));
        // Into a currency without minor units.
        assert_eq!(convert(100, "JPY", rates["JPY"], "KRW"), Some(100));
        for bad in [
            "TWD",
            "TWD:",
            "TWD:abc",
            "TWD:0",
            "TWD:-1",
            "TW:1",
            "TWD:1.0000000000001",
        ] {
            assert!(parse_rates(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
