//! Text analysis for English, Korean and Chinese (and mixed) text, the way Lucene's CJK
//! analyzer does it: runs of Han, Hangul, Hiragana or Katakana characters become overlapping
//! bigrams (a lone character stays a unigram); everything else is split into words that are
//! lowercased, stripped of English stop words and stemmed ("networks" finds "network").
//! It needs no dictionary, so it builds and runs offline.
//!
//! The steps are those of tantivy's `RemoveLongFilter` (48 bytes), `LowerCaser`,
//! `StopWordFilter` (English) and `Stemmer` (English) after splitting (`split_only`), done in
//! one token stream (`Analyzer`): chained, each step is a call through a boxed stream per
//! word, and analysis is a large share of a bulk import and most of highlighting.
//! `reference_chain` builds the chain, and tests check both give the same tokens at the same
//! positions and offsets.

use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer};

/// The name the analyzer is registered under in the index.
pub const MULTILINGUAL: &str = "liaison_multilingual";

/// The analyzer for every full-text field.
pub fn multilingual() -> TextAnalyzer {
    Analyzer::new(Which::All).into()
}

/// `multilingual` without the stemming, and stemming one word: together they give the same
/// tokens. Matching uses them to stem only the words that can match a query (see
/// `Stemmable`).
pub fn unstemmed() -> TextAnalyzer {
    Analyzer::new(Which::None).into()
}

/// The splitting alone: words and CJK bigrams as written, positions counted from 0. The first
/// step of `reference_chain`.
pub fn split_only() -> TextAnalyzer {
    splitter().into()
}

fn splitter() -> Analyzer {
    Analyzer {
        filtered: false,
        ..Analyzer::new(Which::None)
    }
}

pub fn word_stemmer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy::tokenizer::RawTokenizer::default())
        .filter(Stemmer::new(Language::English))
        .build()
}

/// `multilingual` for highlighting one query: it stems only the words that can come out as
/// one of the query's terms (see `Stemmable`), and leaves the rest as they are, since they
/// match nothing either way. Every token that matches with `multilingual` matches with this
/// one, and every token is at the same offsets, so fragments are the same. Stemming every word
/// of every hit's text would be most of the cost of highlighting.
pub fn highlighter(query_terms: impl IntoIterator<Item = impl AsRef<str>>) -> TextAnalyzer {
    Analyzer::new(Which::Only(std::sync::Arc::new(Stemmable::new(
        query_terms,
    ))))
    .into()
}

/// tantivy's filters, chained: what `Analyzer` does in one stream (stemming when `stemmed`).
/// Tests check both give the same tokens; the bench (`--analysis`) compares their speed.
pub fn reference_chain(stemmed: bool) -> TextAnalyzer {
    use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, StopWordFilter};
    let mut builder = TextAnalyzer::builder(splitter())
        .filter(RemoveLongFilter::limit(LONGEST))
        .filter(LowerCaser)
        .dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        builder = builder.filter_dynamic(stop);
    }
    if stemmed {
        builder = builder.filter_dynamic(Stemmer::new(Language::English));
    }
    builder.build()
}

/// Tokens longer than this many bytes (before lowercasing) are dropped, as tantivy's
/// `RemoveLongFilter::limit(48)` does: they are not words (hashes, run-together text).
const LONGEST: usize = 48;

/// tantivy's English stop words (Lucene's list), all lowercase ASCII of at most 5 bytes.
fn is_stop_word(word: &str) -> bool {
    word.len() <= 5
        && matches!(
            word,
            "a" | "an"
                | "and"
                | "are"
                | "as"
                | "at"
                | "be"
                | "but"
                | "by"
                | "for"
                | "if"
                | "in"
                | "into"
                | "is"
                | "it"
                | "no"
                | "not"
                | "of"
                | "on"
                | "or"
                | "such"
                | "that"
                | "the"
                | "their"
                | "then"
                | "there"
                | "these"
                | "they"
                | "this"
                | "to"
                | "was"
                | "will"
                | "with"
        )
}

/// Which words are stemmed.
#[derive(Clone)]
enum Which {
    /// Every word, remembering the stems of recent words (see `Stems`).
    All,
    /// Only the words that can become one of a query's terms.
    Only(std::sync::Arc<Stemmable>),
    /// None.
    None,
}

