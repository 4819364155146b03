//! A publication's analysed form as the database keeps it beside the row
//! (`publications.analysed`): the analyser's fingerprint, the publication's length in tokens,
//! how many tokens follow, then each token of its title and abstract start with its two
//! counts. A match reads this
//! for its candidates instead of analysing their texts again, which was about a third of a
//! match's CPU (bench/README.md, "What a match's publications cost").
//!
//! The bytes are derived from the row and written with it, never the source of anything:
//! bytes made by another analyser (the fingerprint differs) or damaged are refused, and the
//! caller analyses the text as before.

use std::sync::OnceLock;

use tantivy::tokenizer::TokenStream as _;

use super::ABSTRACT_CHARS;
use crate::search::analyzer::multilingual;

/// Bumped when the layout below changes.
const FORMAT: u32 = 1;

/// Text whose tokens change when the analyser does: English stemming and stop words,
/// lowercasing, hyphens, digits, long words, and Chinese, Korean and Japanese runs.
const PROBE: &str = "The Networks of networked studies: running, ran, RUNS and generalization; \
    3D-printing x86_64 e-mail don't résumé Über naïve graphene-based 2.5D \
    abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz \
    深度學習 機器學習 半導體製程 인공지능 반도체 공정 ひらがな カタカナ 學";

/// What bytes made by this build's analyser start with: a hash of the format, how much of an
/// abstract counts, and the analyser's tokens of `PROBE`. Any change to how text is analysed
/// that shows in the probe makes earlier bytes unreadable, so they are analysed again rather
/// than counted by the old rules.
fn fingerprint() -> u32 {
    static FINGERPRINT: OnceLock<u32> = OnceLock::new();
    *FINGERPRINT.get_or_init(|| {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let mut h: u32 = 0x811c_9dc5;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u32::from(*b);
                h = h.wrapping_mul(0x0100_0193);
            }
        };
        eat(&FORMAT.to_le_bytes());
        eat(&(ABSTRACT_CHARS as u32).to_le_bytes());
        let mut analyzer = multilingual();
        let mut stream = analyzer.token_stream(PROBE);
        while stream.advance() {
            eat(stream.token().text.as_bytes());
            eat(&[0]);
        }
        h
    })
}

/// Encodes a publication's length and its tokens with their (title, abstract start) counts.
pub(super) fn encode(len: u32, tokens: &[(&str, u32, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + tokens.len() * 10);
    out.extend_from_slice(&fingerprint().to_le_bytes());
    put(&mut out, len);
    put(&mut out, tokens.len() as u32);
    for &(token, title, abstract_) in tokens {
        put(&mut out, token.len() as u32);
        out.extend_from_slice(token.as_bytes());
        put(&mut out, title);
        put(&mut out, abstract_);
    }
    out
}

/// Calls `each` with every token and its counts, and returns the length; `None` when the
/// bytes were made by another analyser or are damaged (`each` may have been called for some
/// tokens by then: the caller discards what it gathered).
pub(super) fn decode<'b>(bytes: &'b [u8], mut each: impl FnMut(&'b str, u32, u32)) -> Option<u32> {
    let (head, mut rest) = bytes.split_at_checked(4)?;
    if u32::from_le_bytes(head.try_into().ok()?) != fingerprint() {
        return None;
    }
    let len = take(&mut rest)?;
    let count = take(&mut rest)?;
    for _ in 0..count {
        let n = take(&mut rest)? as usize;
        let (token, after) = rest.split_at_checked(n)?;
        rest = after;
        let token = std::str::from_utf8(token).ok()?;
        let title = take(&mut rest)?;
        let abstract_ = take(&mut rest)?;
        each(token, title, abstract_);
    }
    rest.is_empty().then_some(len)
}

/// LEB128: most counts and token lengths take one byte.
fn put(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take(bytes: &mut &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for shift in (0..35).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        v |= u32::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encoded_decodes_and_damage_is_refused() {
        let tokens = [("network", 2, 0), ("深度", 0, 300), ("x", 0, 1)];
        let bytes = encode(12_345, &tokens);
        let mut back = Vec::new();
        assert_eq!(decode(&bytes, |t, a, b| back.push((t, a, b))), Some(12_345));
        assert_eq!(back, tokens);
        // Cut anywhere inside, or made by another analyser: refused.
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut], |_, _, _| ()), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer, |_, _, _| ()), None);
        let mut other = bytes.clone();
        other[0] ^= 1;
        assert_eq!(decode(&other, |_, _, _| ()), None);
    }
}
