//! A check that an HTML page needs nothing outside itself, and SVG documents made fit to inline in one.

/// Attributes whose value is fetched or followed: only `#fragment` and `data:` values stay inside the
/// page.
const REF_ATTRS: [&str; 17] = [
    "src",
    "href",
    "xlink:href",
    "srcset",
    "poster",
    "data",
    "action",
    "formaction",
    "background",
    "cite",
    "longdesc",
    "manifest",
    "ping",
    "archive",
    "codebase",
    "icon",
    "imagesrcset",
];

/// Schemes that point outside the page when they appear in any attribute value (as do values starting
/// with `//`).
const SCHEMES: [&str; 4] = ["http:", "https:", "ftp:", "file:"];

/// Checks that `html` references nothing outside itself.
///
/// Rejected, with a message naming the reference and its byte offset:
/// - a `src`/`href`/`xlink:href`/`srcset`/`poster`/`action`/... attribute whose value does not start
///   with `#` or `data:`;
/// - any other attribute value holding an `http:`, `https:`, `ftp:` or `file:` URL or a `//` link
///   (namespace declarations, `xmlns` and `xmlns:*`, are names, not links, and are allowed);
/// - `url(...)` not pointing at `#...` or `data:` in a `<style>` element or in an attribute;
/// - `@import` in a `<style>` element or a `style` attribute.
///
/// Text between tags is not inspected: a URL shown as text is not fetched.
pub fn check_self_contained(html: &str) -> Result<(), String> {
    let b = html.as_bytes();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let p = i + off;
        let rest = &html[p..];
        if rest.starts_with("<!--") {
            i = match rest.find("-->") {
                Some(e) => p + e + 3,
                None => html.len(),
            };
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") || rest.starts_with("</") {
            i = match rest.find('>') {
                Some(e) => p + e + 1,
                None => html.len(),
            };
            continue;
        }
        if !b.get(p + 1).is_some_and(|c| c.is_ascii_alphabetic()) {
            i = p + 1;
            continue;
        }
        let (name, attrs, end) = parse_tag(html, p + 1);
        for (a, v, at) in &attrs {
            check_attr(a, v, *at)?;
        }
        i = end;
        if name == "style" || name == "script" {
            let close = format!("</{name}");
            let lower_rest = html[i..].to_ascii_lowercase();
            let stop = lower_rest.find(&close).map_or(html.len(), |e| i + e);
            if name == "style" {
                check_css(&html[i..stop], i)?;
            }
            i = stop;
        }
    }
    Ok(())
}

/// An SVG document made fit to inline: the XML declaration, doctype and comments before `<svg` are
/// dropped; the result must start with `<svg` and reference nothing outside itself.
pub fn inline_svg(text: &str) -> Result<String, String> {
    let Some(p) = text.find("<svg") else {
        return Err("no <svg> element".into());
    };
    let svg = text[p..].trim_end();
    if !svg.ends_with("</svg>") {
        return Err("the <svg> element is not closed".into());
    }
    if svg.to_ascii_lowercase().contains("<script") {
        return Err("holds a <script> element".into());
    }
    check_self_contained(svg)?;
    Ok(svg.to_string())
}

type Attr = (String, String, usize);

/// Parses a start tag from just after `<`; returns the lower-case name, attributes (lower-case name,
/// decoded value, byte offset) and the offset just past `>`.
fn parse_tag(html: &str, start: usize) -> (String, Vec<Attr>, usize) {
    let b = html.as_bytes();
    let mut i = start;
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
        i += 1;
    }
    let name = html[start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (name, attrs, b.len());
        }
        if b[i] == b'>' {
            return (name, attrs, i + 1);
        }
        let a0 = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let aname = html[a0..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let v0 = i + 1;
                i = v0;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = decode_entities(&html[v0..i.min(b.len())]);
                i = (i + 1).min(b.len());
            } else {
                let v0 = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = decode_entities(&html[v0..i]);
            }
        }
        attrs.push((aname, value, a0));
    }
}

