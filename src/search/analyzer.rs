//! Text analysis for English, Korean and Chinese (and mixed) text, the way Lucene's CJK
//! analyzer does it: runs of Han, Hangul, Hiragana or Katakana characters become overlapping
//! bigrams (a lone character stays a unigram); everything else is split into words that are
//! lowercased, stripped of English stop words and stemmed ("networks" finds "network").
//! It needs no dictionary, so it builds and runs offline.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const MULTILINGUAL: &str = "liaison_multilingual";

/// The analyzer for every full-text field.
pub fn multilingual() -> TextAnalyzer {
    unstemmed_builder()
        .filter_dynamic(Stem {
            which: Which::All(Stems::default()),
        })
        .build()
}

fn unstemmed_builder() -> tantivy::tokenizer::TextAnalyzerBuilder {
    let mut builder = TextAnalyzer::builder(CjkBigramTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        builder = builder.filter_dynamic(stop);
    }
    builder
}

/// `multilingual` split in two: every step but stemming, and stemming one word. Together they
/// give the same tokens; matching uses them to stem only the words that can match a query
/// (see `Stemmable`).
pub fn unstemmed() -> TextAnalyzer {
    unstemmed_builder().build()
}

pub fn word_stemmer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy::tokenizer::RawTokenizer::default())
        .filter(Stemmer::new(Language::English))
        .build()
}

/// `multilingual` for highlighting one query: it stems only the words that can come out as
/// one of the query's terms (see `Stemmable`), and leaves the rest as they are, since they
/// match nothing either way. Every token that matches with `multilingual` matches with this
/// one, at the same offsets. Stemming every word of every hit's text was most of the cost of
/// highlighting.
pub fn highlighter(query_terms: impl IntoIterator<Item = impl AsRef<str>>) -> TextAnalyzer {
    unstemmed_builder()
        .filter_dynamic(Stem {
            which: Which::Only(std::sync::Arc::new(Stemmable::new(query_terms))),
        })
        .build()
}

/// English stemming of the words `which` lets through.
#[derive(Clone)]
struct Stem {
    which: Which,
}

#[derive(Clone)]
enum Which {
    /// Every word, remembering the stems of the words seen: indexing stems the same few
    /// thousand words over and over, and stemming was about a sixth of a bulk import's CPU.
    /// Each clone of the analyzer (tantivy takes one per field and segment, and one per
    /// query) starts with nothing remembered and remembers at most `REMEMBERED_STEMS` words.
    All(Stems),
    /// Only the words that can become one of a query's terms.
    Only(std::sync::Arc<Stemmable>),
}

/// Stems of distinct words one analyzer instance remembers before it starts afresh.
const REMEMBERED_STEMS: usize = 32_768;

type Stems = std::collections::HashMap<Box<str>, Box<str>, foldhash::fast::RandomState>;

impl TokenFilter for Stem {
    type Tokenizer<T: Tokenizer> = StemTokenizer<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> StemTokenizer<T> {
        StemTokenizer {
            inner,
            which: self.which,
            stemmer: word_stemmer(),
        }
    }
}

#[derive(Clone)]
pub struct StemTokenizer<T> {
    inner: T,
    which: Which,
    stemmer: TextAnalyzer,
}

pub struct StemStream<'a, S> {
    tail: S,
    which: &'a mut Which,
    stemmer: &'a mut TextAnalyzer,
}

impl<T: Tokenizer> Tokenizer for StemTokenizer<T> {
    type TokenStream<'a> = StemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        StemStream {
            tail: self.inner.token_stream(text),
            which: &mut self.which,
            stemmer: &mut self.stemmer,
        }
    }
}

