//! Matches between needs and faculty profiles, with the reasons behind each score.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::faculty::CollaborationType;
use super::needs::{NeedStatus, NeedVisibility};

/// Filters for the profiles matched to a need.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NeedMatchParams {
    /// Only profiles of this university.
    pub university_id: Option<String>,
    /// ISO 3166-1 alpha-2 country of the profile's university.
    #[param(value_type = Option<crate::dto::IsoCountry>)]
    pub country: Option<String>,
    /// Only profiles available for this kind of collaboration.
    pub availability: Option<CollaborationType>,
    /// Only matches scoring at least this (0..1).
    #[param(minimum = 0, maximum = 1)]
    pub min_score: Option<f32>,
    /// 1–500, default 20. A large limit returns every profile that scores above zero.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Matches to skip (with `limit`, for pages). Every page is cut from one order, so
    /// pages neither repeat nor skip a match.
    #[param(minimum = 0, maximum = 10000)]
    pub offset: Option<i64>,
}

/// Filters for the needs matched to a profile.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FacultyMatchParams {
    /// Only needs of this company.
    pub company_id: Option<String>,
    /// ISO 3166-1 alpha-2 country of the need's company.
    #[param(value_type = Option<crate::dto::IsoCountry>)]
    pub country: Option<String>,
    /// Only needs asking for this kind of collaboration.
    pub collaboration_type: Option<CollaborationType>,
    /// Only matches scoring at least this (0..1).
    #[param(minimum = 0, maximum = 1)]
    pub min_score: Option<f32>,
    /// 1–500, default 20. A large limit returns every need that scores above zero.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Matches to skip (with `limit`, for pages). Every page is cut from one order, so
    /// pages neither repeat nor skip a match.
    #[param(minimum = 0, maximum = 10000)]
    pub offset: Option<i64>,
}

/// A pair to explain, and optionally the filters of the lists it is compared against.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    pub need_id: String,
    pub faculty_id: String,
    /// As in the need's matches.
    pub university_id: Option<String>,
    /// As in either list: the profile's or the need's country must be this.
    #[param(value_type = Option<crate::dto::IsoCountry>)]
    pub country: Option<String>,
    /// As in the need's matches.
    pub availability: Option<CollaborationType>,
    /// As in the profile's matches.
    pub company_id: Option<String>,
    /// As in the profile's matches.
    pub collaboration_type: Option<CollaborationType>,
    /// As in either list.
    #[param(minimum = 0, maximum = 1)]
    pub min_score: Option<f32>,
}

/// One word of the need and its part in the score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TermContribution {
    /// The word as the need writes it (CJK text: a two-character piece); when the profile
    /// has it only in another language or spelling, the glossary's pair, the profile's form
    /// first: `分散式訓練 ≈ distributed training`.
    pub term: String,
    /// Its share of the score, 0..1 (the shares of all words add up to 1).
    pub share: f32,
    /// Where the profile has it: share per field (`keywords`, `body` — interests, bio,
    /// title, department — and `publications`), adding up to 1.
    pub fields: BTreeMap<String, f32>,
}

/// A publication of the profile that matches the need.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicationMatch {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Its own match with the need, 0..1, after `recency`.
    pub score: f32,
    /// 1 for work of the last three years, halving every eight years after (at least 0.25;
    /// 0.5 when the year is unknown).
    pub recency: f32,
    /// The need's words it contains, strongest first (glossary pairs as in `terms`).
    pub terms: Vec<String>,
}

/// Why a pair scores what it does.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    /// How well the whole profile covers the need's words, 0..1.
    pub profile_score: f32,
    /// The best publication's score (0 without matching publications).
    pub best_publication_score: f32,
    /// The words that contributed most, largest share first (at most 10).
    pub terms: Vec<TermContribution>,
    /// The best-matching publications, best first (at most 3).
    pub publications: Vec<PublicationMatch>,
    /// Keywords the need and the profile share (ignoring case).
    pub shared_keywords: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacultySummary {
    pub id: String,
    pub university_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub university_name: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    pub keywords: Vec<String>,
    pub availability: Vec<CollaborationType>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NeedSummary {
    pub id: String,
    pub company_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub keywords: Vec<String>,
    pub collaboration_types: Vec<CollaborationType>,
    pub status: NeedStatus,
    pub visibility: NeedVisibility,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<NaiveDate>,
    /// Compute the need brings or needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute: Option<super::needs::NeedCompute>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacultyMatch {
    pub faculty: FacultySummary,
    /// 0..1, comparable across needs: the share of the need's (importance-weighted) words the
    /// profile covers, with its best recent publication able to lift it.
    pub score: f32,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NeedMatch {
    pub need: NeedSummary,
    /// The same pair score as in the need's matches and in `/matches/explain`.
    pub score: f32,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacultyMatches {
    pub need_id: String,
    /// Profiles the caller may see, passing the filters, that share at least one of the
    /// need's words (before `min_score`).
    pub candidates: usize,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<FacultyMatch>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NeedMatches {
    pub faculty_id: String,
    /// Open needs the caller may see, passing the filters, that share at least one of the
    /// profile's words (before `min_score`).
    pub candidates: usize,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<NeedMatch>,
}

/// Why a pair would not be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhyNotCode {
    /// Need and profile share no word that counts.
    NoSharedTerms,
    /// The score is below the `min_score` asked for.
    BelowMinScore,
    /// A filter (named in `detail`) excludes the pair.
    FilteredOut,
    /// Only open needs are matched to profiles.
    NeedNotOpen,
    /// The profile's owner cannot see the need (draft, confidential without an invitation,
    /// or a members-only need and a profile without an account), so the need does not
    /// appear in that professor's own matches.
    NotVisibleToFaculty,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhyNot {
    pub code: WhyNotCode,
    /// Which list it concerns: `need_matches` (profiles for the need) or `faculty_matches`
    /// (needs for the profile).
    pub list: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PairExplanation {
    pub need: NeedSummary,
    pub faculty: FacultySummary,
    /// The pair's score, the same as in either list.
    pub score: f32,
    pub explanation: Explanation,
    /// Whether the profile would appear in the need's matches for this caller (with the
    /// filters given), ignoring how many others rank above it.
    pub in_need_matches: bool,
    /// Whether the need would appear in the profile's matches for this caller.
    pub in_faculty_matches: bool,
    /// Why not, when either is false (and other things worth knowing, such as the
    /// professor not being able to see the need).
    pub reasons: Vec<WhyNot>,
}