/// Stems of recently seen words: indexing stems the same few thousand words over and over, and
/// stemming is costly. A direct-mapped table of `SLOTS` slots of one cache line each, holding
/// the word and its stem inline: a word's hash picks its slot and a new word replaces the one
/// there, so a word costs one cache miss where a map of boxed strings costs three (its
/// bucket, its key, its value). One table per thread (`STEMS`), not per analyzer: tantivy
/// takes a fresh clone of the analyzer for every field of every segment it writes, and with a
/// commit every 250 ms during a bulk load, tables per clone would keep starting cold. A
/// thread takes its table (1 MiB) only once it has stemmed `UNREMEMBERED` words: a few
/// queries' words are not worth one. (Figures: bench/README.md, "Text analysis in one token
/// stream".)
#[derive(Default)]
struct Stems {
    slots: Vec<Slot>,
    /// Words stemmed before the table was taken.
    unremembered: usize,
    hasher: foldhash::fast::RandomState,
}

const UNREMEMBERED: usize = 1024;

thread_local! {
    static STEMS: std::cell::RefCell<Stems> = std::cell::RefCell::new(Stems::default());
}

const SLOTS: usize = 1 << 14;
/// The longest word (and stem) kept, in bytes; longer ones are stemmed every time.
const SLOT_WORD: usize = 31;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    word: [u8; SLOT_WORD],
    word_len: u8,
    stem: [u8; SLOT_WORD],
    stem_len: u8,
}

impl Stems {
    fn slot(&self, word: &str) -> usize {
        use std::hash::BuildHasher as _;
        self.hasher.hash_one(word) as usize & (SLOTS - 1)
    }

    /// The remembered stem of `word`, if any.
    fn get(&self, word: &str) -> Option<&str> {
        let slot = self.slots.get(self.slot(word))?;
        let len = usize::from(slot.word_len);
        if len == 0 || slot.word.get(..len) != Some(word.as_bytes()) {
            return None;
        }
        std::str::from_utf8(slot.stem.get(..usize::from(slot.stem_len))?).ok()
    }

    fn remember(&mut self, word: &str, stem: &str) {
        if word.is_empty() || word.len() > SLOT_WORD || stem.len() > SLOT_WORD {
            return;
        }
        if self.slots.is_empty() {
            self.unremembered += 1;
            if self.unremembered < UNREMEMBERED {
                return;
            }
            let empty = Slot {
                word: [0; SLOT_WORD],
                word_len: 0,
                stem: [0; SLOT_WORD],
                stem_len: 0,
            };
            self.slots = vec![empty; SLOTS];
        }
        let i = self.slot(word);
        let slot = &mut self.slots[i];
        slot.word[..word.len()].copy_from_slice(word.as_bytes());
        slot.word_len = word.len() as u8;
        slot.stem[..stem.len()].copy_from_slice(stem.as_bytes());
        slot.stem_len = stem.len() as u8;
    }
}

/// The whole analysis in one token stream (see the module's documentation).
#[derive(Clone)]
pub struct Analyzer {
    /// Whether words are filtered and lowercased at all (not for `split_only`).
    filtered: bool,
    which: Which,
    stemmer: std::sync::Arc<frostem::Stemmer>,
    token: Token,
}

impl Analyzer {
    fn new(which: Which) -> Self {
        Self {
            filtered: true,
            which,
            // What tantivy's `Stemmer::new(Language::English)` runs.
            stemmer: std::sync::Arc::new(frostem::Stemmer::new(frostem::Algorithm::English)),
            token: Token::default(),
        }
    }
}

pub struct AnalyzerStream<'a> {
    split: Split<'a>,
    filtered: bool,
    which: &'a Which,
    stemmer: &'a frostem::Stemmer,
    token: &'a mut Token,
}

impl Tokenizer for Analyzer {
    type TokenStream<'a> = AnalyzerStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> AnalyzerStream<'a> {
        self.token.reset();
        AnalyzerStream {
            split: Split::new(text),
            filtered: self.filtered,
            which: &self.which,
            stemmer: &self.stemmer,
            token: &mut self.token,
        }
    }
}

