//! DrawingML and PresentationML pieces of a slide: text boxes, pictures and native tables
//! (`a:tbl` in a `p:graphicFrame`), positions in EMU (914,400 per inch).

use std::fmt::Write as _;

use crate::markup::xml_escape;

/// EMU per inch.
pub const INCH: i64 = 914_400;
/// Slide width, 16:9 (13.333 in).
pub const SLIDE_W: i64 = 12_192_000;
/// Slide height, 16:9 (7.5 in).
pub const SLIDE_H: i64 = 6_858_000;
/// The font of every run; LibreOffice and most Linux systems substitute the metric-compatible
/// Liberation Sans.
pub const FONT: &str = "Arial";
/// Text colour.
pub const INK: &str = "1F2933";
/// Secondary text colour (captions, baseline rows).
pub const MUTED: &str = "5F6B7A";

/// Horizontal alignment of a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left.
    Left,
    /// Right (numbers).
    Right,
}

impl Align {
    fn attr(self) -> &'static str {
        match self {
            Align::Left => "l",
            Align::Right => "r",
        }
    }
}

/// Character formatting of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Size in hundredths of a point.
    pub size: u32,
    /// Bold.
    pub bold: bool,
    /// Italic.
    pub italic: bool,
    /// Colour, `RRGGBB`.
    pub color: &'static str,
}

impl Style {
    /// Plain text of `pt` points in the ink colour.
    pub fn pt(pt: u32) -> Self {
        Self {
            size: pt * 100,
            bold: false,
            italic: false,
            color: INK,
        }
    }

    /// The same, bold.
    pub fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    /// The same, italic.
    pub fn italic(mut self) -> Self {
        self.italic = true;
        self
    }

    /// The same in `color`.
    pub fn color(mut self, color: &'static str) -> Self {
        self.color = color;
        self
    }
}

fn run_props(tag: &str, st: Style) -> String {
    format!(
        "<a:{tag} lang=\"en-US\" sz=\"{}\" b=\"{}\" i=\"{}\" dirty=\"0\"><a:solidFill><a:srgbClr val=\"{}\"/></a:solidFill>\
         <a:latin typeface=\"{FONT}\"/><a:cs typeface=\"{FONT}\"/></a:{tag}>",
        st.size,
        u8::from(st.bold),
        u8::from(st.italic),
        st.color
    )
}

/// One paragraph: a run of `text` (line breaks become `a:br`), or only the end mark when empty.
pub fn paragraph(text: &str, st: Style, align: Align) -> String {
    let mut s = format!("<a:p><a:pPr algn=\"{}\"/>", align.attr());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            s.push_str("<a:br>");
            s.push_str(&run_props("rPr", st));
            s.push_str("</a:br>");
        }
        if !line.is_empty() {
            let _ = write!(
                s,
                "<a:r>{}<a:t>{}</a:t></a:r>",
                run_props("rPr", st),
                xml_escape(line)
            );
        }
    }
    s.push_str(&run_props("endParaRPr", st));
    s.push_str("</a:p>");
    s
}

fn xfrm(tag: &str, x: i64, y: i64, w: i64, h: i64) -> String {
    format!("<{tag}><a:off x=\"{x}\" y=\"{y}\"/><a:ext cx=\"{w}\" cy=\"{h}\"/></{tag}>")
}

/// A text box holding `paragraphs` (from [`paragraph`]).
pub fn text_box(id: u32, name: &str, rect: (i64, i64, i64, i64), paragraphs: &str) -> String {
    let (x, y, w, h) = rect;
    format!(
        "<p:sp><p:nvSpPr><p:cNvPr id=\"{id}\" name=\"{}\"/><p:cNvSpPr txBox=\"1\"/><p:nvPr/></p:nvSpPr>\
         <p:spPr>{}<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom><a:noFill/></p:spPr>\
         <p:txBody><a:bodyPr wrap=\"square\" lIns=\"91440\" tIns=\"45720\" rIns=\"91440\" bIns=\"45720\" \
         rtlCol=\"0\" anchor=\"t\"><a:normAutofit/></a:bodyPr><a:lstStyle/>{paragraphs}</p:txBody></p:sp>",
        xml_escape(name),
        xfrm("a:xfrm", x, y, w, h)
    )
}

