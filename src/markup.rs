//! Text embedded in HTML and XML documents: escaping (text, attributes, JSON inside `<script>`), and
//! base64 for `data:` URIs and inline data.
//!
//! One low module, used by the report's HTML pages, the explore page and the pptx writer's XML.

use base64::Engine as _;

/// Standard base64 (RFC 4648, with `=` padding) of `bytes`.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Escapes `& < > " '` for HTML text and attribute values (`'` as `&#39;`).
pub fn html_escape(s: &str) -> String {
    escape(s, Markup::Html)
}

/// Escapes `& < > " '` for XML text and attribute values (`'` as `&apos;`), dropping the characters
/// XML 1.0 does not allow (control characters other than tab and line breaks, U+FFFE, U+FFFF).
pub fn xml_escape(s: &str) -> String {
    escape(s, Markup::Xml)
}

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` become `\u003c`, `\u003e` and
/// `\u0026` (so neither `</script>` nor `<!--` can occur), and U+2028/U+2029 are escaped as well.
pub fn script_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Which document the text goes into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Markup {
    Html,
    Xml,
}

fn escape(s: &str, m: Markup) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' if m == Markup::Html => out.push_str("&#39;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if m == Markup::Xml && ((c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn script_json_cannot_close_the_script() {
        let v = serde_json::json!({"p": "a</script><!--b&c\u{2028}"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    use super::*;

    /// The test vectors of RFC 4648, section 10.
    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(i.as_bytes()), o);
        }
        assert_eq!(base64_encode(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn html_and_xml_escape_the_same_specials() {
        let s = "a & b < c > d \"e\" 'f'\tg\n\u{1}\u{FFFF}é";
        assert_eq!(
            html_escape(s),
            "a &amp; b &lt; c &gt; d &quot;e&quot; &#39;f&#39;\tg\n\u{1}\u{FFFF}é"
        );
        assert_eq!(
            xml_escape(s),
            "a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;\tg\né"
        );
    }
}
