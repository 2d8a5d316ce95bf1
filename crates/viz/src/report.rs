//! A self-contained HTML report: one file, inline CSS, no scripts, no external resources.
//!
//! ```
//! use synod_viz::Report;
//!
//! let mut r = Report::new("FLP in practice");
//! r.section("Setup")
//!     .paragraph("Three nodes, one may crash; the network delays messages <= 10ms.")
//!     .preformatted("model: asynchronous, crash-stop, f = 1")
//!     .section("Results")
//!     .table(
//!         &["seed".to_string(), "decided".to_string()],
//!         &[vec!["1".to_string(), "yes".to_string()]],
//!     )
//!     .claim("some run never decides", "VIOLATED as expected");
//! let html = r.to_html();
//! assert!(html.contains("&lt;= 10ms"));
//! assert!(html.contains("href=\"#s2-results\""));
//! ```
//!
//! Text is always escaped; only [`Report::svg`] inserts markup, and it expects the SVG produced
//! by [`crate::lamport`] or [`crate::plot`].

use crate::svg::escape_xml;
use std::fmt::Write as _;

/// An HTML report under construction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    title: String,
    /// Anchor and heading of every section, for the table of contents.
    toc: Vec<(String, String)>,
    body: String,
    section_open: bool,
}

const MONO: &str = "ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace";

fn css() -> String {
    format!(
        "*{{box-sizing:border-box}}\
body{{margin:0;background:#fff;color:#1d2939;line-height:1.55;\
font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}}\
main{{max-width:1180px;margin:0 auto;padding:32px 28px 72px}}\
h1{{font-size:2rem;line-height:1.2;margin:0 0 1rem;color:#101828}}\
h2{{font-size:1.45rem;margin:2.6rem 0 .8rem;padding-bottom:.3rem;border-bottom:1px solid #eaecf0;color:#101828}}\
h3{{font-size:1.12rem;margin:1.6rem 0 .5rem;color:#344054}}\
p{{max-width:78ch;margin:.6rem 0}}\
a{{color:#175cd3;text-decoration:none}}a:hover{{text-decoration:underline}}\
nav.toc{{display:inline-block;min-width:18rem;max-width:70ch;background:#f9fafb;\
border:1px solid #eaecf0;border-radius:8px;padding:.7rem 1.4rem .7rem 1.1rem;margin:0 0 1.2rem}}\
nav.toc strong{{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:#667085}}\
nav.toc ol{{margin:.3rem 0 0;padding-left:1.5rem}}\
pre{{background:#f8fafc;border:1px solid #eaecf0;border-radius:6px;padding:12px 14px;\
overflow-x:auto;font:13px/1.45 {MONO};color:#1d2939}}\
.table-wrap{{overflow-x:auto;margin:1rem 0}}\
table{{border-collapse:collapse;font-size:14px}}\
th,td{{padding:6px 14px;border-bottom:1px solid #eaecf0;text-align:left;vertical-align:top}}\
th{{background:#f2f4f7;font-weight:600;border-bottom:2px solid #d0d5dd;white-space:nowrap}}\
tbody tr:nth-child(even){{background:#f9fafb}}\
tbody tr:hover{{background:#eff8ff}}\
th.num{{text-align:right}}\
td.num{{text-align:right;font-family:{MONO};font-size:13px;font-variant-numeric:tabular-nums;white-space:nowrap}}\
.figure{{overflow-x:auto;border:1px solid #eaecf0;border-radius:8px;margin:1rem 0;background:#fff}}\
.figure svg{{display:block}}\
.claim{{display:flex;gap:.8rem;align-items:baseline;max-width:90ch;margin:.8rem 0;padding:.6rem 1rem;\
border-left:4px solid;border-radius:4px}}\
.badge{{flex:none;white-space:nowrap;font-size:12px;font-weight:700;letter-spacing:.03em;\
padding:2px 9px;border-radius:999px;color:#fff}}\
.holds{{border-color:#12b76a;background:#ecfdf3}}.holds .badge{{background:#067647}}\
.expected{{border-color:#f79009;background:#fffaeb}}.expected .badge{{background:#b54708}}\
.unexpected{{border-color:#f04438;background:#fef3f2}}.unexpected .badge{{background:#b42318}}\
.other{{border-color:#98a2b3;background:#f9fafb}}.other .badge{{background:#475467}}\
footer{{margin-top:3rem;color:#98a2b3;font-size:12px}}"
    )
}

impl Report {
    /// An empty report titled `title`.
    pub fn new(title: &str) -> Report {
        Report {
            title: title.to_string(),
            ..Report::default()
        }
    }

    /// Starts a section headed `heading` (an `<h2>`), listed in the table of contents.
    pub fn section(&mut self, heading: &str) -> &mut Self {
        self.close_section();
        let anchor = format!("s{}-{}", self.toc.len() + 1, slug(heading));
        let _ = write!(
            self.body,
            "<section id=\"{anchor}\">\n<h2>{}</h2>\n",
            escape_xml(heading)
        );
        self.toc.push((anchor, heading.to_string()));
        self.section_open = true;
        self
    }

    /// A subheading (`<h3>`) inside the current section.
    pub fn subheading(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<h3>{}</h3>", escape_xml(text));
        self
    }

