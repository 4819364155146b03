//! A technical glossary: the English, Traditional Chinese and Korean names of the same
//! concept, so that a need written in one language finds profiles written in another.
//!
//! The data (`glossary/*.tsv`, one file per field: AI, networking, semiconductors,
//! materials, biomedicine, energy) was written for this project: one concept per line,
//! `english<TAB>traditional chinese<TAB>korean`, each cell one to three written forms
//! separated by `|`. Every form is analysed like all text (English stemmed, CJK as bigrams),
//! so a form is found in text by its token sequence.
//!
//! Lines that share a form are one concept (the same term listed under two fields), except
//! through a short acronym: `GAN` is gallium nitride under semiconductors and a generative
//! adversarial network under AI. A form that still belongs to two concepts is ambiguous and
//! is neither found nor offered as a translation. A form translates into the concept's
//! forms in the other scripts (Latin, Han, Hangul).

use std::collections::HashMap;
use std::sync::OnceLock;

use tantivy::tokenizer::TokenStream;

use super::analyzer::multilingual;

const FILES: [&str; 6] = [
    include_str!("glossary/ai.tsv"),
    include_str!("glossary/networking.tsv"),
    include_str!("glossary/semiconductors.tsv"),
    include_str!("glossary/materials.tsv"),
    include_str!("glossary/biomedicine.tsv"),
    include_str!("glossary/energy.tsv"),
];

/// One written form of a concept.
#[derive(Debug)]
pub struct Form {
    /// As the glossary writes it.
    pub written: String,
    /// As the analyser reads it.
    pub tokens: Vec<String>,
    concept: usize,
    pub script: Script,
}

/// The writing a form is in. Translations cross scripts only: within one (English
/// acronyms and their spelled-out forms, two Chinese spellings) text already matches by its
/// own words, and on English text such synonyms measured slightly worse (`liaison eval
/// --sbir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Hangul,
    Han,
    Other,
}

/// The script of a text: Hangul if it has any, else Han if it has any CJK, else other.
pub fn script(written: &str) -> Script {
    if written
        .chars()
        .any(|c| ('\u{AC00}'..='\u{D7AF}').contains(&c) || ('\u{1100}'..='\u{11FF}').contains(&c))
    {
        Script::Hangul
    } else if written.chars().any(super::analyzer::is_cjk) {
        Script::Han
    } else {
        Script::Other
    }
}

/// A form found in a token sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub len: usize,
    pub form: usize,
}

pub struct Glossary {
    forms: Vec<Form>,
    /// The forms of each concept.
    concepts: Vec<Vec<usize>>,
    /// First token → the unambiguous forms that start with it, longest first.
    by_first: HashMap<String, Vec<usize>>,
}

/// A form written as an acronym (`GAN`, `5G`, `SoC`) can mean different things in different
/// fields, so it never makes two lines one concept.
fn is_acronym(written: &str) -> bool {
    written.chars().count() <= 5
        && written
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && written.chars().filter(|c| c.is_ascii_uppercase()).count() >= 2
}

fn analyse(text: &str) -> Vec<String> {
    let mut analyzer = multilingual();
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        tokens.push(stream.token().text.clone());
    }
    tokens
}

fn find_root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

