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
    let mut builder = TextAnalyzer::builder(CjkBigramTokenizer)
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

/// Splits text into words (non-CJK) and bigrams over CJK runs.
#[derive(Clone, Default)]
pub struct CjkBigramTokenizer;

pub struct CjkBigramStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for CjkBigramTokenizer {
    type TokenStream<'a> = CjkBigramStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CjkBigramStream {
        CjkBigramStream {
            tokens: tokenize(text),
            next: 0,
        }
    }
}

impl TokenStream for CjkBigramStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut push = |from: usize, to: usize| {
        out.push(Token {
            offset_from: from,
            offset_to: to,
            position: out.len(),
            text: text[from..to].to_owned(),
            position_length: 1,
        });
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |(o, _)| *o);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if is_cjk(c) {
            let start = i;
            while i < chars.len() && is_cjk(chars[i].1) {
                i += 1;
            }
            if i - start == 1 {
                push(chars[start].0, end_of(start + 1));
            } else {
                for (j, (offset, _)) in chars.iter().enumerate().take(i - 1).skip(start) {
                    push(*offset, end_of(j + 2));
                }
            }
        } else if c.is_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].1.is_alphanumeric() && !is_cjk(chars[i].1) {
                i += 1;
            }
            push(chars[start].0, end_of(i));
        } else {
            i += 1;
        }
    }
    out
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
    fn offsets_point_at_the_original_text() {
        let text = "딥러닝 model";
        let tokens = tokenize(text);
        let spans: Vec<&str> = tokens
            .iter()
            .map(|t| &text[t.offset_from..t.offset_to])
            .collect();
        assert_eq!(spans, ["딥러", "러닝", "model"]);
        assert_eq!(
            tokens.iter().map(|t| t.position).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }
}
