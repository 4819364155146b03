//! OpenAlex: `/authors/{id}` (an `A…` id, or `orcid:…`), then the author's works from
//! `/works?filter=author.id:…` with cursor paging. Abstracts come as an inverted index (word
//! → positions) and are rebuilt; the author's topics are the keywords. The same readers take
//! the objects of OpenAlex's snapshot files (`liaison import openalex`).

use serde_json::Value;

use super::{
    Client, Fetch, SourceError, SourceErrorCode, SourceProfile, SourceWork, bare_doi, text,
};

/// A page of works (OpenAlex allows up to 200).
const PER_PAGE: usize = 200;
/// A profile keeps at most this many publications (as the API accepts).
const MAX_WORKS: usize = 2000;
/// Topics kept as keywords, the author's most frequent first.
const MAX_TOPICS: usize = 10;
/// An inverted index naming a position beyond this is not an abstract.
const MAX_ABSTRACT_WORDS: usize = 20_000;

/// The fair-use parameters OpenAlex asks for: `mailto` (its polite pool) and the API key.
#[derive(Debug, Clone, Default)]
pub struct Polite {
    pub mailto: Option<String>,
    pub api_key: Option<String>,
}

impl Polite {
    fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(m) = &self.mailto {
            q.append_pair("mailto", m);
        }
        if let Some(k) = &self.api_key {
            q.append_pair("api_key", k);
        }
        q.finish()
    }
}

/// Which author to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorId {
    /// `A5023888391`.
    OpenAlex(String),
    Orcid(String),
}

/// An OpenAlex author id in its short form (`A…`), from the short form or the URL.
pub fn short_id(id: &str) -> Option<String> {
    let id = id.trim();
    let id = id
        .strip_prefix("https://openalex.org/")
        .or_else(|| id.strip_prefix("http://openalex.org/"))
        .unwrap_or(id);
    let mut chars = id.chars();
    let first = chars.next()?.to_ascii_uppercase();
    let digits: String = chars.collect();
    (first == 'A'
        && !digits.is_empty()
        && digits.len() <= 20
        && digits.chars().all(|c| c.is_ascii_digit()))
    .then(|| format!("A{digits}"))
}

pub fn fetch(
    client: &Client,
    polite: &Polite,
    id: &AuthorId,
) -> Result<SourceProfile, SourceError> {
    let path = match id {
        AuthorId::OpenAlex(a) => format!("/authors/{a}"),
        AuthorId::Orcid(o) => format!("/authors/orcid:{o}"),
    };
    let shown = match id {
        AuthorId::OpenAlex(a) => a.clone(),
        AuthorId::Orcid(o) => format!("orcid:{o}"),
    };
    let polite_query = polite.query();
    let with_query = |path: &str, query: &str| {
        let joined: Vec<&str> = [query, polite_query.as_str()]
            .into_iter()
            .filter(|q| !q.is_empty())
            .collect();
        if joined.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", joined.join("&"))
        }
    };
    let author = match client.get(&with_query(&path, ""), "OpenAlex")? {
        Fetch::Json(v) => v,
        Fetch::Status(404, _) => {
            return Err(SourceError::new(
                SourceErrorCode::UnknownId,
                format!("OpenAlex has no author {shown}"),
            ));
        }
        Fetch::Status(status, _) => {
            return Err(SourceError::new(
                SourceErrorCode::Refused,
                format!("OpenAlex answered {status} for author {shown}"),
            ));
        }
    };
    let mut profile = read_author(&author)?;
    let Some(author_id) = profile.openalex_id.clone() else {
        return Err(malformed("the author has no id"));
    };
    let mut cursor = "*".to_owned();
    // Enough pages for the works a profile keeps, and a few more for works without titles.
    for _ in 0..MAX_WORKS / PER_PAGE + 5 {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &format!("author.id:{author_id}"))
            .append_pair("per-page", &PER_PAGE.to_string())
            .append_pair("cursor", &cursor)
            .finish();
        let page = match client.get(&with_query("/works", &query), "OpenAlex")? {
            Fetch::Json(v) => v,
            Fetch::Status(status, _) => {
                return Err(SourceError::new(
                    SourceErrorCode::Refused,
                    format!("OpenAlex answered {status} for the works of {author_id}"),
                ));
            }
        };
        let results = page
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("a works page has no results array"))?;
        profile.works.extend(results.iter().filter_map(read_work));
        let next = text(page.pointer("/meta/next_cursor"));
        match next {
            Some(n) if !results.is_empty() && profile.works.len() < MAX_WORKS && n != cursor => {
                cursor = n;
            }
            _ => break,
        }
    }
    profile.works.truncate(MAX_WORKS);
    Ok(profile)
}

