//! What a team would build instead of Liaison's search, measured in the same run on the same
//! profiles and query texts: SQLite FTS5 with `bm25()` and column weights (the embedded
//! choice), and PostgreSQL full-text search (a weighted `tsvector` with a GIN index,
//! `websearch_to_tsquery`, top 20 by `ts_rank_cd` with the total count).
//!
//! Both index the profiles every anonymous caller sees (Liaison's `public` ones) in three
//! columns: name, local name and interests; keywords; publications (titles and abstracts).
//! Both tokenise as they do out of the box (English stemming; no segmentation of Chinese or
//! Korean text, where a run of characters without spaces is one token).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};
use serde_json::Value;

/// A profile's text in the three columns.
pub struct Doc {
    pub id: i64,
    pub names: String,
    pub keywords: String,
    pub publications: String,
}

impl Doc {
    /// From a profile as the bench imports it (one NDJSON line).
    pub fn from_profile(id: i64, profile: &Value) -> Self {
        let text = |k: &str| profile[k].as_str().unwrap_or_default().to_owned();
        let keywords = profile["keywords"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let publications = profile["publications"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{}. {}",
                    p["title"].as_str().unwrap_or_default(),
                    p["abstract"].as_str().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            id,
            names: format!(
                "{} {} {}",
                text("name"),
                text("local_name"),
                text("research_interests")
            ),
            keywords,
            publications,
        }
    }
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Double)]
    #[allow(dead_code)]
    score: f64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// One search: the total count and the top 20 ids.
pub type Answer = (usize, Vec<i64>);

/// A full-text engine the bench can load and query.
pub trait Engine: Sync {
    type Conn;
    fn name(&self) -> &'static str;
    fn connect(&self) -> Result<Self::Conn>;
    /// Creates the table and indexes the documents (in batches, as they come).
    fn load(&self, docs: &mut dyn Iterator<Item = Doc>) -> Result<usize>;
    fn search(&self, conn: &mut Self::Conn, query: &str) -> Result<Answer>;
}

fn first_hits(hits: Vec<Hit>) -> Answer {
    let total = hits.first().map_or(0, |h| h.total as usize);
    (total, hits.into_iter().map(|h| h.id).collect())
}

/// Feeds the documents to `insert` a thousand to a transaction; returns how many.
fn in_batches<C: Connection>(
    conn: &mut C,
    docs: &mut dyn Iterator<Item = Doc>,
    insert: impl Fn(&mut C, &Doc) -> QueryResult<usize>,
) -> Result<usize> {
    let mut n = 0;
    loop {
        let batch: Vec<Doc> = (&mut *docs).take(1000).collect();
        if batch.is_empty() {
            return Ok(n);
        }
        conn.transaction(|c| batch.iter().try_for_each(|d| insert(c, d).map(|_| ())))?;
        n += batch.len();
    }
}

/// SQLite FTS5 in a file of its own.
pub struct Fts5 {
    pub path: std::path::PathBuf,
}

/// A query as FTS5 reads it: each word or quoted phrase a phrase (so punctuation cannot be
/// syntax), `-word` as NOT, the rest ANDed as a web search engine would.
pub fn fts5_query(q: &str) -> String {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    let mut rest = q.trim();
    while !rest.is_empty() {
        let (negated, body) = match rest.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, rest.strip_prefix('+').unwrap_or(rest)),
        };
        let (term, after) = if let Some(b) = body.strip_prefix('"') {
            let end = b.find('"').unwrap_or(b.len());
            (&b[..end], b.get(end + 1..).unwrap_or(""))
        } else {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            (&body[..end], &body[end..])
        };
        let phrase = format!("\"{}\"", term.replace('"', ""));
        if !term.trim().is_empty() {
            if negated { &mut exclude } else { &mut include }.push(phrase);
        }
        rest = after.trim_start();
    }
    let mut out = include.join(" ");
    for e in exclude {
        out = format!("{out} NOT {e}");
    }
    out
}

impl Engine for Fts5 {
    type Conn = SqliteConnection;

    fn name(&self) -> &'static str {
        "SQLite FTS5, bm25()"
    }

    fn connect(&self) -> Result<SqliteConnection> {
        let url = self.path.to_str().context("FTS5 path is not UTF-8")?;
        Ok(SqliteConnection::establish(url)?)
    }

    fn load(&self, docs: &mut dyn Iterator<Item = Doc>) -> Result<usize> {
        let _ = std::fs::remove_file(&self.path);
        let mut conn = self.connect()?;
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             CREATE VIRTUAL TABLE p USING fts5(names, keywords, publications,
                 tokenize = 'porter unicode61');",
        )?;
        let n = in_batches(&mut conn, docs, |c, d| {
            diesel::sql_query(
                "INSERT INTO p (rowid, names, keywords, publications) VALUES (?, ?, ?, ?)",
            )
            .bind::<BigInt, _>(d.id)
            .bind::<Text, _>(&d.names)
            .bind::<Text, _>(&d.keywords)
            .bind::<Text, _>(&d.publications)
            .execute(c)
        })?;
        conn.batch_execute("INSERT INTO p(p) VALUES ('optimize');")?;
        Ok(n)
    }

    fn search(&self, conn: &mut SqliteConnection, query: &str) -> Result<Answer> {
        // FTS5 refuses bm25() beside a window function: the count is a query of its own.
        #[derive(QueryableByName)]
        struct Ranked {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let q = fts5_query(query);
        // Column weights as Liaison's fields: keywords 2.5, interests 1, publications 1.2.
        let top: Vec<Ranked> = diesel::sql_query(
            "SELECT rowid AS id FROM p WHERE p MATCH ? ORDER BY bm25(p, 1.0, 2.5, 1.2) LIMIT 20",
        )
        .bind::<Text, _>(&q)
        .load(conn)?;
        let count: Count = diesel::sql_query("SELECT count(*) AS n FROM p WHERE p MATCH ?")
            .bind::<Text, _>(&q)
            .get_result(conn)?;
        Ok((count.n as usize, top.into_iter().map(|r| r.id).collect()))
    }
}

