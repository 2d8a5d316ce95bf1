//! An HTML page with an SVG timeline of a recorded history: one lane per process, one bar per
//! operation from invocation to completion, the operations of a violation in red and the
//! longest legal order numbered, so that a reader can see *why* a history is not linearizable.
//!
//! The page is size-capped: a history with more than [`MAX_OPS`] operations is shown in a
//! window of that many operations around the violation (or from the start), and the page says
//! so.

use crate::format::{Completion, Recorded};
use crate::models::{op_ref, Report};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The most operations one page draws.
pub const MAX_OPS: usize = 1500;

const LANE: f64 = 26.0;
const LEFT: f64 = 90.0;
const WIDTH: f64 = 1400.0;

/// The HTML page (self-contained: inline SVG and CSS, no script).
pub fn html(recorded: &Recorded, report: &Report) -> String {
    let culprits: Vec<usize> = report
        .anomalies
        .iter()
        .flat_map(|a| a.ops.iter().map(|o| o.index))
        .collect();
    let position: BTreeMap<usize, usize> = report
        .order
        .iter()
        .enumerate()
        .map(|(k, &i)| (i, k + 1))
        .collect();
    let shown = window(recorded, &culprits);
    let end = recorded
        .ops
        .iter()
        .map(|o| o.ret.unwrap_or(o.call) + 1)
        .max()
        .unwrap_or(1);
    let (t0, t1) = shown.iter().fold((u64::MAX, 0u64), |(lo, hi), &i| {
        let o = &recorded.ops[i];
        (lo.min(o.call), hi.max(o.ret.unwrap_or(end)))
    });
    let (t0, t1) = if t0 > t1 {
        (0, 1)
    } else {
        (t0, t1.max(t0 + 1))
    };
    let mut lanes: Vec<u64> = shown.iter().map(|&i| recorded.ops[i].process).collect();
    lanes.sort_unstable();
    lanes.dedup();
    let lane_of = |p: u64| lanes.binary_search(&p).unwrap_or(0);
    let x =
        |t: u64| LEFT + (t.saturating_sub(t0)) as f64 / (t1 - t0) as f64 * (WIDTH - LEFT - 10.0);
    let height = 40.0 + lanes.len() as f64 * LANE;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="monospace" font-size="11">"#
    );
    for (k, p) in lanes.iter().enumerate() {
        let y = 30.0 + k as f64 * LANE;
        let _ = writeln!(
            svg,
            r##"<text x="4" y="{:.1}">process {p}</text><line x1="{LEFT}" y1="{:.1}" x2="{WIDTH}" y2="{:.1}" stroke="#eee"/>"##,
            y + 14.0,
            y + 18.0,
            y + 18.0
        );
    }
    for &i in &shown {
        let o = &recorded.ops[i];
        let y = 30.0 + lane_of(o.process) as f64 * LANE;
        let (x0, x1) = (x(o.call), x(o.ret.unwrap_or(end)));
        let w = (x1 - x0).max(3.0);
        let (fill, dash) = if culprits.contains(&i) {
            ("#e53935", "")
        } else {
            match &o.completion {
                Completion::Ok(_) => ("#90caf9", ""),
                Completion::Fail(_) => ("#e0e0e0", r#" stroke-dasharray="3 2""#),
                Completion::Unknown(_) => ("#fff59d", r#" stroke-dasharray="3 2""#),
            }
        };
        let r = op_ref(recorded, i);
        let order = position
            .get(&i)
            .map(|k| format!(" | #{k} in the legal order"))
            .unwrap_or_default();
        let _ = writeln!(
            svg,
            r##"<g><title>line {} process {} {}{}</title><rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="18" fill="{fill}" stroke="#555"{dash}/>"##,
            r.line,
            r.process,
            escape(&r.text),
            order
        );
        if w > 40.0 {
            let label = format!(":{} {}", o.f, o.value);
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                x0 + 3.0,
                y + 13.0,
                escape(&truncate(&label, (w / 7.0) as usize))
            );
        }
        if let Some(k) = position.get(&i) {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" fill="#2e7d32" font-size="9">{k}</text>"##,
                x0 + 1.0,
                y - 1.0
            );
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");

    let verdict = match report.valid {
        Some(true) => format!("{}: yes", report.consistency.name()),
        Some(false) => format!("{}: NO", report.consistency.name()),
        None => format!("{}: unknown (budget ran out)", report.consistency.name()),
    };
    let mut page = String::new();
    let _ = writeln!(
        page,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>synod lin: {}</title>",
        escape(&verdict)
    );
    page.push_str(
        "<style>body{font-family:sans-serif;margin:1em}li{font-family:monospace}\
         .key span{display:inline-block;width:1em;height:1em;border:1px solid #555;margin:0 .3em}</style>\
         </head><body>\n",
    );
    let _ = writeln!(
        page,
        "<h1>{}</h1><p>model <b>{}</b>, {} operations ({} failed, {} with unknown outcome), {} part(s).</p>",
        escape(&verdict),
        report.model.name(),
        report.ops,
        report.failed_ops,
        report.unknown_ops,
        report.parts
    );
    for a in &report.anomalies {
        let _ = writeln!(page, "<p><b>{}</b></p><ul>", escape(&a.explanation));
        for (o, e) in a.ops.iter().zip(&a.expected) {
            let _ = writeln!(
                page,
                "<li>line {} process {}: {} (model: {})</li>",
                o.line,
                o.process,
                escape(&o.text),
                escape(e)
            );
        }
        page.push_str("</ul>\n");
    }
    if shown.len() < recorded.ops.len() {
        let _ = writeln!(
            page,
            "<p>Showing {} of {} operations (a window around the violation; the page is capped at {MAX_OPS}).</p>",
            shown.len(),
            recorded.ops.len()
        );
    }
    page.push_str(
        "<p class=\"key\"><span style=\"background:#e53935\"></span>could come next, none allowed\
         <span style=\"background:#90caf9\"></span>ok<span style=\"background:#e0e0e0\"></span>failed\
         <span style=\"background:#fff59d\"></span>unknown outcome (open to the end);\
         green numbers: position in the longest legal order. Hover a bar for its line.</p>\n",
    );
    page.push_str(&svg);
    page.push_str("</body></html>\n");
    page
}

/// The operations to draw: all, or [`MAX_OPS`] of them around the first culprit.
fn window(recorded: &Recorded, culprits: &[usize]) -> Vec<usize> {
    let n = recorded.ops.len();
    if n <= MAX_OPS {
        return (0..n).collect();
    }
    let centre = culprits.iter().copied().min().unwrap_or(0);
    let start = centre.saturating_sub(MAX_OPS / 2).min(n - MAX_OPS);
    let mut shown: Vec<usize> = (start..start + MAX_OPS).collect();
    for &c in culprits {
        if !shown.contains(&c) {
            shown.push(c);
        }
    }
    shown
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