impl<S: TokenStream> TokenStream for StemStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        match &*self.which {
            Which::All(stems) => {
                if let Some(stem) = stems.get(token.text.as_str()) {
                    token.text.clear();
                    token.text.push_str(stem);
                    return true;
                }
            }
            Which::Only(stemmable) => {
                if !stemmable.may_become_one(&token.text) {
                    return true;
                }
            }
        }
        let stem = {
            let mut stemmed = self.stemmer.token_stream(&token.text);
            stemmed.advance().then(|| stemmed.token().text.clone())
        };
        if let Some(stem) = stem {
            if let Which::All(stems) = &mut *self.which {
                if stems.len() >= REMEMBERED_STEMS {
                    stems.clear();
                }
                stems.insert(token.text.as_str().into(), stem.as_str().into());
            }
            token.text = stem;
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Words up to this many characters may change their second or third character when
/// stemmed ("dying" → "die", "skies" → "sky").
pub const SHORT_WORD: usize = 7;

/// Which words can stem to one of a set of terms, decided without stemming them. English
/// stemming rewrites endings only: it never changes a word's first character, nor the first
/// three of a word longer than `SHORT_WORD` characters (checked over 6 million words of SBIR
/// abstracts by `stemming_keeps_the_first_characters`). So a word that does not start like
/// one of the terms cannot become one, and need not be stemmed: stemming is most of the cost
/// of analysis, and most words of a text start like no term of a short query.
#[derive(Debug, Default)]
pub struct Stemmable {
    first: std::collections::HashSet<char>,
    first_three: std::collections::HashSet<[char; 3]>,
}

impl Stemmable {
    pub fn new(terms: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let mut this = Self::default();
        for term in terms {
            let term = term.as_ref();
            if let Some(c) = term.chars().next() {
                this.first.insert(c);
            }
            this.first_three.insert(first_three(term));
        }
        this
    }

    /// Whether stemming `word` may give one of the terms.
    pub fn may_become_one(&self, word: &str) -> bool {
        if is_short(word) {
            word.chars().next().is_some_and(|c| self.first.contains(&c))
        } else {
            self.first_three.contains(&first_three(word))
        }
    }
}

/// Whether stemming may change `word`'s second or third character.
fn is_short(word: &str) -> bool {
    word.chars().nth(SHORT_WORD).is_none()
}

fn first_three(token: &str) -> [char; 3] {
    let mut c = token.chars();
    [
        c.next().unwrap_or('\0'),
        c.next().unwrap_or('\0'),
        c.next().unwrap_or('\0'),
    ]
}

/// Whether a character belongs to a script written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF      // Hangul Jamo
        | 0x3040..=0x309F    // Hiragana
        | 0x30A0..=0x30FF    // Katakana
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xA960..=0xA97F    // Hangul Jamo extended A
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xD7B0..=0xD7FF    // Hangul Jamo extended B
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x3134F  // CJK extensions B–H
    )
}

/// Splits text into words (non-CJK) and bigrams over CJK runs, streaming with one reused
/// token (no allocation per token: this runs over every indexed text and every highlight).
#[derive(Clone, Default)]
pub struct CjkBigramTokenizer {
    token: Token,
}

pub struct CjkBigramStream<'a> {
    text: &'a str,
    /// Byte offset of the next character to look at (outside a CJK run).
    pos: usize,
    /// Inside a CJK run: where the character that starts the next bigram begins.
    run: Option<usize>,
    token: &'a mut Token,
}

impl Tokenizer for CjkBigramTokenizer {
    type TokenStream<'a> = CjkBigramStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CjkBigramStream<'a> {
        self.token.reset();
        CjkBigramStream {
            text,
            pos: 0,
            run: None,
            token: &mut self.token,
        }
    }
}

impl CjkBigramStream<'_> {
    fn emit(&mut self, from: usize, to: usize) -> bool {
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.token.position.wrapping_add(1);
        self.token.text.clear();
        self.token.text.push_str(&self.text[from..to]);
        true
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.text.get(at..).and_then(|r| r.chars().next())
    }
}

