//! The OPC package of the deck: the fixed parts (theme, slide master, one blank layout, properties),
//! the content types, the relationships, and the zip container written deterministically (entries in
//! a fixed order, stored, every timestamp 1980-01-01 00:00, mode 0644).

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use super::xml::{FONT, SLIDE_H, SLIDE_W};
use crate::markup::xml_escape;

const NS_P: &str = "http://schemas.openxmlformats.org/presentationml/2006/main";
const NS_A: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";
const NS_R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const NS_PKG_REL: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
/// Relationship type prefix of the office document relationships.
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// One slide as written: its shape tree (inside `p:spTree`, after the group properties) and its
/// images (`(extension, bytes)`, referenced as `rId2`, `rId3`, ... in order).
#[derive(Debug, Clone, Default)]
pub struct SlidePart {
    /// The shapes.
    pub shapes: String,
    /// The images the shapes reference.
    pub images: Vec<(&'static str, Vec<u8>)>,
}

/// Namespaces declared on the root of every slide, master and layout part.
fn ns() -> String {
    format!("xmlns:a=\"{NS_A}\" xmlns:r=\"{NS_R}\" xmlns:p=\"{NS_P}\"")
}

const GROUP_PROPS: &str =
    "<p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>\
<p:grpSpPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"0\" cy=\"0\"/><a:chOff x=\"0\" y=\"0\"/>\
<a:chExt cx=\"0\" cy=\"0\"/></a:xfrm></p:grpSpPr>";

fn slide_xml(s: &SlidePart) -> String {
    format!(
        "{DECL}<p:sld {}><p:cSld><p:spTree>{GROUP_PROPS}{}</p:spTree></p:cSld>\
         <p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>",
        ns(),
        s.shapes
    )
}

fn rels(entries: &[(String, String)]) -> String {
    let mut s = format!("{DECL}<Relationships xmlns=\"{NS_PKG_REL}\">");
    for (i, (kind, target)) in entries.iter().enumerate() {
        let _ = write!(
            s,
            "<Relationship Id=\"rId{}\" Type=\"{kind}\" Target=\"{}\"/>",
            i + 1,
            xml_escape(target)
        );
    }
    s.push_str("</Relationships>");
    s
}

fn rel(kind: &str, target: impl Into<String>) -> (String, String) {
    (format!("{REL}/{kind}"), target.into())
}

fn content_types(n_slides: usize) -> String {
    let main = "application/vnd.openxmlformats-officedocument";
    let mut s = format!(
        "{DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Default Extension=\"png\" ContentType=\"image/png\"/>\
         <Default Extension=\"jpeg\" ContentType=\"image/jpeg\"/>\
         <Default Extension=\"gif\" ContentType=\"image/gif\"/>\
         <Override PartName=\"/ppt/presentation.xml\" ContentType=\"{main}.presentationml.presentation.main+xml\"/>\
         <Override PartName=\"/ppt/slideMasters/slideMaster1.xml\" ContentType=\"{main}.presentationml.slideMaster+xml\"/>\
         <Override PartName=\"/ppt/slideLayouts/slideLayout1.xml\" ContentType=\"{main}.presentationml.slideLayout+xml\"/>\
         <Override PartName=\"/ppt/theme/theme1.xml\" ContentType=\"{main}.theme+xml\"/>\
         <Override PartName=\"/ppt/presProps.xml\" ContentType=\"{main}.presentationml.presProps+xml\"/>\
         <Override PartName=\"/ppt/viewProps.xml\" ContentType=\"{main}.presentationml.viewProps+xml\"/>\
         <Override PartName=\"/ppt/tableStyles.xml\" ContentType=\"{main}.presentationml.tableStyles+xml\"/>\
         <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
         <Override PartName=\"/docProps/app.xml\" ContentType=\"{main}.extended-properties+xml\"/>"
    );
    for i in 1..=n_slides {
        let _ = write!(
            s,
            "<Override PartName=\"/ppt/slides/slide{i}.xml\" ContentType=\"{main}.presentationml.slide+xml\"/>"
        );
    }
    s.push_str("</Types>");
    s
}

fn presentation(n_slides: usize) -> String {
    let mut s = format!(
        "{DECL}<p:presentation {} saveSubsetFonts=\"1\"><p:sldMasterIdLst>\
         <p:sldMasterId id=\"2147483648\" r:id=\"rId1\"/></p:sldMasterIdLst><p:sldIdLst>",
        ns()
    );
    for i in 0..n_slides {
        let _ = write!(s, "<p:sldId id=\"{}\" r:id=\"rId{}\"/>", 256 + i, i + 2);
    }
    let _ = write!(
        s,
        "</p:sldIdLst><p:sldSz cx=\"{SLIDE_W}\" cy=\"{SLIDE_H}\"/><p:notesSz cx=\"6858000\" cy=\"9144000\"/>\
         <p:defaultTextStyle><a:defPPr><a:defRPr lang=\"en-US\"/></a:defPPr></p:defaultTextStyle></p:presentation>"
    );
    s
}

fn presentation_rels(n_slides: usize) -> String {
    let mut r = vec![rel("slideMaster", "slideMasters/slideMaster1.xml")];
    for i in 1..=n_slides {
        r.push(rel("slide", format!("slides/slide{i}.xml")));
    }
    r.push(rel("presProps", "presProps.xml"));
    r.push(rel("viewProps", "viewProps.xml"));
    r.push(rel("theme", "theme/theme1.xml"));
    r.push(rel("tableStyles", "tableStyles.xml"));
    rels(&r)
}

fn master() -> String {
    format!(
        "{DECL}<p:sldMaster {}><p:cSld><p:bg><p:bgPr><a:solidFill><a:srgbClr val=\"FFFFFF\"/></a:solidFill>\
         <a:effectLst/></p:bgPr></p:bg><p:spTree>{GROUP_PROPS}</p:spTree></p:cSld>\
         <p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" \
         accent3=\"accent3\" accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" hlink=\"hlink\" \
         folHlink=\"folHlink\"/><p:sldLayoutIdLst><p:sldLayoutId id=\"2147483649\" r:id=\"rId1\"/>\
         </p:sldLayoutIdLst><p:txStyles><p:titleStyle>{lvl}</p:titleStyle><p:bodyStyle>{lvl}</p:bodyStyle>\
         <p:otherStyle>{lvl}</p:otherStyle></p:txStyles></p:sldMaster>",
        ns(),
        lvl = format!(
            "<a:lvl1pPr><a:defRPr lang=\"en-US\"><a:latin typeface=\"{FONT}\"/><a:cs typeface=\"{FONT}\"/>\
             </a:defRPr></a:lvl1pPr>"
        )
    )
}

fn layout() -> String {
    format!(
        "{DECL}<p:sldLayout {} type=\"blank\" preserve=\"1\"><p:cSld name=\"Blank\"><p:spTree>{GROUP_PROPS}\
         </p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>",
        ns()
    )
}

fn theme() -> String {
    let solid = |c: &str| format!("<a:solidFill><a:schemeClr val=\"{c}\"/></a:solidFill>");
    let line = |w: u32| {
        format!(
            "<a:ln w=\"{w}\" cap=\"flat\" cmpd=\"sng\" algn=\"ctr\"><a:solidFill><a:schemeClr val=\"phClr\"/>\
             </a:solidFill><a:prstDash val=\"solid\"/></a:ln>"
        )
    };
    let fills = solid("phClr").repeat(3);
    let effects = "<a:effectStyle><a:effectLst/></a:effectStyle>".repeat(3);
    let colors = [
        ("accent1", "1F4E79"),
        ("accent2", "C55A11"),
        ("accent3", "548235"),
        ("accent4", "7F6000"),
        ("accent5", "2E75B6"),
        ("accent6", "843C0C"),
        ("hlink", "0563C1"),
        ("folHlink", "954F72"),
    ];
    let mut scheme = String::from(
        "<a:dk1><a:srgbClr val=\"1F2933\"/></a:dk1><a:lt1><a:srgbClr val=\"FFFFFF\"/></a:lt1>\
         <a:dk2><a:srgbClr val=\"44546A\"/></a:dk2><a:lt2><a:srgbClr val=\"E7E6E6\"/></a:lt2>",
    );
    for (k, v) in colors {
        let _ = write!(scheme, "<a:{k}><a:srgbClr val=\"{v}\"/></a:{k}>");
    }
    let font = format!("<a:latin typeface=\"{FONT}\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/>");
    format!(
        "{DECL}<a:theme xmlns:a=\"{NS_A}\" name=\"dannscope\"><a:themeElements>\
         <a:clrScheme name=\"dannscope\">{scheme}</a:clrScheme>\
         <a:fontScheme name=\"dannscope\"><a:majorFont>{font}</a:majorFont><a:minorFont>{font}</a:minorFont></a:fontScheme>\
         <a:fmtScheme name=\"dannscope\"><a:fillStyleLst>{fills}</a:fillStyleLst>\
         <a:lnStyleLst>{}{}{}</a:lnStyleLst><a:effectStyleLst>{effects}</a:effectStyleLst>\
         <a:bgFillStyleLst>{fills}</a:bgFillStyleLst></a:fmtScheme></a:themeElements>\
         <a:objectDefaults/><a:extraClrSchemeLst/></a:theme>",
        line(6350),
        line(12700),
        line(19050)
    )
}

fn core(title: &str) -> String {
    format!(
        "{DECL}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
         xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <dc:title>{}</dc:title><dc:creator>dannscope</dc:creator></cp:coreProperties>",
        xml_escape(title)
    )
}

fn app(n_slides: usize) -> String {
    format!(
        "{DECL}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" \
         xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">\
         <Application>dannscope {}</Application><PresentationFormat>Widescreen</PresentationFormat>\
         <Slides>{n_slides}</Slides></Properties>",
        env!("CARGO_PKG_VERSION")
    )
}

/// Every part of the package, in the order written: `(part name, bytes)`.
pub fn parts(title: &str, slides: &[SlidePart]) -> Vec<(String, Vec<u8>)> {
    let n = slides.len();
    let mut out: Vec<(String, Vec<u8>)> = vec![
        ("[Content_Types].xml".into(), content_types(n).into_bytes()),
        (
            "_rels/.rels".into(),
            rels(&[
                rel("officeDocument", "ppt/presentation.xml"),
                (
                    format!("{NS_PKG_REL}/metadata/core-properties"),
                    "docProps/core.xml".into(),
                ),
                rel("extended-properties", "docProps/app.xml"),
            ])
            .into_bytes(),
        ),
        ("docProps/core.xml".into(), core(title).into_bytes()),
        ("docProps/app.xml".into(), app(n).into_bytes()),
        ("ppt/presentation.xml".into(), presentation(n).into_bytes()),
        (
            "ppt/_rels/presentation.xml.rels".into(),
            presentation_rels(n).into_bytes(),
        ),
        (
            "ppt/presProps.xml".into(),
            format!("{DECL}<p:presentationPr {}/>", ns()).into_bytes(),
        ),
        (
            "ppt/viewProps.xml".into(),
            format!("{DECL}<p:viewPr {}/>", ns()).into_bytes(),
        ),
        (
            "ppt/tableStyles.xml".into(),
            format!(
                "{DECL}<a:tblStyleLst xmlns:a=\"{NS_A}\" def=\"{{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}}\"/>"
            )
            .into_bytes(),
        ),
        ("ppt/theme/theme1.xml".into(), theme().into_bytes()),
        (
            "ppt/slideMasters/slideMaster1.xml".into(),
            master().into_bytes(),
        ),
        (
            "ppt/slideMasters/_rels/slideMaster1.xml.rels".into(),
            rels(&[
                rel("slideLayout", "../slideLayouts/slideLayout1.xml"),
                rel("theme", "../theme/theme1.xml"),
            ])
            .into_bytes(),
        ),
        (
            "ppt/slideLayouts/slideLayout1.xml".into(),
            layout().into_bytes(),
        ),
        (
            "ppt/slideLayouts/_rels/slideLayout1.xml.rels".into(),
            rels(&[rel("slideMaster", "../slideMasters/slideMaster1.xml")]).into_bytes(),
        ),
    ];
    let mut media = 0;
    for (i, s) in slides.iter().enumerate() {
        let k = i + 1;
        out.push((
            format!("ppt/slides/slide{k}.xml"),
            slide_xml(s).into_bytes(),
        ));
        let mut r = vec![rel("slideLayout", "../slideLayouts/slideLayout1.xml")];
        let mut files = Vec::new();
        for (ext, bytes) in &s.images {
            media += 1;
            let name = format!("image{media}.{ext}");
            r.push(rel("image", format!("../media/{name}")));
            files.push((format!("ppt/media/{name}"), bytes.clone()));
        }
        out.push((
            format!("ppt/slides/_rels/slide{k}.xml.rels"),
            rels(&r).into_bytes(),
        ));
        out.extend(files);
    }
    out
}

/// The parts as a zip archive: stored entries, fixed timestamps and permissions, so the same parts
/// give the same bytes.
pub fn zip(parts: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in parts {
        w.start_file(name.as_str(), opts)
            .map_err(|e| format!("{name}: {e}"))?;
        w.write_all(bytes).map_err(|e| format!("{name}: {e}"))?;
    }
    w.finish()
        .map(Cursor::into_inner)
        .map_err(|e| format!("closing the archive: {e}"))
}