impl AnalyzerStream<'_> {
    fn stem(&mut self) {
        let token = &mut *self.token;
        match self.which {
            Which::None => return,
            Which::All => {
                let remembered = STEMS.with_borrow(|stems| {
                    let stem = stems.get(&token.text)?;
                    token.text.clear();
                    token.text.push_str(stem);
                    Some(())
                });
                if remembered.is_some() {
                    return;
                }
            }
            Which::Only(stemmable) => {
                if !stemmable.may_become_one(&token.text) {
                    return;
                }
            }
        }
        let stem = match self.stemmer.stem(&token.text) {
            std::borrow::Cow::Borrowed(same) if same.len() == token.text.len() => None,
            stem => Some(stem.into_owned()),
        };
        if let Which::All = self.which {
            STEMS.with_borrow_mut(|stems| {
                stems.remember(&token.text, stem.as_deref().unwrap_or(&token.text));
            });
        }
        if let Some(stem) = stem {
            token.text = stem;
        }
    }
}

impl TokenStream for AnalyzerStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let Some(piece) = self.split.next() else {
                return false;
            };
            // Every piece takes a position, kept or not (as the chained filters do).
            self.token.position = self.token.position.wrapping_add(1);
            let raw = &self.split.text[piece.from..piece.to];
            if !self.filtered {
                self.token.text.clear();
                self.token.text.push_str(raw);
                self.token.offset_from = piece.from;
                self.token.offset_to = piece.to;
                return true;
            }
            if raw.len() >= LONGEST {
                continue;
            }
            let text = &mut self.token.text;
            text.clear();
            if piece.ascii {
                text.push_str(raw);
                text.make_ascii_lowercase();
            } else {
                // As `LowerCaser` does: character by character (no final-sigma rule).
                text.extend(raw.chars().flat_map(char::to_lowercase));
            }
            if is_stop_word(text) {
                continue;
            }
            self.token.offset_from = piece.from;
            self.token.offset_to = piece.to;
            self.stem();
            return true;
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
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
    // foldhash, not SipHash: matching asks this of every word of 400 publications a match.
    first: foldhash::HashSet<char>,
    first_three: foldhash::HashSet<[char; 3]>,
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

/// One word or CJK bigram: its byte range in the text, and whether it is all ASCII.
#[derive(Debug, Clone, Copy)]
struct Piece {
    from: usize,
    to: usize,
    ascii: bool,
}

/// Splits text into words (runs of letters and digits, other than CJK) and bigrams over CJK
/// runs. ASCII is looked at byte by byte; other characters are decoded.
struct Split<'a> {
    text: &'a str,
    /// Byte offset of the next character to look at (outside a CJK run).
    pos: usize,
    /// Inside a CJK run: where the character that starts the next bigram begins.
    run: Option<usize>,
}