impl TokenStream for CjkBigramStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            if let Some(first) = self.run {
                let second = first + self.char_at(first).map_or(0, char::len_utf8);
                match self.char_at(second) {
                    Some(c) if is_cjk(c) => {
                        self.run = Some(second);
                        return self.emit(first, second + c.len_utf8());
                    }
                    _ => {
                        self.run = None;
                        self.pos = second;
                    }
                }
            }
            let Some(c) = self.char_at(self.pos) else {
                return false;
            };
            let start = self.pos;
            if is_cjk(c) {
                let second = start + c.len_utf8();
                return match self.char_at(second) {
                    Some(d) if is_cjk(d) => {
                        self.run = Some(second);
                        self.emit(start, second + d.len_utf8())
                    }
                    _ => {
                        self.pos = second;
                        self.emit(start, second)
                    }
                };
            }
            if c.is_alphanumeric() {
                let end = self.text[start..]
                    .char_indices()
                    .find(|(_, ch)| !ch.is_alphanumeric() || is_cjk(*ch))
                    .map_or(self.text.len(), |(i, _)| start + i);
                self.pos = end;
                return self.emit(start, end);
            }
            self.pos += c.len_utf8();
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each analyzer finds the query's terms in `text`.
    fn hits(analyzer: &mut TextAnalyzer, text: &str, query: &[String]) -> Vec<(usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            if query.contains(&t.text) {
                out.push((t.offset_from, t.offset_to));
            }
        }
        out
    }

    #[test]
    fn the_highlighter_finds_exactly_what_full_analysis_finds() {
        let texts = [
            "Scheduling deep neural networks: networked training of generalized models on GPU clusters.",
            "The dying battery cells were trying to regenerate; generation, generators, generalization.",
            "GPU 클러스터 기반 대규모 언어 모델 학습과 추론 최적화, LLM을 위한 networking",
            "先進製程良率分析與半導體缺陷檢測 (semiconductor defects, inspections, inspected wafers)",
            "Relational relativity, relations and related relatives; organizations organize organically.",
        ];
        let queries = [
            "neural network generalization",
            "dying tries",
            "클러스터 학습 networks",
            "半導體 inspection defect",
            "relations organization relativity",
            "the a of",
        ];
        for q in queries {
            let query = terms(q);
            let mut full = multilingual();
            let mut light = highlighter(&query);
            for text in texts {
                assert_eq!(
                    hits(&mut light, text, &query),
                    hits(&mut full, text, &query),
                    "{q:?} in {text:?}"
                );
            }
        }
    }

    fn terms(text: &str) -> Vec<String> {
        let mut analyzer = multilingual();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    fn split_terms(text: &str) -> Vec<String> {
        let (mut pre, mut stem) = (unstemmed(), word_stemmer());
        let mut stream = pre.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let mut s = stem.token_stream(&stream.token().text);
            assert!(s.advance());
            out.push(s.token().text.clone());
        }
        out
    }

    const TRICKY: &str = "dying lying tying skies skis sky early gently idly only singly ugly \
        news atlas bias cosmos andes howe generously happiness relational sensitivity \
        possibility organization hoping conflated yelling Yttrium yields eyes ying ay \
        GPU 클러스터 기반 LLM 학습 半導體缺陷檢測 e-beam 3D x-ray naïve café Ångström";

    #[test]
    fn the_split_analyser_gives_the_same_tokens_and_keeps_first_characters() {
        assert_eq!(split_terms(TRICKY), terms(TRICKY));
        let (mut pre, mut stem) = (unstemmed(), word_stemmer());
        let mut stream = pre.token_stream(TRICKY);
        while stream.advance() {
            let word = stream.token().text.clone();
            let mut s = stem.token_stream(&word);
            assert!(s.advance());
            let stem = &s.token().text;
            assert_eq!(stem.chars().next(), word.chars().next(), "{word}");
            if !is_short(&word) {
                assert_eq!(first_three(stem), first_three(&word), "{word}");
            }
        }
    }

    /// The same over a real vocabulary: `LIAISON_VOCABULARY=file cargo test -- --ignored`.
    #[test]
    #[ignore]
    fn stemming_keeps_the_first_characters() -> std::io::Result<()> {
        let Ok(path) = std::env::var("LIAISON_VOCABULARY") else {
            return Ok(());
        };
        let text = std::fs::read_to_string(path)?;
        let (mut pre, mut stem) = (unstemmed(), word_stemmer());
        let mut stream = pre.token_stream(&text);
        let (mut words, mut bad) = (0, Vec::new());
        while stream.advance() {
            words += 1;
            let word = stream.token().text.clone();
            let mut s = stem.token_stream(&word);
            assert!(s.advance());
            let stem = &s.token().text;
            if stem.chars().next() != word.chars().next()
                || !is_short(&word) && first_three(stem) != first_three(&word)
            {
                bad.push(format!("{word} -> {stem}"));
            }
        }
        bad.sort();
        bad.dedup();
        assert!(
            bad.is_empty(),
            "{} of {words}: {:?}",
            bad.len(),
            &bad[..bad.len().min(50)]
        );
        Ok(())
    }

    /// The same analyzer instance, with stems remembered from earlier texts, gives the same
    /// tokens as stemming every word afresh.
    #[test]
    fn remembered_stems_are_the_stems() {
        let mut analyzer = multilingual();
        for _ in 0..3 {
            let mut stream = analyzer.token_stream(TRICKY);
            let mut tokens = Vec::new();
            while stream.advance() {
                tokens.push(stream.token().text.clone());
            }
            assert_eq!(tokens, split_terms(TRICKY));
        }
    }

    #[test]
    fn english_is_lowercased_stemmed_and_stripped_of_stop_words() {
        assert_eq!(terms("The Networks of Computers"), ["network", "comput"]);
        assert_eq!(terms("training"), terms("trained"));
    }

    #[test]
    fn cjk_runs_become_bigrams_and_mixed_text_works() {
        assert_eq!(
            terms("GPU 클러스터 기반 LLM 학습"),
            ["gpu", "클러", "러스", "스터", "기반", "llm", "학습"]
        );
        assert_eq!(
            terms("半導體缺陷檢測"),
            ["半導", "導體", "體缺", "缺陷", "陷檢", "檢測"]
        );
        assert_eq!(terms("AI晶片"), ["ai", "晶片"]);
        assert_eq!(terms("陳"), ["陳"]);
    }

    #[test]
    fn offsets_and_positions_point_at_the_original_text() {
        let text = "딥러닝 model, 半導體!";
        let mut tokenizer = CjkBigramTokenizer::default();
        let mut stream = tokenizer.token_stream(text);
        let mut seen = Vec::new();
        while stream.advance() {
            let t = stream.token();
            seen.push((
                text[t.offset_from..t.offset_to].to_owned(),
                t.position,
                t.text.clone(),
            ));
        }
        let spans: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(spans, ["딥러", "러닝", "model", "半導", "導體"]);
        assert_eq!(
            seen.iter().map(|s| s.1).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        assert!(seen.iter().all(|s| s.0 == s.2));
    }
}
