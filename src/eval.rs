//! Match quality on a labelled set (`liaison eval FILE`): loads the set's profiles and needs
//! into a database of their own through the service layer, indexes them, scores every
//! labelled (need, profile) pair with the pair score the match lists use, and reports
//! nDCG@10 and the pairwise weighted ranking loss.
//!
//! The file format is documented in docs/api.md ("Match quality") and by these types.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::db::search as source;
use crate::search::SearchIndex;
use crate::service::policy::Caller;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSet {
    #[serde(default)]
    pub description: Option<String>,
    pub faculty: Vec<EvalFaculty>,
    pub needs: Vec<EvalNeed>,
    pub items: Vec<EvalItem>,
}

/// A profile: the fields of `POST /api/v1/faculty` that matching reads, plus a `key`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EvalFaculty {
    #[serde(skip_serializing)]
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub local_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub research_interests: Option<String>,
    #[serde(default)]
    pub bio: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub publications: Vec<EvalPublication>,
}

impl EvalFaculty {
    /// A profile that is only its name and publications, as the development set's firms are.
    pub fn of_publications(key: String, name: String, publications: Vec<EvalPublication>) -> Self {
        Self {
            key,
            name,
            local_name: None,
            title: None,
            department: None,
            research_interests: None,
            bio: None,
            keywords: Vec::new(),
            publications,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EvalPublication {
    pub title: String,
    #[serde(default, rename = "abstract")]
    pub abstract_: Option<String>,
    #[serde(default)]
    pub year: Option<i32>,
    #[serde(default)]
    pub venue: Option<String>,
}

/// A need: the fields of `POST /api/v1/needs` that matching reads, plus a `key`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EvalNeed {
    #[serde(skip_serializing)]
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalItem {
    pub need: String,
    pub candidates: Vec<EvalCandidate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalCandidate {
    pub faculty: String,
    /// 0 (not relevant) to 3 (ideal).
    pub grade: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    pub need: String,
    /// `None` when every candidate is graded 0.
    pub ndcg_at_10: Option<f64>,
    /// This item's pairwise loss (`None` without differently graded pairs).
    pub pairwise_loss: Option<f64>,
    /// Candidates by predicted score: (faculty key, grade, score).
    pub ranking: Vec<(String, u8, f32)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub items: usize,
    pub candidates: usize,
    /// Mean nDCG@10 over items with a relevant candidate.
    pub ndcg_at_10: f64,
    /// Over all differently graded pairs of all items: weight (grade difference) of the pairs
    /// ordered wrongly, plus half the weight of ties, divided by the total weight. 0 is
    /// perfect, 0.5 is random.
    pub pairwise_loss: f64,
    /// The same per item, averaged.
    pub pairwise_loss_per_item: f64,
    pub per_item: Vec<ItemReport>,
}

/// nDCG@k with gains `2^grade − 1`, for grades listed in predicted order.
pub fn ndcg_at(k: usize, ranked: &[u8]) -> Option<f64> {
    let dcg = |grades: &[u8]| -> f64 {
        grades
            .iter()
            .take(k)
            .enumerate()
            .map(|(i, g)| (2f64.powi(i32::from(*g)) - 1.0) / ((i + 2) as f64).log2())
            .sum()
    };
    let mut ideal = ranked.to_vec();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let best = dcg(&ideal);
    (best > 0.0).then(|| dcg(ranked) / best)
}

/// (weight of wrongly ordered pairs + half the weight of tied pairs, total weight) over every
/// pair of differently graded candidates.
pub fn pairwise(scored: &[(f32, u8)]) -> (f64, f64) {
    let (mut wrong, mut total) = (0.0, 0.0);
    for (i, (si, gi)) in scored.iter().enumerate() {
        for (sj, gj) in &scored[i + 1..] {
            if gi == gj {
                continue;
            }
            let w = f64::from(gi.abs_diff(*gj));
            total += w;
            // Orient the pair so that `hi` is the better-graded candidate.
            let (hi, lo) = if gi > gj { (si, sj) } else { (sj, si) };
            if hi < lo {
                wrong += w;
            } else if hi == lo {
                wrong += w / 2.0;
            }
        }
    }
    (wrong, total)
}

fn check(set: &EvalSet) -> anyhow::Result<()> {
    let mut faculty = std::collections::HashSet::new();
    for f in &set.faculty {
        if !faculty.insert(f.key.as_str()) {
            bail!("faculty key {:?} appears twice", f.key);
        }
    }
    let needs: std::collections::HashSet<&str> = set.needs.iter().map(|n| n.key.as_str()).collect();
    for item in &set.items {
        if !needs.contains(item.need.as_str()) {
            bail!("item names need {:?}, which is not in `needs`", item.need);
        }
        for c in &item.candidates {
            if !faculty.contains(c.faculty.as_str()) {
                bail!(
                    "item {:?} names faculty {:?}, which is not in `faculty`",
                    item.need,
                    c.faculty
                );
            }
            if c.grade > 3 {
                bail!("item {:?}: grade {} is not 0-3", item.need, c.grade);
            }
        }
    }
    Ok(())
}

/// A set loaded into a database and indexed: its ids by key.
struct Loaded {
    db: Db,
    index: std::sync::Arc<SearchIndex>,
    operator: Caller,
    faculty: HashMap<String, String>,
    needs: HashMap<String, String>,
}

/// Loads the set's profiles (public) and needs (open, public) into the (empty or not)
/// database at `database_url` through the service layer, and indexes them under `work`.
async fn load(set: &EvalSet, database_url: &str, work: &Path) -> anyhow::Result<Loaded> {
    check(set)?;
    let db = Db::connect(database_url, 4, Duration::from_secs(30))?;
    db.migrate()?;
    let operator = Caller {
        user_id: "eval".to_owned(),
        is_platform_operator: true,
        memberships: Vec::new(),
    };
    let describe =
        |what: String| move |e: crate::error::AppError| anyhow!("{what}: {}", e.describe());
    let org = |kind: &str, name: &str| {
        serde_json::from_value::<crate::dto::organizations::CreateOrganization>(
            serde_json::json!({"kind": kind, "name": name, "country": "TW"}),
        )
    };
    let university = crate::service::organizations::create(
        &db,
        Some(&operator),
        org("university", "Evaluation University")?,
    )
    .await
    .map_err(describe("university".into()))?
    .value
    .id;
    let company = crate::service::organizations::create(
        &db,
        Some(&operator),
        org("company", "Evaluation Company")?,
    )
    .await
    .map_err(describe("company".into()))?
    .value
    .id;

    let mut faculty_ids = HashMap::new();
    for f in &set.faculty {
        let mut body = serde_json::to_value(f)?;
        body["university_id"] = university.clone().into();
        body["visibility"] = "public".into();
        let input = serde_json::from_value(body).with_context(|| format!("faculty {:?}", f.key))?;
        let created = crate::service::faculty::create(&db, Some(&operator), input)
            .await
            .map_err(describe(format!("faculty {:?}", f.key)))?;
        faculty_ids.insert(f.key.clone(), created.value.id);
    }
    let mut need_ids = HashMap::new();
    for n in &set.needs {
        let mut body = serde_json::to_value(n)?;
        body["company_id"] = company.clone().into();
        body["status"] = "open".into();
        body["visibility"] = "public".into();
        let input = serde_json::from_value(body).with_context(|| format!("need {:?}", n.key))?;
        let created = crate::service::needs::create(&db, Some(&operator), input)
            .await
            .map_err(describe(format!("need {:?}", n.key)))?;
        need_ids.insert(n.key.clone(), created.value.id);
    }

    let index = SearchIndex::open(&work.join("index"), db.clone(), Duration::from_millis(20))?;
    if !index
        .wait_for_current(Duration::from_secs(600))
        .await
        .map_err(|e| anyhow!(e.describe()))?
    {
        bail!("the index did not catch up within 10 minutes");
    }
    Ok(Loaded {
        db,
        index,
        operator,
        faculty: faculty_ids,
        needs: need_ids,
    })
}

/// Loads the set into the (empty or not) database at `database_url`, indexes it under
/// `work`, and scores it.
pub async fn run(set: &EvalSet, database_url: &str, work: &Path) -> anyhow::Result<Report> {
    let Loaded {
        db,
        index,
        faculty: faculty_ids,
        needs: need_ids,
        ..
    } = load(set, database_url, work).await?;
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let mut per_item = Vec::new();
    let (mut wrong, mut weight, mut ndcgs, mut losses, mut candidates) =
        (0.0, 0.0, Vec::new(), Vec::new(), 0);
    for item in &set.items {
        let need_id = need_ids[&item.need].clone();
        let ids: Vec<String> = item
            .candidates
            .iter()
            .map(|c| faculty_ids[&c.faculty].clone())
            .collect();
        let (need, profiles) = db
            .run(move |c| {
                Ok((
                    source::needs(c, std::slice::from_ref(&need_id))?,
                    source::faculty(c, &ids)?,
                ))
            })
            .await
            .map_err(|e| anyhow!(e.describe()))?;
        let need = need
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("need vanished"))?;
        let by_id: HashMap<&str, &source::FacultySource> =
            profiles.iter().map(|p| (p.row.id.as_str(), p)).collect();
        let mut ranking = Vec::new();
        for c in &item.candidates {
            let profile = by_id
                .get(faculty_ids[&c.faculty].as_str())
                .ok_or_else(|| anyhow!("profile vanished"))?;
            let (_, s) = crate::service::matching::score_pair(&index, &need, profile, year)
                .map_err(|e| anyhow!(e.describe()))?;
            ranking.push((c.faculty.clone(), c.grade, s.score));
        }
        // Best first; equal scores keep the file's order (a tie costs half in the loss anyway).
        ranking.sort_by(|a, b| b.2.total_cmp(&a.2));
        let grades: Vec<u8> = ranking.iter().map(|r| r.1).collect();
        let ndcg = ndcg_at(10, &grades);
        let (w, t) = pairwise(&ranking.iter().map(|r| (r.2, r.1)).collect::<Vec<_>>());
        wrong += w;
        weight += t;
        let loss = (t > 0.0).then(|| w / t);
        ndcgs.extend(ndcg);
        losses.extend(loss);
        candidates += ranking.len();
        per_item.push(ItemReport {
            need: item.need.clone(),
            ndcg_at_10: ndcg,
            pairwise_loss: loss,
            ranking,
        });
    }
    index.shutdown();
    let mean = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    Ok(Report {
        items: per_item.len(),
        candidates,
        ndcg_at_10: mean(&ndcgs),
        pairwise_loss: if weight > 0.0 { wrong / weight } else { 0.0 },
        pairwise_loss_per_item: mean(&losses),
        per_item,
    })
}

/// The development set from real text: SBIR awards (title, abstract, year, firm), as in
/// `../shared/data/sbir-abstracts.jsonl.gz`. Every firm with at least `DEV_MIN_AWARDS` awards
/// becomes a profile; its most recent award (latest year, then title) becomes a need, to which
/// the firm is the one relevant answer; the profile's publications are up to
/// `DEV_PUBLICATIONS` of its other awards, most recent first, leaving out those with the
/// need's title (a Phase II award often repeats its Phase I's title and text, which would
/// make the task a look-up). Built from the file each time, so no copy of the corpus ships.
pub const DEV_MIN_AWARDS: usize = 6;
pub const DEV_PUBLICATIONS: usize = 10;

#[derive(Debug, Deserialize)]
struct Award {
    title: String,
    #[serde(default, rename = "abstract")]
    abstract_: Option<String>,
    firm: String,
    #[serde(default)]
    year: Option<i32>,
}

/// Profiles and needs of the development set; `relevant[i]` is the key of the profile that
/// answers `needs[i]`.
pub struct DevSet {
    pub faculty: Vec<EvalFaculty>,
    pub needs: Vec<EvalNeed>,
    pub relevant: Vec<String>,
}

/// Builds the development set from an SBIR file (`.jsonl`, or `.jsonl.gz`); `firms` keeps only
/// the first so many firms (by name), for a quicker run.
pub fn dev_set(path: &Path, firms: Option<usize>) -> anyhow::Result<DevSet> {
    use std::io::BufRead;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(std::io::BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let mut by_firm: std::collections::BTreeMap<String, Vec<Award>> = Default::default();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let award: Award = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {}", path.display(), n + 1))?;
        by_firm
            .entry(award.firm.trim().to_owned())
            .or_default()
            .push(award);
    }
    let title_key = |t: &str| t.trim().to_lowercase();
    let mut set = DevSet {
        faculty: Vec::new(),
        needs: Vec::new(),
        relevant: Vec::new(),
    };
    let chosen = by_firm
        .into_iter()
        .filter(|(_, awards)| awards.len() >= DEV_MIN_AWARDS)
        .take(firms.unwrap_or(usize::MAX));
    for (i, (firm, mut awards)) in chosen.enumerate() {
        awards.sort_by(|a, b| b.year.cmp(&a.year).then_with(|| a.title.cmp(&b.title)));
        let need = awards.remove(0);
        let key = format!("firm-{i}");
        let publications = awards
            .into_iter()
            .filter(|a| title_key(&a.title) != title_key(&need.title))
            .take(DEV_PUBLICATIONS)
            .map(|a| EvalPublication {
                title: a.title,
                abstract_: a.abstract_,
                year: a.year,
                venue: None,
            })
            .collect();
        set.faculty.push(EvalFaculty::of_publications(
            key.clone(),
            firm,
            publications,
        ));
        set.needs.push(EvalNeed {
            key: format!("need-{i}"),
            title: need.title,
            summary: None,
            description: need.abstract_,
            keywords: Vec::new(),
        });
        set.relevant.push(key);
    }
    if set.needs.is_empty() {
        bail!("{}: no firm has {DEV_MIN_AWARDS} awards", path.display());
    }
    Ok(set)
}

/// How one direction of the development set ranked: each query's one relevant answer.
#[derive(Debug, Clone, Serialize)]
pub struct DevRanking {
    /// Queries ranked (needs, or profiles).
    pub queries: usize,
    /// Candidates each query ranks (profiles, or needs).
    pub candidates: usize,
    /// Mean reciprocal rank of the relevant answer (0 where it is not ranked at all).
    pub mrr: f64,
    pub recall_at_10: f64,
    /// With one relevant answer: `1 / log2(rank + 1)` within the first 10, else 0.
    pub ndcg_at_10: f64,
    /// Queries whose relevant answer shares no word with them (not ranked at all).
    pub unranked: usize,
    /// Per query: the relevant answer's rank (1-based), if ranked.
    pub ranks: Vec<Option<usize>>,
}

impl DevRanking {
    fn new(ranks: Vec<Option<usize>>, candidates: usize) -> Self {
        let n = ranks.len().max(1) as f64;
        let sum = |f: &dyn Fn(usize) -> f64| ranks.iter().flatten().map(|r| f(*r)).sum::<f64>() / n;
        Self {
            queries: ranks.len(),
            candidates,
            mrr: sum(&|r| 1.0 / r as f64),
            recall_at_10: sum(&|r| if r <= 10 { 1.0 } else { 0.0 }),
            ndcg_at_10: sum(&|r| {
                if r <= 10 {
                    1.0 / ((r + 1) as f64).log2()
                } else {
                    0.0
                }
            }),
            unranked: ranks.iter().filter(|r| r.is_none()).count(),
            ranks,
        }
    }
}

/// Both directions of the development set.
#[derive(Debug, Clone, Serialize)]
pub struct DevReport {
    /// A company's view: every need ranks all profiles (`GET /needs/{id}/matches`).
    pub needs_to_profiles: DevRanking,
    /// A professor's view: every profile ranks all needs (`GET /faculty/{id}/matches`).
    pub profiles_to_needs: DevRanking,
}

/// Pages through a match list (`page(offset)` gives one page's ids, in order) until `want`
/// appears or the list ends: its 1-based rank.
async fn rank_of<F, Fut>(want: &str, mut page: F) -> anyhow::Result<Option<usize>>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = crate::error::AppResult<Vec<String>>>,
{
    let mut offset = 0;
    loop {
        let ids = page(offset).await.map_err(|e| anyhow!(e.describe()))?;
        if let Some(at) = ids.iter().position(|id| id == want) {
            return Ok(Some(offset as usize + at + 1));
        }
        if (ids.len() as i64) < DEV_PAGE {
            return Ok(None);
        }
        offset += DEV_PAGE;
    }
}

const DEV_PAGE: i64 = 500;

/// Loads the development set, then ranks through the API's match lists, as the operator,
/// page after page until the relevant answer appears or the list ends: every profile for
/// every need (`GET /needs/{id}/matches`), and every need for every profile
/// (`GET /faculty/{id}/matches`).
pub async fn run_dev(set: &DevSet, database_url: &str, work: &Path) -> anyhow::Result<DevReport> {
    use crate::dto::matching::{FacultyMatchParams, NeedMatchParams};
    use crate::service::matching::{faculty_matches, need_matches};
    let labelled = EvalSet {
        description: None,
        faculty: set.faculty.clone(),
        needs: set.needs.clone(),
        items: Vec::new(),
    };
    let loaded = load(&labelled, database_url, work).await?;
    let (db, index, operator) = (&loaded.db, &loaded.index, Some(&loaded.operator));
    let mut to_profiles = Vec::with_capacity(set.needs.len());
    let mut to_needs = Vec::with_capacity(set.needs.len());
    for (need, relevant) in set.needs.iter().zip(&set.relevant) {
        let (need_id, profile_id) = (&loaded.needs[&need.key], &loaded.faculty[relevant]);
        to_profiles.push(
            rank_of(profile_id, |offset| async move {
                let params = NeedMatchParams {
                    limit: Some(DEV_PAGE),
                    offset: Some(offset),
                    ..Default::default()
                };
                let page = need_matches(db, index, operator, need_id.clone(), params).await?;
                Ok(page.items.into_iter().map(|m| m.faculty.id).collect())
            })
            .await?,
        );
        to_needs.push(
            rank_of(need_id, |offset| async move {
                let params = FacultyMatchParams {
                    limit: Some(DEV_PAGE),
                    offset: Some(offset),
                    ..Default::default()
                };
                let page = faculty_matches(db, index, operator, profile_id.clone(), params).await?;
                Ok(page.items.into_iter().map(|m| m.need.id).collect())
            })
            .await?,
        );
    }
    loaded.index.shutdown();
    Ok(DevReport {
        needs_to_profiles: DevRanking::new(to_profiles, set.faculty.len()),
        profiles_to_needs: DevRanking::new(to_needs, set.needs.len()),
    })
}

/// The classic baseline on the same development set: plain BM25 (SQLite FTS5, Porter
/// stemming, k1 = 1.2, b = 0.75) over the same texts, every word of the query text ORed. A
/// profile's text is its publications' titles and abstracts (as matching, never its name); a
/// need's, its title and description. `liaison eval --sbir FILE --baseline` prints it beside
/// Liaison's figures, so that a ranking change is judged against what a team would get for
/// free.
pub fn baseline_dev(set: &DevSet, work: &Path) -> anyhow::Result<DevReport> {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};

    #[derive(QueryableByName)]
    struct Ranked {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let path = work.join("baseline.sqlite3");
    let mut conn = SqliteConnection::establish(path.to_str().context("work path is not UTF-8")?)?;
    conn.batch_execute(
        "CREATE VIRTUAL TABLE profiles USING fts5(body, tokenize = 'porter unicode61');
         CREATE VIRTUAL TABLE needs USING fts5(body, tokenize = 'porter unicode61');",
    )?;
    let profile_text = |f: &EvalFaculty| {
        f.publications
            .iter()
            .map(|p| {
                format!(
                    "{}\n{}",
                    p.title,
                    p.abstract_.as_deref().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let need_text = |n: &EvalNeed| {
        format!(
            "{}\n{}",
            n.title,
            n.description.as_deref().unwrap_or_default()
        )
    };
    let keys: HashMap<&str, i64> = set
        .faculty
        .iter()
        .enumerate()
        .map(|(i, f)| (f.key.as_str(), i as i64))
        .collect();
    conn.transaction(|c| {
        for (i, f) in set.faculty.iter().enumerate() {
            diesel::sql_query("INSERT INTO profiles (rowid, body) VALUES (?, ?)")
                .bind::<BigInt, _>(i as i64)
                .bind::<Text, _>(profile_text(f))
                .execute(c)?;
        }
        for (i, n) in set.needs.iter().enumerate() {
            diesel::sql_query("INSERT INTO needs (rowid, body) VALUES (?, ?)")
                .bind::<BigInt, _>(i as i64)
                .bind::<Text, _>(need_text(n))
                .execute(c)?;
        }
        diesel::QueryResult::Ok(())
    })?;
    let mut rank = |table: &str, text: &str, want: i64| -> anyhow::Result<Option<usize>> {
        let query = any_word(text);
        if query.is_empty() {
            return Ok(None);
        }
        let ranked: Vec<Ranked> = diesel::sql_query(format!(
            "SELECT rowid AS id FROM {table} WHERE {table} MATCH ? ORDER BY bm25({table})"
        ))
        .bind::<Text, _>(query)
        .load(&mut conn)?;
        Ok(ranked.iter().position(|r| r.id == want).map(|p| p + 1))
    };
    let mut to_profiles = Vec::with_capacity(set.needs.len());
    let mut to_needs = Vec::with_capacity(set.needs.len());
    for (i, (need, relevant)) in set.needs.iter().zip(&set.relevant).enumerate() {
        let profile = keys[relevant.as_str()];
        to_profiles.push(rank("profiles", &need_text(need), profile)?);
        let text = profile_text(&set.faculty[profile as usize]);
        to_needs.push(rank("needs", &text, i as i64)?);
    }
    Ok(DevReport {
        needs_to_profiles: DevRanking::new(to_profiles, set.faculty.len()),
        profiles_to_needs: DevRanking::new(to_needs, set.needs.len()),
    })
}

/// Every distinct word of `text` as an FTS5 query that any of them satisfies: each quoted,
/// so that no word is read as syntax.
fn any_word(text: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| seen.insert(w.clone()))
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Reads a labelled set from a file.
pub fn read(path: &Path) -> anyhow::Result<EvalSet> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid set", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_set_takes_each_firms_latest_award_as_its_need() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("sbir.jsonl");
        let mut lines = Vec::new();
        let award = |firm: &str, title: &str, year: i32| {
            serde_json::json!({"title": title, "abstract": format!("{title} text"), "firm": firm,
                               "year": year, "agency": "x", "phase": "Phase I"})
            .to_string()
        };
        // Seven awards; the latest (2020) repeats an older title, which is left out.
        for (y, t) in [
            (2010, "A"),
            (2011, "B"),
            (2012, "C"),
            (2013, "D"),
            (2014, "E"),
        ] {
            lines.push(award("Optics Inc", t, y));
        }
        lines.push(award("Optics Inc", "Lidar", 2015));
        lines.push(award("Optics Inc ", "Lidar", 2020));
        // Five awards: too few.
        for (y, t) in [
            (2010, "P"),
            (2011, "Q"),
            (2012, "R"),
            (2013, "S"),
            (2014, "T"),
        ] {
            lines.push(award("Small LLC", t, y));
        }
        std::fs::write(&path, lines.join("\n"))?;
        let set = dev_set(&path, None)?;
        assert_eq!(set.faculty.len(), 1);
        assert_eq!(set.faculty[0].name, "Optics Inc");
        assert_eq!(set.needs[0].title, "Lidar");
        let titles: Vec<&str> = set.faculty[0]
            .publications
            .iter()
            .map(|p| p.title.as_str())
            .collect();
        assert_eq!(titles, ["E", "D", "C", "B", "A"]);
        assert_eq!(set.relevant, [set.faculty[0].key.clone()]);
        Ok(())
    }

    #[test]
    fn the_baseline_ranks_each_firm_by_plain_bm25() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let publication = |title: &str, abstract_: &str| EvalPublication {
            title: title.into(),
            abstract_: Some(abstract_.into()),
            year: Some(2020),
            venue: None,
        };
        let firm = |key: &str, pubs: Vec<EvalPublication>| {
            EvalFaculty::of_publications(key.into(), key.into(), pubs)
        };
        let need = |key: &str, title: &str, text: &str| EvalNeed {
            key: key.into(),
            title: title.into(),
            summary: None,
            description: Some(text.into()),
            keywords: Vec::new(),
        };
        let set = DevSet {
            faculty: vec![
                firm(
                    "a",
                    vec![publication(
                        "Lithium battery cathodes",
                        "Cathode materials for batteries.",
                    )],
                ),
                firm(
                    "b",
                    vec![publication(
                        "Radar antennas",
                        "Phased array antennas for radar.",
                    )],
                ),
            ],
            needs: vec![
                need("n-a", "Battery cathode chemistry", "New cathodes."),
                need("n-b", "Antenna arrays", "Radar \"arrays\" (phased) OR NOT."),
            ],
            relevant: vec!["a".into(), "b".into()],
        };
        let report = baseline_dev(&set, dir.path())?;
        assert_eq!(report.needs_to_profiles.ranks, vec![Some(1), Some(1)]);
        assert_eq!(report.profiles_to_needs.ranks, vec![Some(1), Some(1)]);
        Ok(())
    }

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_less_otherwise() {
        assert_eq!(ndcg_at(10, &[3, 2, 0]), Some(1.0));
        // (0 + 3/log2(3) + 7/2) / (7 + 3/log2(3) + 0)
        let expected = (3.0 / 3f64.log2() + 3.5) / (7.0 + 3.0 / 3f64.log2());
        assert!(ndcg_at(10, &[0, 2, 3]).is_some_and(|v| (v - expected).abs() < 1e-12));
        // Only the first k count.
        assert_eq!(ndcg_at(1, &[3, 0]), Some(1.0));
        assert_eq!(ndcg_at(10, &[0, 0]), None);
    }

    #[test]
    fn pairwise_loss_counts_wrong_pairs_by_weight_and_ties_by_half() {
        // Perfect.
        assert_eq!(pairwise(&[(0.9, 3), (0.5, 1), (0.1, 0)]), (0.0, 6.0));
        // Reversed: every pair wrong.
        assert_eq!(pairwise(&[(0.1, 3), (0.5, 1), (0.9, 0)]), (6.0, 6.0));
        // All tied: half.
        assert_eq!(pairwise(&[(0.0, 3), (0.0, 1), (0.0, 0)]), (3.0, 6.0));
        // Same grades do not count.
        assert_eq!(pairwise(&[(0.0, 2), (0.9, 2)]), (0.0, 0.0));
    }
}