fn malformed(what: &str) -> SourceError {
    SourceError::new(
        SourceErrorCode::MalformedResponse,
        format!("OpenAlex's answer is not in its published format: {what}"),
    )
}

/// An author object: name, a name in Korean or Chinese script among the alternatives, the
/// last known institution, the topics as keywords, and the ids.
pub fn read_author(author: &Value) -> Result<SourceProfile, SourceError> {
    let id = text(author.get("id"))
        .and_then(|i| short_id(&i))
        .ok_or_else(|| malformed("the author has no A… id"))?;
    let local_name = author
        .get("display_name_alternatives")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| text(Some(n)))
        .find(|n| super::is_local_script(n));
    let mut topics: Vec<(i64, String)> = author
        .get("topics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t.get("count").and_then(Value::as_i64).unwrap_or(0),
                text(t.get("display_name"))?,
            ))
        })
        .collect();
    // Most frequent first; the order OpenAlex gives breaks ties (a stable sort).
    topics.sort_by_key(|(count, _)| std::cmp::Reverse(*count));
    let affiliation = author
        .get("last_known_institutions")
        .and_then(Value::as_array)
        .and_then(|i| i.first())
        .and_then(|i| text(i.get("display_name")));
    Ok(SourceProfile {
        name: text(author.get("display_name")),
        local_name,
        bio: None,
        keywords: topics
            .into_iter()
            .take(MAX_TOPICS)
            .map(|(_, t)| t)
            .collect(),
        department: None,
        title: None,
        affiliation,
        // Some answers carry the iD only under `ids`.
        orcid: text(author.get("orcid"))
            .or_else(|| text(author.pointer("/ids/orcid")))
            .and_then(|o| {
                crate::domain::Orcid::parse("orcid", &o)
                    .ok()
                    .map(crate::domain::Orcid::into_string)
            }),
        openalex_id: Some(id),
        works: Vec::new(),
    })
}

/// A work object: title, year, venue, DOI, and the abstract rebuilt from its inverted index.
pub fn read_work(w: &Value) -> Option<SourceWork> {
    let id = text(w.get("id"))?;
    let id = id.rsplit('/').next().unwrap_or(&id).to_owned();
    let title = text(w.get("title")).or_else(|| text(w.get("display_name")))?;
    Some(SourceWork {
        source_id: id,
        title,
        abstract_: w.get("abstract_inverted_index").and_then(rebuild_abstract),
        year: w
            .get("publication_year")
            .and_then(Value::as_i64)
            .and_then(|y| i32::try_from(y).ok()),
        venue: text(w.pointer("/primary_location/source/display_name")),
        doi: text(w.get("doi")).and_then(|d| bare_doi(&d)),
    })
}

/// The abstract an inverted index (`{"word": [positions]}`) encodes; `None` for `null`, an
/// empty index, or one that is not an index.
pub fn rebuild_abstract(index: &Value) -> Option<String> {
    let index = index.as_object()?;
    let mut words: Vec<Option<&str>> = Vec::new();
    for (word, positions) in index {
        for p in positions.as_array()? {
            let p = usize::try_from(p.as_u64()?).ok()?;
            if p >= MAX_ABSTRACT_WORDS {
                return None;
            }
            if p >= words.len() {
                words.resize(p + 1, None);
            }
            words[p] = Some(word.as_str());
        }
    }
    let text: Vec<&str> = words.into_iter().flatten().collect();
    (!text.is_empty()).then(|| text.join(" "))
}

/// The author ids of a work's authorships, short form.
pub fn work_author_ids(w: &Value) -> Vec<String> {
    w.get("authorships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| text(a.pointer("/author/id")))
        .filter_map(|a| short_id(&a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abstracts_are_rebuilt_in_order() {
        let index = serde_json::json!({"GPU": [0, 3], "clusters": [1], "train": [2]});
        assert_eq!(
            rebuild_abstract(&index).as_deref(),
            Some("GPU clusters train GPU")
        );
        assert_eq!(rebuild_abstract(&Value::Null), None);
        assert_eq!(rebuild_abstract(&serde_json::json!({"x": [99999]})), None);
    }

    #[test]
    fn author_ids_have_a_short_form() {
        assert_eq!(
            short_id("https://openalex.org/A5023888391").as_deref(),
            Some("A5023888391")
        );
        assert_eq!(short_id("a123").as_deref(), Some("A123"));
        assert_eq!(short_id("W123"), None);
        assert_eq!(short_id("A"), None);
    }
}
