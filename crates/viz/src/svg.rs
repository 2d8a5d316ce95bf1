//! Small helpers shared by the SVG writers: escaping, number formatting, text measurement and a
//! label placer that refuses overlapping labels.

use std::fmt::Write as _;

/// Escapes `s` for use in XML text and attribute values. Characters XML 1.0 forbids (most C0
/// controls) become U+FFFD so the output always parses.
pub(crate) fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most one decimal, without a trailing `.0`.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// `s` cut to at most `max` characters, ending in `…` when cut (`max == 0` keeps everything).
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if max == 0 || s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let mut out: String = s.chars().take(keep).collect();
    out.push('…');
    out
}

/// The width of `text` in a monospace font of `font_px` pixels (0.6 em per character).
pub(crate) fn mono_width(text: &str, font_px: f64) -> f64 {
    text.chars().count() as f64 * font_px * 0.6
}

/// The approximate width of `text` in a proportional sans-serif font of `font_px` pixels.
pub(crate) fn sans_width(text: &str, font_px: f64) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.3,
            'm' | 'w' | 'M' | 'W' | '@' => 0.85,
            c if c.is_ascii_uppercase() => 0.66,
            c if c.is_ascii_digit() => 0.56,
            _ => 0.54,
        })
        .sum::<f64>()
        * font_px
}

/// Breaks `text` into lines no wider than `max_w` (measured by `measure`), at spaces where it
/// can; keeps at most `max_lines`, ending the last in `…` if text was left over.
pub(crate) fn wrap(
    text: &str,
    max_w: f64,
    max_lines: usize,
    measure: impl Fn(&str) -> f64,
) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if measure(&candidate) <= max_w || current.is_empty() {
            current = candidate;
        } else {
            lines.push(std::mem::take(&mut current));
            current = word.to_string();
        }
        // A single word wider than a line is cut by characters.
        while measure(&current) > max_w && current.chars().count() > 1 {
            let mut head = String::new();
            for c in current.chars() {
                head.push(c);
                if measure(&head) > max_w {
                    head.pop();
                    break;
                }
            }
            let head = if head.is_empty() {
                current.chars().take(1).collect()
            } else {
                head
            };
            current = current[head.len()..].to_string();
            lines.push(head);
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && measure(&format!("{last}…")) > max_w {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

/// Writes the opening `<svg>` element, its `<title>` and an embedded stylesheet.
pub(crate) fn open_svg(out: &mut String, width: f64, height: f64, title: &str, css: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"system-ui, -apple-system, 'Segoe UI', \
         Roboto, 'Helvetica Neue', Arial, sans-serif\">\n<title>{t}</title>\n<style>{css}</style>\n\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n",
        w = num(width),
        h = num(height),
        t = escape_xml(title),
    );
}

/// An axis-aligned rectangle in SVG user units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    /// Left.
    pub x0: f64,
    /// Top.
    pub y0: f64,
    /// Right.
    pub x1: f64,
    /// Bottom.
    pub y1: f64,
}

impl Rect {
    /// The rectangle of a text run whose baseline starts at `(x, baseline)`.
    pub fn text(x: f64, baseline: f64, width: f64, font_px: f64) -> Rect {
        Rect {
            x0: x - 1.0,
            y0: baseline - font_px * 0.85,
            x1: x + width + 1.0,
            y1: baseline + font_px * 0.25,
        }
    }

    /// A square of half-side `r` around `(x, y)`.
    pub fn around(x: f64, y: f64, r: f64) -> Rect {
        Rect {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        }
    }

    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// Remembers the rectangles already taken and accepts a new one only if it overlaps none of
/// them and stays inside the bounds. Rectangles are bucketed by x so dense diagrams stay fast.
pub(crate) struct Placer {
    bounds: Rect,
    bucket_w: f64,
    buckets: Vec<Vec<Rect>>,
}

impl Placer {
    /// A placer for the area `bounds`.
    pub fn new(bounds: Rect) -> Placer {
        let bucket_w = 120.0;
        let n = ((bounds.x1 - bounds.x0).max(1.0) / bucket_w).ceil() as usize + 1;
        Placer {
            bounds,
            bucket_w,
            buckets: vec![Vec::new(); n],
        }
    }

    fn bucket_range(&self, r: &Rect) -> std::ops::RangeInclusive<usize> {
        let last = self.buckets.len() - 1;
        let idx =
            |x: f64| (((x - self.bounds.x0) / self.bucket_w).floor().max(0.0) as usize).min(last);
        idx(r.x0)..=idx(r.x1)
    }

    /// True if `r` lies inside the bounds and overlaps nothing taken.
    pub fn fits(&self, r: &Rect) -> bool {
        let b = &self.bounds;
        if r.x0 < b.x0 || r.y0 < b.y0 || r.x1 > b.x1 || r.y1 > b.y1 {
            return false;
        }
        self.bucket_range(r)
            .all(|i| self.buckets[i].iter().all(|o| !o.overlaps(r)))
    }

    /// Marks `r` as taken, whether or not it fits.
    pub fn reserve(&mut self, r: Rect) {
        for i in self.bucket_range(&r) {
            self.buckets[i].push(r);
        }
    }

    /// Takes `r` if it fits; returns whether it did.
    pub fn try_take(&mut self, r: Rect) -> bool {
        if self.fits(&r) {
            self.reserve(r);
            true
        } else {
            false
        }
    }
}

/// Ten colors that stay distinct on white and from each other.
pub(crate) const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape_xml("a<b & 'c' \"d\">"),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;"
        );
        assert_eq!(escape_xml("x\u{1}y"), "x\u{FFFD}y");
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(3.04), "3");
        assert_eq!(num(-2.26), "-2.3");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate_chars("héllo world", 5), "héll…");
        assert_eq!(truncate_chars("short", 28), "short");
        assert_eq!(truncate_chars("anything", 0), "anything");
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        let w = |s: &str| s.chars().count() as f64;
        assert_eq!(wrap("aa bb cc", 5.0, 5, w), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefghij", 4.0, 5, w), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("aa bb cc dd", 5.0, 1, w), vec!["aa b…"]);
        assert_eq!(wrap("", 5.0, 2, w), vec![""]);
    }

    #[test]
    fn placer_refuses_overlaps_and_out_of_bounds() {
        let mut p = Placer::new(Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 1000.0,
            y1: 100.0,
        });
        assert!(p.try_take(Rect {
            x0: 100.0,
            y0: 10.0,
            x1: 300.0,
            y1: 20.0
        }));
        assert!(!p.try_take(Rect {
            x0: 290.0,
            y0: 15.0,
            x1: 400.0,
            y1: 25.0
        }));
        assert!(p.try_take(Rect {
            x0: 290.0,
            y0: 21.0,
            x1: 400.0,
            y1: 30.0
        }));
        assert!(!p.try_take(Rect {
            x0: 950.0,
            y0: 50.0,
            x1: 1010.0,
            y1: 60.0
        }));
    }
}