/// PostgreSQL full-text search in a table of its own.
pub struct PgFts {
    pub url: String,
}

impl PgFts {
    /// The table is the bench's, not the database's owner's: it goes when measured.
    pub fn drop_table(&self) -> Result<()> {
        Ok(self
            .connect()?
            .batch_execute("DROP TABLE IF EXISTS bench_fts")?)
    }
}

impl Engine for PgFts {
    type Conn = PgConnection;

    fn name(&self) -> &'static str {
        "PostgreSQL tsvector + GIN, ts_rank_cd"
    }

    fn connect(&self) -> Result<PgConnection> {
        Ok(PgConnection::establish(&self.url)?)
    }

    fn load(&self, docs: &mut dyn Iterator<Item = Doc>) -> Result<usize> {
        let mut conn = self.connect()?;
        conn.batch_execute(
            "DROP TABLE IF EXISTS bench_fts;
             CREATE TABLE bench_fts (
                 id bigint PRIMARY KEY,
                 names text NOT NULL, keywords text NOT NULL, publications text NOT NULL,
                 tsv tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector('english', names), 'A') ||
                     setweight(to_tsvector('english', keywords), 'B') ||
                     setweight(to_tsvector('english', publications), 'C')) STORED);",
        )?;
        let n = in_batches(&mut conn, docs, |c, d| {
            diesel::sql_query(
                "INSERT INTO bench_fts (id, names, keywords, publications) VALUES ($1, $2, $3, $4)",
            )
            .bind::<BigInt, _>(d.id)
            .bind::<Text, _>(&d.names)
            .bind::<Text, _>(&d.keywords)
            .bind::<Text, _>(&d.publications)
            .execute(c)
        })?;
        conn.batch_execute(
            "CREATE INDEX bench_fts_tsv ON bench_fts USING gin (tsv); ANALYZE bench_fts;",
        )?;
        Ok(n)
    }

    fn search(&self, conn: &mut PgConnection, query: &str) -> Result<Answer> {
        let hits: Vec<Hit> = diesel::sql_query(
            "SELECT id, ts_rank_cd(tsv, q)::float8 AS score, count(*) OVER () AS total
             FROM bench_fts, websearch_to_tsquery('english', $1) q
             WHERE tsv @@ q ORDER BY score DESC LIMIT 20",
        )
        .bind::<Text, _>(query)
        .load(conn)?;
        Ok(first_hits(hits))
    }
}

/// Runs `total` searches over `queries` on `concurrency` threads, each with its own
/// connection: the sorted latencies in ms and the elapsed time.
pub fn latencies<E: Engine>(
    engine: &E,
    queries: &[String],
    concurrency: usize,
    total: usize,
) -> Result<(Vec<f64>, Duration)> {
    let per = total.div_ceil(concurrency);
    let started = Instant::now();
    let all = std::thread::scope(|scope| -> Result<Vec<f64>> {
        let handles: Vec<_> = (0..concurrency)
            .map(|t| {
                scope.spawn(move || -> Result<Vec<f64>> {
                    let mut conn = engine.connect()?;
                    let mut out = Vec::with_capacity(per);
                    for i in 0..per {
                        let q = &queries[(t * 7 + i) % queries.len()];
                        let started = Instant::now();
                        engine.search(&mut conn, q)?;
                        out.push(started.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(out)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(total);
        for h in handles {
            all.extend(
                h.join()
                    .map_err(|_| anyhow!("a search thread panicked"))??,
            );
        }
        Ok(all)
    })?;
    let mut all = all;
    all.sort_by(|a, b| a.total_cmp(b));
    Ok((all, started.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::fts5_query;

    #[test]
    fn web_search_syntax_becomes_fts5_phrases() {
        assert_eq!(fts5_query("neural network"), "\"neural\" \"network\"");
        assert_eq!(
            fts5_query("\"machine learning\" radar"),
            "\"machine learning\" \"radar\""
        );
        assert_eq!(fts5_query("+laser -military"), "\"laser\" NOT \"military\"");
        assert_eq!(
            fts5_query("半導體製程 良率分析"),
            "\"半導體製程\" \"良率分析\""
        );
    }
}
