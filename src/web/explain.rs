//! How a match's score is drawn, on every page that shows one: the score as a bar and a
//! number, the words that made it with their share and where the profile has them, the
//! publications that match, the keywords both share, and (for one pair) why it would not
//! be listed.

use maud::{Markup, html};

use super::Messages;
use crate::dto::matching::{Explanation, WhyNot, WhyNotCode};

/// A score in 0..1 as a meter with its figure written beside it (never colour alone).
pub fn score(m: &Messages, s: f32) -> Markup {
    html! {
        span.score {
            meter min="0" max="1" value=(format!("{s:.3}")) aria-label=(m.score) {}
            " " strong { (format!("{s:.2}")) }
        }
    }
}

fn percent(x: f32) -> String {
    format!("{:.0}%", x * 100.0)
}

fn field_name(m: &Messages, field: &str) -> &'static str {
    match field {
        "keywords" => m.field_keywords,
        "publications" => m.field_publications,
        _ => m.field_body,
    }
}

/// The explanation of one pair.
pub fn explanation(m: &Messages, e: &Explanation) -> Markup {
    html! {
        div.explanation {
            p.meta {
                (m.profile_score) ": " (format!("{:.2}", e.profile_score))
                " · " (m.best_publication_score) ": " (format!("{:.2}", e.best_publication_score))
            }
            @if !e.terms.is_empty() {
                table.terms {
                    caption { (m.words_that_count) }
                    (super::head(&[m.word, m.share, m.found_in]))
                    tbody {
                        @for t in &e.terms {
                            tr {
                                th scope="row" { (t.term) }
                                td {
                                    meter min="0" max="1" value=(format!("{:.3}", t.share)) aria-label=(m.share) {}
                                    " " (percent(t.share))
                                }
                                td {
                                    @for (i, (field, part)) in t.fields.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        (field_name(m, field)) " " (percent(*part))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !e.publications.is_empty() {
                h4 { (m.matching_publications) }
                ul.publications {
                    @for p in &e.publications {
                        li {
                            cite { (p.title) }
                            @if let Some(y) = p.year { " (" (y) ")" }
                            " · " (format!("{:.2}", p.score))
                            @if !p.terms.is_empty() {
                                " · " span.meta { (p.terms.join(", ")) }
                            }
                        }
                    }
                }
            }
            @if !e.shared_keywords.is_empty() {
                p { (m.shared_keywords) ": " (e.shared_keywords.join(", ")) }
            }
        }
    }
}

/// Why a pair would not be listed, one line each.
pub fn why_not(m: &Messages, reasons: &[WhyNot]) -> Markup {
    html! {
        ul.why-not {
            @for r in reasons {
                li {
                    (if r.list == "need_matches" { m.in_the_needs_list } else { m.in_the_professors_list }) ": "
                    strong {
                        (match r.code {
                            WhyNotCode::NoSharedTerms => m.why_no_shared_terms,
                            WhyNotCode::BelowMinScore => m.why_below_min_score,
                            WhyNotCode::FilteredOut => m.why_filtered_out,
                            WhyNotCode::NeedNotOpen => m.why_need_not_open,
                            WhyNotCode::NotVisibleToFaculty => m.why_not_visible_to_faculty,
                        })
                    }
                    " — " span.meta { (r.detail) }
                }
            }
        }
    }
}
