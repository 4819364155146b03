//! The index's schema: its fields and how each is indexed.

use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::search::analyzer::MULTILINGUAL;

/// The schema's fields.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub kind: Field,
    pub title: Field,
    pub keywords: Field,
    pub body: Field,
    pub publications: Field,
    pub org: Field,
    pub country: Field,
    pub department: Field,
    pub status: Field,
    pub visibility: Field,
    pub collaboration: Field,
    pub keyword: Field,
    pub invited: Field,
    /// The department as written (for facet values; `department` holds the lookup key).
    pub department_label: Field,
    /// Centres: the organizations (host, partners) and profiles (director, members) whose
    /// people may see a participants-only centre.
    pub participant: Field,
}

/// Publications are indexed without positions: they are the bulk of the index, and their
/// positions would be a large share of what importing and merging cost. A phrase (or a CJK word,
/// which is a phrase of bigrams) matches publications when all its words occur in them
/// (see `query::parse`); titles, keywords and bodies keep positions and exact phrases.
const PUBLICATIONS: IndexRecordOption = IndexRecordOption::WithFreqs;

/// The index's schema; `publications` says how that field is indexed (`query_schema`).
fn schema_with(publications: IndexRecordOption) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_with = |stored: bool, option: IndexRecordOption| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(MULTILINGUAL)
                .set_index_option(option),
        );
        if stored { o.set_stored() } else { o }
    };
    let text = |stored: bool| text_with(stored, IndexRecordOption::WithFreqsAndPositions);
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING),
        title: b.add_text_field("title", text(true)),
        keywords: b.add_text_field("keywords", text(true)),
        body: b.add_text_field("body", text(true)),
        publications: b.add_text_field("publications", text_with(false, publications)),
        org: b.add_text_field("org", STRING | STORED | FAST),
        country: b.add_text_field("country", STRING),
        department: b.add_text_field("department", STRING),
        // FAST (columnar) fields are what facet counts aggregate over.
        status: b.add_text_field("status", STRING | STORED | FAST),
        visibility: b.add_text_field("visibility", STRING),
        collaboration: b.add_text_field("collaboration", STRING | FAST),
        keyword: b.add_text_field("keyword", STRING | FAST),
        invited: b.add_text_field("invited", STRING),
        department_label: b.add_text_field("department_label", STRING | FAST),
        participant: b.add_text_field("participant", STRING),
    };
    (b.build(), fields)
}

pub(in crate::search) fn schema() -> (Schema, Fields) {
    schema_with(PUBLICATIONS)
}

/// The schema the query parser reads: the index's, with positions on every text field, so
/// that it builds a phrase wherever the caller's text has one; `query::parse` turns phrases
/// on fields indexed without positions into all of their words. Same fields in the same
/// order, so its `Field`s are the index's.
pub(in crate::search) fn query_schema() -> Schema {
    schema_with(IndexRecordOption::WithFreqsAndPositions).0
}

/// Lowercased, trimmed: how filter values are stored and looked up.
pub fn key(s: &str) -> String {
    s.trim().to_lowercase()
}