    /// A paragraph of plain text (escaped; a blank line starts a new paragraph).
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            let _ = writeln!(self.body, "<p>{}</p>", escape_xml(para));
        }
        self
    }

    /// Preformatted text in a monospace block (escaped): model headers, command output.
    pub fn preformatted(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<pre>{}</pre>", escape_xml(text.trim_end()));
        self
    }

    /// A table. Columns whose cells all read as numbers (optionally with a unit such as `ms` or
    /// `%`) are right-aligned in a monospace font.
    pub fn table(&mut self, headers: &[String], rows: &[Vec<String>]) -> &mut Self {
        let columns = headers
            .len()
            .max(rows.iter().map(Vec::len).max().unwrap_or(0));
        let numeric: Vec<bool> = (0..columns).map(|c| numeric_column(rows, c)).collect();
        let class = |c: usize| if numeric[c] { " class=\"num\"" } else { "" };
        self.body.push_str("<div class=\"table-wrap\"><table>\n");
        if !headers.is_empty() {
            self.body.push_str("<thead><tr>");
            for (c, h) in headers.iter().enumerate() {
                let _ = write!(self.body, "<th{}>{}</th>", class(c), escape_xml(h));
            }
            self.body.push_str("</tr></thead>\n");
        }
        self.body.push_str("<tbody>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for (c, cell) in row.iter().enumerate() {
                let _ = write!(self.body, "<td{}>{}</td>", class(c), escape_xml(cell));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table></div>\n");
        self
    }

    /// Inlines an SVG document (from [`crate::lamport`] or [`crate::plot`]) in a horizontally
    /// scrollable frame. Any XML declaration or doctype before the `<svg>` element is dropped.
    pub fn svg(&mut self, svg: &str) -> &mut Self {
        let start = svg.find("<svg").unwrap_or(0);
        let _ = writeln!(
            self.body,
            "<div class=\"figure\">{}</div>",
            svg[start..].trim_end()
        );
        self
    }

    /// A claim with its verdict: `HOLDS` (green), `VIOLATED as expected` (amber) or `UNEXPECTED`
    /// (red); any other verdict gets a grey badge.
    pub fn claim(&mut self, text: &str, verdict: &str) -> &mut Self {
        let _ = writeln!(
            self.body,
            "<div class=\"claim {}\"><span class=\"badge\">{}</span><span>{}</span></div>",
            verdict_class(verdict),
            escape_xml(verdict),
            escape_xml(text)
        );
        self
    }

    /// The whole report as one HTML document.
    pub fn to_html(&self) -> String {
        let title = escape_xml(&self.title);
        let mut out = String::with_capacity(self.body.len() + 8192);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n",
            css()
        );
        self.write_toc(&mut out);
        out.push_str(&self.body);
        if self.section_open {
            out.push_str("</section>\n");
        }
        out.push_str("<footer>Generated by synod.</footer>\n</main>\n</body>\n</html>\n");
        out
    }

    fn close_section(&mut self) {
        if self.section_open {
            self.body.push_str("</section>\n");
            self.section_open = false;
        }
    }

    fn write_toc(&self, out: &mut String) {
        if self.toc.is_empty() {
            return;
        }
        out.push_str("<nav class=\"toc\"><strong>Contents</strong>\n<ol>\n");
        for (anchor, heading) in &self.toc {
            let _ = writeln!(
                out,
                "<li><a href=\"#{anchor}\">{}</a></li>",
                escape_xml(heading)
            );
        }
        out.push_str("</ol></nav>\n");
    }
}

/// The CSS class of a verdict's badge.
fn verdict_class(verdict: &str) -> &'static str {
    let v = verdict.trim().to_ascii_uppercase();
    if v == "HOLDS" {
        "holds"
    } else if v.starts_with("VIOLATED") {
        "expected"
    } else if v.starts_with("UNEXPECTED") {
        "unexpected"
    } else {
        "other"
    }
}

/// A lowercase anchor fragment made of ASCII letters, digits and dashes.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "section".to_string()
    } else {
        trimmed.chars().take(48).collect()
    }
}

/// True if column `c` has at least one number and nothing else (blank and `-` cells allowed).
fn numeric_column(rows: &[Vec<String>], c: usize) -> bool {
    let cells: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.get(c))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && *s != "-" && *s != "—")
        .collect();
    !cells.is_empty() && cells.iter().all(|s| looks_numeric(s))
}

/// True for `42`, `-3.5`, `1,024`, `12.5ms`, `99%`, `1e-3`: a number with at most a short unit.
fn looks_numeric(cell: &str) -> bool {
    let t = cell.trim();
    let number = t.trim_end_matches(|c: char| c.is_alphabetic() || c == '%' || c == 'µ');
    if number.is_empty() || t.len() - number.len() > 3 {
        return false;
    }
    number.replace(',', "").trim().parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Results: p99 & more!"), "results-p99-more");
        assert_eq!(slug("???"), "section");
    }

    #[test]
    fn numeric_cells() {
        for s in ["42", "-3.5", "1,024", "12.5ms", "99%", "1e-3", "3s"] {
            assert!(looks_numeric(s), "{s}");
        }
        for s in ["n0", "yes", "", "12 nodes", "ms", "inf-ish"] {
            assert!(!looks_numeric(s), "{s}");
        }
    }

    #[test]
    fn verdict_classes() {
        assert_eq!(verdict_class("HOLDS"), "holds");
        assert_eq!(verdict_class("VIOLATED as expected"), "expected");
        assert_eq!(verdict_class("UNEXPECTED"), "unexpected");
        assert_eq!(verdict_class("maybe"), "other");
    }
}