/// A picture filling `rect` (already fitted to the image's aspect), its image behind relationship
/// `rid`, with `descr` as its text alternative.
pub fn picture(id: u32, descr: &str, rid: &str, rect: (i64, i64, i64, i64)) -> String {
    let (x, y, w, h) = rect;
    format!(
        "<p:pic><p:nvPicPr><p:cNvPr id=\"{id}\" name=\"Picture {id}\" descr=\"{}\"/>\
         <p:cNvPicPr><a:picLocks noChangeAspect=\"1\"/></p:cNvPicPr><p:nvPr/></p:nvPicPr>\
         <p:blipFill><a:blip r:embed=\"{rid}\"/><a:stretch><a:fillRect/></a:stretch></p:blipFill>\
         <p:spPr>{}<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr></p:pic>",
        xml_escape(descr),
        xfrm("a:xfrm", x, y, w, h)
    )
}

/// The largest rectangle of the image's aspect (`img_w` × `img_h` pixels) centred in `area`.
pub fn fit(img_w: u32, img_h: u32, area: (i64, i64, i64, i64)) -> (i64, i64, i64, i64) {
    let (x, y, w, h) = area;
    if img_w == 0 || img_h == 0 {
        return area;
    }
    let (iw, ih) = (i64::from(img_w), i64::from(img_h));
    let (fw, fh) = if w * ih <= h * iw {
        (w, w * ih / iw)
    } else {
        (h * iw / ih, h)
    };
    (x + (w - fw) / 2, y + (h - fh) / 2, fw, fh)
}

/// One cell of a native table.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Text (line breaks allowed).
    pub text: String,
    /// Character formatting.
    pub style: Style,
    /// Alignment.
    pub align: Align,
    /// Background, `RRGGBB`; `None`: no fill.
    pub fill: Option<&'static str>,
    /// Rows this cell spans downwards (1: none).
    pub row_span: u32,
    /// Covered by the cell above that spans it (its text stays empty).
    pub merged: bool,
}

impl Cell {
    /// A cell of `text` in `style`, aligned `align`, without fill or span.
    pub fn new(text: impl Into<String>, style: Style, align: Align) -> Self {
        Self {
            text: text.into(),
            style,
            align,
            fill: None,
            row_span: 1,
            merged: false,
        }
    }

    /// The same with a background.
    pub fn fill(mut self, fill: Option<&'static str>) -> Self {
        self.fill = fill;
        self
    }
}

/// A native table: column widths (EMU), a row height (EMU; rows grow to fit their text) and rows of
/// cells, the first row being the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Width of each column.
    pub widths: Vec<i64>,
    /// Height of each row.
    pub row_h: i64,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

fn border(tag: &str, color: Option<&str>) -> String {
    match color {
        Some(c) => format!(
            "<a:{tag} w=\"9525\" cap=\"flat\" cmpd=\"sng\" algn=\"ctr\"><a:solidFill><a:srgbClr val=\"{c}\"/>\
             </a:solidFill><a:prstDash val=\"solid\"/></a:{tag}>"
        ),
        None => format!("<a:{tag} w=\"0\"><a:noFill/></a:{tag}>"),
    }
}

