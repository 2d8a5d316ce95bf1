//! Experiments: each reproduces a classic result and judges a claim.
//!
//! Every experiment prints the model it assumed, a result table, a `claim:` line with a verdict
//! and a `read:` line naming where the books cover it. It is deterministic for its seed and
//! fails (exits non-zero in the CLI) only when the result contradicts theory.

use crate::{LabError, Topic};
use serde_json::{json, Map, Value};
use synod_core::ModelHeader;

/// How an experiment's claim came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimVerdict {
    /// Theory predicted it holds, and it held.
    Holds,
    /// Theory predicted a violation (an impossibility, a canary), and it was found.
    ViolatedAsExpected,
    /// The result contradicts theory: a bug in synod or in the theory's preconditions.
    Unexpected,
}

impl ClaimVerdict {
    /// `HOLDS`, `VIOLATED as expected` or `UNEXPECTED`.
    pub fn label(self) -> &'static str {
        match self {
            ClaimVerdict::Holds => "HOLDS",
            ClaimVerdict::ViolatedAsExpected => "VIOLATED as expected",
            ClaimVerdict::Unexpected => "UNEXPECTED",
        }
    }
}

/// The claim an experiment judges.
#[derive(Clone, Debug)]
pub struct Claim {
    /// The claim in one sentence.
    pub text: String,
    /// The verdict.
    pub verdict: ClaimVerdict,
}

/// A column of the result table.
#[derive(Clone, Debug)]
pub struct Column {
    /// The JSON/CSV key, snake_case.
    pub key: String,
    /// The table header.
    pub header: String,
}

/// A figure (SVG) an experiment produced.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Its caption.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// The outcome of one experiment.
#[derive(Clone, Debug)]
pub struct ExperimentReport {
    /// The experiment id.
    pub id: String,
    /// A one-line title.
    pub title: String,
    /// The model it assumed.
    pub model: ModelHeader,
    /// Table columns.
    pub columns: Vec<Column>,
    /// Table rows, one value per column.
    pub rows: Vec<Vec<Value>>,
    /// The claim and its verdict.
    pub claim: Claim,
    /// Where to read about it.
    pub read: String,
    /// Remarks printed under the table (how it was measured, what to notice).
    pub notes: Vec<String>,
    /// Figures.
    pub figures: Vec<Figure>,
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(f) = n.as_f64() {
                fmt_float(f)
            } else {
                n.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// Formats a measured float with four significant digits.
pub fn fmt_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    if !f.is_finite() {
        return f.to_string();
    }
    let mag = f.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 6) as usize;
    format!("{f:.decimals$}")
}

impl ExperimentReport {
    /// The table as aligned text.
    pub fn table_text(&self) -> String {
        let headers: Vec<String> = self.columns.iter().map(|c| c.header.clone()).collect();
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for r in &cells {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |vals: &[String]| {
            let v: Vec<String> = vals
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{:<w$}", s, w = widths[i]))
                .collect();
            v.join("  ").trim_end().to_string()
        };
        let mut out = line(&headers);
        out.push('\n');
        for r in &cells {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }

    /// The table's cells as display strings (for HTML tables).
    pub fn to_text_cells(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect()
    }

    /// The human-readable report: model, table, notes, claim, read.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "experiment {}: {}\nmodel: {}\n\n",
            self.id, self.title, self.model
        );
        out.push_str(&self.table_text());
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("note: {n}\n"));
            }
        }
        out.push_str(&format!(
            "\nclaim: {} — {}\n",
            self.claim.text,
            self.claim.verdict.label()
        ));
        out.push_str(&format!("read: {}\n", self.read));
        out
    }

    /// The `--json` document: `{id, title, model, rows, claim: {text, verdict}, read, notes}`.
    pub fn to_json(&self) -> Value {
        let model: Map<String, Value> = self
            .model
            .fields()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let m: Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| (c.key.clone(), v.clone()))
                    .collect();
                Value::Object(m)
            })
            .collect();
        json!({
            "id": self.id,
            "title": self.title,
            "model": model,
            "model_header": self.model.to_string(),
            "columns": self.columns.iter().map(|c| c.key.clone()).collect::<Vec<_>>(),
            "rows": rows,
            "claim": {"text": self.claim.text, "verdict": self.claim.verdict.label()},
            "read": self.read,
            "notes": self.notes,
        })
    }

    /// The table as CSV (keys as the header row).
    pub fn to_csv(&self) -> String {
        let esc = |s: String| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        };
        let mut out: String = self
            .columns
            .iter()
            .map(|c| esc(c.key.clone()))
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for r in &self.rows {
            let line: Vec<String> = r
                .iter()
                .map(|v| match v {
                    Value::Null => String::new(),
                    Value::String(s) => esc(s.clone()),
                    other => other.to_string(),
                })
                .collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        out
    }
}

/// Options every experiment accepts.
#[derive(Clone, Copy, Debug)]
pub struct ExpOptions {
    /// The seed all runs derive from.
    pub seed: u64,
    /// Runs (seeds) per configuration; `None` is the experiment's default.
    pub runs: Option<u32>,
    /// A reduced sweep (for the tour); the claim is still judged.
    pub quick: bool,
}

/// Where an experiment reports progress (a terminal progress bar, or nothing).
pub trait Progress {
    /// Sets the number of steps.
    fn set_total(&mut self, total: u64);
    /// Marks `k` steps done.
    fn advance(&mut self, k: u64);
}

/// Progress that goes nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn set_total(&mut self, _total: u64) {}
    fn advance(&mut self, _k: u64) {}
}

/// A runnable experiment.
#[derive(Clone, Copy)]
pub struct ExperimentEntry {
    /// Its id, e.g. `link-hierarchy`.
    pub id: &'static str,
    /// Its topic.
    pub topic: Topic,
    /// One line: the result it reproduces.
    pub summary: &'static str,
    /// Runs it.
    pub run: fn(&ExpOptions, &mut dyn Progress) -> Result<ExperimentReport, LabError>,
}

impl std::fmt::Debug for ExperimentEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExperimentEntry({})", self.id)
    }
}

/// Builds a column list from `(key, header)` pairs.
pub fn columns(spec: &[(&str, &str)]) -> Vec<Column> {
    spec.iter()
        .map(|(k, h)| Column {
            key: k.to_string(),
            header: h.to_string(),
        })
        .collect()
}