impl<'a> Split<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            run: None,
        }
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.text.get(at..).and_then(|r| r.chars().next())
    }

    fn next(&mut self) -> Option<Piece> {
        let bytes = self.text.as_bytes();
        let cjk = |from, to| {
            Some(Piece {
                from,
                to,
                ascii: false,
            })
        };
        if let Some(first) = self.run {
            let second = first + self.char_at(first).map_or(0, char::len_utf8);
            match self.char_at(second) {
                Some(c) if is_cjk(c) => {
                    self.run = Some(second);
                    return cjk(first, second + c.len_utf8());
                }
                _ => {
                    self.run = None;
                    self.pos = second;
                }
            }
        }
        // The start of the next word or CJK character. (`pos` is kept in a local: as a
        // field it would be written back to memory at every byte.)
        let mut pos = self.pos;
        let start = loop {
            let Some(&b) = bytes.get(pos) else {
                self.pos = pos;
                return None;
            };
            if b.is_ascii() {
                if b.is_ascii_alphanumeric() {
                    break pos;
                }
                pos += 1;
                continue;
            }
            let c = self.char_at(pos)?;
            if is_cjk(c) {
                let second = pos + c.len_utf8();
                return match self.char_at(second) {
                    Some(d) if is_cjk(d) => {
                        self.run = Some(second);
                        cjk(pos, second + d.len_utf8())
                    }
                    _ => {
                        self.pos = second;
                        cjk(pos, second)
                    }
                };
            }
            if c.is_alphanumeric() {
                break pos;
            }
            pos += c.len_utf8();
        };
        let mut ascii = true;
        while let Some(&b) = bytes.get(pos) {
            if b.is_ascii() {
                if !b.is_ascii_alphanumeric() {
                    break;
                }
                pos += 1;
                continue;
            }
            match self.char_at(pos) {
                Some(c) if c.is_alphanumeric() && !is_cjk(c) => {
                    ascii = false;
                    pos += c.len_utf8();
                }
                _ => break,
            }
        }
        self.pos = pos;
        Some(Piece {
            from: start,
            to: pos,
            ascii,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token with its position and offsets.
    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    fn agrees_with_the_chain(text: &str) {
        let mut fused = multilingual();
        // Twice through the same instance: the second time from remembered stems.
        for _ in 0..2 {
            assert_eq!(
                tokens(&mut fused, text),
                tokens(&mut reference_chain(true), text),
                "{text:?}"
            );
        }
        assert_eq!(
            tokens(&mut unstemmed(), text),
            tokens(&mut reference_chain(false), text),
            "{text:?}"
        );
    }

    #[test]
    fn one_stream_gives_the_tokens_of_the_chained_filters() {
        let long = format!(
            "{} {} {} {}x",
            "a".repeat(47),
            "B".repeat(48),
            "é".repeat(23),
            "é".repeat(24)
        );
        for text in [
            TRICKY,
            &long,
            "A AN AND ARE AS AT BE BUT BY FOR IF IN INTO IS IT NO NOT OF ON OR SUCH THAT THE \
             THEIR THEN THERE THESE THEY THIS TO WAS WILL WITH and The oF thei theirs",
            "ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ Straße İstanbul ǅemal ﬁne",
            "a1_b2 foo-bar 3.14 x²+y³ ①② Ⅻ ٣٤ क्षत्रिय",
            "AI晶片 딥러닝model 半導體!GPU ｱｲｳ ＡＢＣ 한 陳 x",
            "",
            "  \t\n ,.;",
        ] {
            agrees_with_the_chain(text);
        }
    }

    /// The same over a real text: `LIAISON_VOCABULARY=file cargo test -- --ignored`.
    #[test]
    #[ignore]
    fn one_stream_agrees_with_the_chain_over_a_corpus() -> std::io::Result<()> {
        let Ok(path) = std::env::var("LIAISON_VOCABULARY") else {
            return Ok(());
        };
        for line in std::fs::read_to_string(path)?.lines() {
            agrees_with_the_chain(line);
        }
        Ok(())
    }

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

    #[test]
    fn the_highlighter_picks_the_same_fragments_as_full_analysis() {
        use tantivy::snippet::SnippetGenerator;
        // Stop words in any case are dropped and every other word keeps its offsets, so
        // fragments end where they do with full analysis.
        let texts = [
            "The NETWORK of networks AND the Neural nets: THE networked training of generalized \
             models, then THEIR networking. Networks again; and again THE end, neural.",
            "Scheduling deep neural networks: networked training of generalized models on GPU \
             clusters. Relational relativity, relations and related relatives.",
            "GPU 클러스터 기반 대규모 언어 모델 학습과 추론 최적화, LLM을 위한 networking and \
             先進製程良率分析與半導體缺陷檢測 (semiconductor defects, inspections)",
        ];
        let queries = [
            "neural network",
            "generalization relations",
            "클러스터 학습 networks",
            "半導體 inspection defect",
            "the end",
        ];
        for q in queries {
            let query = terms(q);
            let weights: std::collections::BTreeMap<String, f32> = query
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), 1.0 / (1.0 + i as f32)))
                .collect();
            let field = tantivy::schema::Field::from_field_id(0);
            for max_chars in [20, 60, 180] {
                let full = SnippetGenerator::new(weights.clone(), multilingual(), field, max_chars);
                let light = SnippetGenerator::new(
                    weights.clone(),
                    highlighter(weights.keys()),
                    field,
                    max_chars,
                );
                for text in texts {
                    assert_eq!(
                        light.snippet(text).to_html(),
                        full.snippet(text).to_html(),
                        "{q:?} ({max_chars}) in {text:?}"
                    );
                }
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
        let mut tokenizer = split_only();
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