fn table_cell(c: &Cell, top_rule: Option<&str>) -> String {
    let mut s = String::from("<a:tc");
    if c.row_span > 1 {
        let _ = write!(s, " rowSpan=\"{}\"", c.row_span);
    }
    if c.merged {
        s.push_str(" vMerge=\"1\"");
    }
    s.push_str("><a:txBody><a:bodyPr/><a:lstStyle/>");
    s.push_str(&paragraph(
        if c.merged { "" } else { &c.text },
        c.style,
        c.align,
    ));
    s.push_str(
        "</a:txBody><a:tcPr marL=\"64008\" marR=\"64008\" marT=\"27432\" marB=\"27432\" anchor=\"ctr\">",
    );
    s.push_str(&border("lnL", None));
    s.push_str(&border("lnR", None));
    s.push_str(&border("lnT", top_rule));
    s.push_str(&border("lnB", Some("A6AEB8")));
    match c.fill {
        Some(f) => {
            let _ = write!(s, "<a:solidFill><a:srgbClr val=\"{f}\"/></a:solidFill>");
        }
        None => s.push_str("<a:noFill/>"),
    }
    s.push_str("</a:tcPr></a:tc>");
    s
}

impl Grid {
    /// Total width.
    pub fn width(&self) -> i64 {
        self.widths.iter().sum()
    }

    /// Total height at the nominal row height.
    pub fn height(&self) -> i64 {
        self.row_h * self.rows.len() as i64
    }

    /// The table as a graphic frame named `name` at (`x`, `y`).
    pub fn frame(&self, id: u32, name: &str, x: i64, y: i64) -> String {
        let mut s = format!(
            "<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id=\"{id}\" name=\"{}\"/>\
             <p:cNvGraphicFramePr><a:graphicFrameLocks noGrp=\"1\"/></p:cNvGraphicFramePr><p:nvPr/>\
             </p:nvGraphicFramePr>{}<a:graphic>\
             <a:graphicData uri=\"http://schemas.openxmlformats.org/drawingml/2006/table\">\
             <a:tbl><a:tblPr firstRow=\"1\"/><a:tblGrid>",
            xml_escape(name),
            xfrm("p:xfrm", x, y, self.width(), self.height())
        );
        for w in &self.widths {
            let _ = write!(s, "<a:gridCol w=\"{w}\"/>");
        }
        s.push_str("</a:tblGrid>");
        for (i, row) in self.rows.iter().enumerate() {
            let _ = write!(s, "<a:tr h=\"{}\">", self.row_h);
            let rule = if i <= 1 { Some(INK) } else { None };
            for c in row {
                s.push_str(&table_cell(c, rule));
            }
            s.push_str("</a:tr>");
        }
        s.push_str("</a:tbl></a:graphicData></a:graphic></p:graphicFrame>");
        s
    }
}

/// Column widths from relative `weights`, scaled to fill `total` but no column wider than `max`.
pub fn widths(weights: &[f64], total: i64, max: i64) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let max_w = weights.iter().cloned().fold(0.0, f64::max);
    let unit = (total as f64 / sum).min(max as f64 / max_w);
    weights.iter().map(|w| (w * unit).round() as i64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_drops_control_characters() {
        assert_eq!(
            xml_escape("a<b>&\"'\u{1}c\n"),
            "a&lt;b&gt;&amp;&quot;&apos;c\n"
        );
    }

    #[test]
    fn fit_keeps_the_aspect_and_centres() {
        // 2:1 image in a 4×4 area: full width, half height, centred vertically.
        assert_eq!(fit(200, 100, (0, 0, 400, 400)), (0, 100, 400, 200));
        // 1:2 image in a 4×4 area: half width, centred horizontally.
        assert_eq!(fit(100, 200, (10, 0, 400, 400)), (110, 0, 200, 400));
        assert_eq!(fit(0, 5, (1, 2, 3, 4)), (1, 2, 3, 4));
    }

    #[test]
    fn widths_fill_but_cap() {
        assert_eq!(widths(&[2.0, 1.0, 1.0], 400, 1000), vec![200, 100, 100]);
        // The widest column would be 400 > 150: scale down so it is 150.
        assert_eq!(widths(&[2.0, 1.0, 1.0], 800, 150), vec![150, 75, 75]);
    }
}
