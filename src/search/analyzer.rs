//! Text analysis for English, Korean and Chinese (and mixed) text, the way Lucene's CJK
//! analyzer does it: runs of Han, Hangul, Hiragana or Katakana characters become overlapping
//! bigrams (a lone character stays a unigram); everything else is split into words that are
//! lowercased, stripped of English stop words and stemmed ("networks" finds "network").
//! It needs no dictionary, so it builds and runs offline.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const MULTILINGUAL: &str = "liaison_multilingual";

/// The analyzer for every full-text field.
pub fn multilingual() -> TextAnalyzer {
    let mut builder = TextAnalyzer::builder(CjkBigramTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        builder = builder.filter_dynamic(stop);
    }
    builder
        .filter_dynamic(Stemmer::new(Language::English))
        .build()
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

    fn terms(text: &str) -> Vec<String> {
        let mut analyzer = multilingual();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
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