impl Glossary {
    /// The shipped glossary (built on first use).
    pub fn get() -> &'static Glossary {
        static GLOSSARY: OnceLock<Glossary> = OnceLock::new();
        GLOSSARY.get_or_init(|| Glossary::parse(FILES.iter().flat_map(|f| f.lines())))
    }

    /// Builds a glossary from its lines (three tab-separated cells each).
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        // Each line's forms: (written, tokens, may join concepts).
        let mut lines_forms: Vec<Vec<(String, Vec<String>, bool)>> = Vec::new();
        for line in lines {
            let mut forms: Vec<(String, Vec<String>, bool)> = Vec::new();
            for written in line.split('\t').flat_map(|cell| cell.split('|')) {
                let written = written.trim();
                let tokens = analyse(written);
                if tokens.is_empty() || forms.iter().any(|f| f.1 == tokens) {
                    continue;
                }
                forms.push((written.to_owned(), tokens, !is_acronym(written)));
            }
            // A line needs two forms to translate anything.
            if forms.len() >= 2 {
                lines_forms.push(forms);
            }
        }
        // Lines sharing a form that is not an acronym are one concept.
        let mut parent: Vec<usize> = (0..lines_forms.len()).collect();
        let mut first_line: HashMap<&[String], usize> = HashMap::new();
        for (i, forms) in lines_forms.iter().enumerate() {
            for (_, tokens, joins) in forms {
                if !joins {
                    continue;
                }
                match first_line.get(tokens.as_slice()) {
                    Some(&j) => {
                        let (a, b) = (find_root(&mut parent, i), find_root(&mut parent, j));
                        parent[a] = b;
                    }
                    None => {
                        first_line.insert(tokens, i);
                    }
                }
            }
        }
        let mut concept_of_root: HashMap<usize, usize> = HashMap::new();
        let mut forms: Vec<Form> = Vec::new();
        let mut concepts: Vec<Vec<usize>> = Vec::new();
        let mut form_of: HashMap<(usize, Vec<String>), usize> = HashMap::new();
        for (i, line) in lines_forms.into_iter().enumerate() {
            let root = find_root(&mut parent, i);
            let next = concepts.len();
            let concept = *concept_of_root.entry(root).or_insert(next);
            if concept == concepts.len() {
                concepts.push(Vec::new());
            }
            for (written, tokens, _) in line {
                if form_of.contains_key(&(concept, tokens.clone())) {
                    continue;
                }
                form_of.insert((concept, tokens.clone()), forms.len());
                concepts[concept].push(forms.len());
                forms.push(Form {
                    script: script(&written),
                    written,
                    tokens,
                    concept,
                });
            }
        }
        // A token sequence in two concepts is ambiguous.
        let mut concepts_of: HashMap<&[String], Vec<usize>> = HashMap::new();
        for f in &forms {
            let c = concepts_of.entry(f.tokens.as_slice()).or_default();
            if !c.contains(&f.concept) {
                c.push(f.concept);
            }
        }
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in forms.iter().enumerate() {
            if concepts_of[f.tokens.as_slice()].len() == 1 {
                by_first.entry(f.tokens[0].clone()).or_default().push(i);
            }
        }
        for list in by_first.values_mut() {
            list.sort_by(|a, b| {
                forms[*b]
                    .tokens
                    .len()
                    .cmp(&forms[*a].tokens.len())
                    .then(a.cmp(b))
            });
        }
        Glossary {
            forms,
            concepts,
            by_first,
        }
    }

    pub fn form(&self, i: usize) -> &Form {
        &self.forms[i]
    }

    /// Concepts with at least two unambiguous forms.
    pub fn concepts(&self) -> usize {
        self.concepts.len()
    }

    /// The glossary's forms in a token sequence, left to right, the longest at each place,
    /// not overlapping.
    pub fn find<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<Found> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let hit = self.by_first.get(tokens[i].as_ref()).and_then(|forms| {
                forms.iter().find(|&&f| {
                    let want = &self.forms[f].tokens;
                    tokens.len() - i >= want.len()
                        && want.iter().zip(&tokens[i..]).all(|(w, t)| w == t.as_ref())
                })
            });
            match hit {
                Some(&form) => {
                    let len = self.forms[form].tokens.len();
                    found.push(Found {
                        start: i,
                        len,
                        form,
                    });
                    i += len;
                }
                None => i += 1,
            }
        }
        found
    }

    /// The other unambiguous forms of a form's concept written in another script.
    pub fn translations(&self, form: usize) -> impl Iterator<Item = usize> + '_ {
        let f = &self.forms[form];
        self.concepts[f.concept].iter().copied().filter(move |&o| {
            let other = &self.forms[o];
            other.script != f.script
                && self
                    .by_first
                    .get(&other.tokens[0])
                    .is_some_and(|l| l.contains(&o))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        analyse(text)
    }

    fn written(g: &Glossary, forms: impl Iterator<Item = usize>) -> Vec<String> {
        let mut w: Vec<String> = forms.map(|f| g.form(f).written.clone()).collect();
        w.sort();
        w
    }

    #[test]
    fn forms_are_found_by_their_tokens_and_translated_into_the_other_languages() {
        let g = Glossary::parse([
            "distributed training\t分散式訓練\t분산 학습",
            "machine learning\t機器學習\t머신러닝|기계 학습",
        ]);
        let text = tokens("Fast distributed trainings of models; 機器學習 은 기계 학습");
        let found = g.find(&text);
        let names: Vec<&str> = found
            .iter()
            .map(|f| g.form(f.form).written.as_str())
            .collect();
        assert_eq!(names, ["distributed training", "機器學習", "기계 학습"]);
        assert_eq!(
            written(&g, g.translations(found[0].form)),
            ["分散式訓練", "분산 학습"]
        );
        assert_eq!(
            written(&g, g.translations(found[2].form)),
            ["machine learning", "機器學習"]
        );
    }

    #[test]
    fn a_term_listed_under_two_fields_is_one_concept_but_a_shared_acronym_is_ambiguous() {
        let g = Glossary::parse([
            "gallium nitride|GaN\t氮化鎵\t질화갈륨",
            "generative adversarial network|GAN\t生成對抗網路\t생성적 적대 신경망",
            "solid electrolyte interphase|SEI\t固態電解質界面膜\t고체 전해질 계면",
            "solid electrolyte interphase\t固態電解質介面\t고체 전해질 계면막",
        ]);
        assert_eq!(g.find(&tokens("GaN power devices")), []);
        let gan = g.find(&tokens("gallium nitride"))[0].form;
        assert_eq!(written(&g, g.translations(gan)), ["氮化鎵", "질화갈륨"]);
        let sei = g.find(&tokens("solid electrolyte interphase"))[0].form;
        assert_eq!(
            written(&g, g.translations(sei)),
            [
                "固態電解質介面",
                "固態電解質界面膜",
                "고체 전해질 계면",
                "고체 전해질 계면막"
            ]
        );
    }

    #[test]
    fn the_shipped_glossary_has_two_thousand_concepts_in_three_languages() {
        let g = Glossary::get();
        assert!(g.concepts() >= 2000, "{}", g.concepts());
        let training = g.find(&tokens("分散式訓練"));
        assert_eq!(training.len(), 1);
        let english: Vec<String> = written(g, g.translations(training[0].form));
        assert!(
            english.iter().any(|w| w == "distributed training"),
            "{english:?}"
        );
    }
}