/// Decodes numeric character references and the common named ones (so `&#104;ttp:` is seen as `http:`).
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let Some(semi) = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&c| c == b';')
        else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..semi];
        let ch = if let Some(hex) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
            u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
        } else if let Some(dec) = ent.strip_prefix('#') {
            dec.parse::<u32>().ok().and_then(char::from_u32)
        } else {
            match ent {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "colon" => Some(':'),
                "sol" => Some('/'),
                _ => None,
            }
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn inside(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    v.starts_with('#') || v.starts_with("data:")
}

/// A link to a run's file written next to the report, its id made of lower-case letters, digits and
/// `-`: the explore page (`explore-<run id>.html`, a self-contained file of its own) or the gallery's
/// CSV of paths (`gallery-<run id>.csv`, data, not part of the page). The only files the report links
/// instead of inlining.
fn is_sibling_file(value: &str) -> bool {
    let id = value
        .strip_prefix("explore-")
        .and_then(|v| v.strip_suffix(".html"))
        .or_else(|| {
            value
                .strip_prefix("gallery-")
                .and_then(|v| v.strip_suffix(".csv"))
        });
    id.is_some_and(|id| {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    })
}

fn check_attr(name: &str, value: &str, at: usize) -> Result<(), String> {
    if name == "xmlns" || name.starts_with("xmlns:") {
        return Ok(());
    }
    if name == "href" && is_sibling_file(value) {
        return Ok(());
    }
    if REF_ATTRS.contains(&name) && !inside(value) {
        return Err(format!(
            "attribute {name}=\"{value}\" at byte {at} points outside the page (expected a value starting with '#' or 'data:')"
        ));
    }
    if !inside(value) {
        // URL parsers drop tabs and line breaks anywhere in a URL.
        let compact: String = value
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        let compact = compact.trim();
        let hit = if compact.starts_with("//") {
            Some("//")
        } else {
            SCHEMES.into_iter().find(|s| url_like(compact, s))
        };
        if let Some(s) = hit {
            return Err(format!(
                "attribute {name}=\"{value}\" at byte {at} holds a link outside the page ({s})"
            ));
        }
    }
    check_css(value, at)
}

/// Whether `scheme` occurs as a URL scheme (start of the value or after a non-letter).
fn url_like(v: &str, scheme: &str) -> bool {
    v.match_indices(scheme)
        .any(|(p, _)| p == 0 || !v.as_bytes()[p - 1].is_ascii_alphanumeric())
}

fn check_css(css: &str, base: usize) -> Result<(), String> {
    let lower = css.to_ascii_lowercase();
    if let Some(p) = lower.find("@import") {
        return Err(format!(
            "@import at byte {} loads a stylesheet from outside the page",
            base + p
        ));
    }
    for (p, _) in lower.match_indices("url(") {
        let arg = lower[p + 4..].trim_start().trim_start_matches(['"', '\'']);
        if !(arg.starts_with('#') || arg.starts_with("data:")) {
            let end = lower[p..].find(')').map_or(lower.len(), |e| p + e + 1);
            return Err(format!(
                "{} at byte {} points outside the page (expected url(#...) or url(data:...))",
                &css[p..end],
                base + p
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_fragments_data_and_namespaces() {
        let ok = r##"<!DOCTYPE html><html><head><style>body{background:url(data:image/png;base64,AA)}</style></head>
<body><a href="#x">x</a><img src="data:image/png;base64,AAAA" alt="a > b">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><rect fill="url(#g)"/></svg>
<p title="&amp; R→P &bogus; &">see http://example.org in text</p><!-- <img src="x.png"> --></body></html>"##;
        assert_eq!(check_self_contained(ok), Ok(()));
    }

    #[test]
    fn rejects_outside_references() {
        for bad in [
            r#"<img src="x.png">"#,
            r#"<IMG SRC=x.png>"#,
            r#"<a href="https://example.org">x</a>"#,
            r#"<script src="app.js"></script>"#,
            r#"<link rel="stylesheet" href="style.css">"#,
            r#"<style>@import "x.css";</style>"#,
            r#"<style>body{background:url('bg.png')}</style>"#,
            r#"<div style="background: url(http://x/y.png)"></div>"#,
            r#"<meta http-equiv="refresh" content="0; url=http://example.org">"#,
            r#"<a href="&#104;ttp://example.org">x</a>"#,
            r#"<svg><image xlink:href="pic.png"/></svg>"#,
            r#"<img srcset="a.png 1x">"#,
            r#"<a href="">x</a>"#,
            r#"<object data="//cdn.example.org/x"></object>"#,
            r#"<div title="&#x2192; R→P &#104;ttps://x.org"></div>"#,
        ] {
            assert!(check_self_contained(bad).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn inline_svg_drops_the_prolog_and_rejects_scripts() {
        let doc = "<?xml version=\"1.0\"?>\n<!-- c -->\n<svg width=\"1\"><rect/></svg>\n";
        assert_eq!(inline_svg(doc).unwrap(), "<svg width=\"1\"><rect/></svg>");
        assert!(inline_svg("<p>no svg</p>").is_err());
        assert!(inline_svg("<svg><rect/>").is_err());
        assert!(inline_svg("<svg><script>x()</script></svg>").is_err());
        assert!(inline_svg("<svg><image href=\"x.png\"/></svg>").is_err());
        // Only the explore pages written next to the report may be linked.
        assert!(check_self_contained(r#"<a href="explore-tiny-r-a.html">x</a>"#).is_ok());
        assert!(check_self_contained(r#"<a href="gallery-tiny-r-a.csv">x</a>"#).is_ok());
        for bad in [
            "gallery-../x.csv",
            "gallery-x.html",
            "<img src=\"gallery-a.csv\">",
            "explore-../x.html",
            "explore-A.html",
            "explore-.html",
            "other.html",
        ] {
            assert!(
                check_self_contained(&format!("<a href=\"{bad}\">x</a>")).is_err(),
                "{bad}"
            );
        }
    }
}
