//! `synod tour`: every experiment and a few showcase simulations, in one HTML report.

use crate::catalog::find_protocol;
use crate::experiment::{ClaimVerdict, ExpOptions, Progress};
use crate::experiments::experiments;
use crate::runner::{DiagramWindow, SimSpec};
use crate::LabError;
use std::path::{Path, PathBuf};
use synod_core::{Duration, Instant, Ratio};
use synod_viz::report::Report;

/// One showcase simulation of the tour.
struct Showcase {
    protocol: &'static str,
    why: &'static str,
    spec: fn(u64) -> SimSpec,
}

fn secs(s: u64) -> Instant {
    Instant(Duration::from_secs(s).as_nanos())
}

fn showcases() -> Vec<Showcase> {
    vec![
        Showcase {
            protocol: "perfect-link",
            why: "A perfect link over a network that loses 30% of messages: every lost data message or acknowledgement is retransmitted until acknowledged, and duplicates are filtered. Red crosses are losses.",
            spec: |seed| {
                let mut s = SimSpec::new(4, seed);
                s.until = secs(4);
                s.messages = 6;
                s.network.loss = Ratio::from_ppm(300_000);
                s.diagram = Some(DiagramWindow { from: None, to: Some(secs(1)), causal: None });
                s
            },
        },
        Showcase {
            protocol: "fifo-stubborn-stack",
            why: "The book's three-level stack (FIFO over eliminate-duplicates over stubborn over fair-loss) under duplication, reordering and a partition of n2 that heals: deliveries stay in send order.",
            spec: |seed| {
                let mut s = SimSpec::new(3, seed);
                s.until = secs(4);
                s.messages = 5;
                s.network.duplicate = Ratio::from_ppm(100_000);
                s.network.latency = synod_sim::Latency::Exponential { mean: Duration::from_millis(10) };
                s.faults
                    .add_partition_spec("n0,n1|n2@200ms..900ms")
                    .expect("valid partition spec");
                s.diagram = Some(DiagramWindow { from: None, to: Some(secs(1)), causal: None });
                s
            },
        },
        Showcase {
            protocol: "perfect-link-no-dedup",
            why: "A canary: the same perfect link without duplicate elimination. The no-duplication check must catch it; a checker that passes a canary proves nothing.",
            spec: |seed| {
                let mut s = SimSpec::new(3, seed);
                s.until = secs(4);
                s.messages = 10;
                s.network.loss = Ratio::from_ppm(300_000);
                s.network.duplicate = Ratio::from_ppm(100_000);
                s
            },
        },
        Showcase {
            protocol: "perfect-link",
            why: "Crash-stop: n2 crashes at 1s. The link's guarantees are promised only between correct processes, so every property still holds for n0 and n1.",
            spec: |seed| {
                let mut s = SimSpec::new(3, seed);
                s.until = secs(4);
                s.messages = 8;
                s.network.loss = Ratio::from_ppm(200_000);
                s.faults.add_crash_spec("n2@1s").expect("valid crash spec");
                s.diagram = Some(DiagramWindow { from: Some(Instant(Duration::from_millis(800).as_nanos())), to: Some(secs(2)), causal: None });
                s
            },
        },
        Showcase {
            protocol: "eventually-perfect-fd",
            why: "An eventually perfect detector under partial synchrony (GST at 2s): before GST it wrongly suspects correct nodes, restores them when their heartbeats arrive, and raises its timeout each time; after GST its mistakes stop. n3 crashes at 3s and is suspected by everyone for good.",
            spec: |seed| {
                let mut s = SimSpec::new(4, seed);
                s.until = secs(5);
                s.faults.add_crash_spec("n3@3s").expect("valid crash spec");
                s.diagram = Some(DiagramWindow { from: Some(Instant::from_millis(2800)), to: Some(Instant::from_millis(3400)), causal: None });
                s
            },
        },
        Showcase {
            protocol: "fixed-timeout-fd",
            why: "A canary for the same model: a fixed timeout shorter than period + delta never stops suspecting correct nodes, so eventual strong accuracy fails: this detector is not <>P.",
            spec: |seed| {
                let mut s = SimSpec::new(4, seed);
                s.until = secs(5);
                s
            },
        },
        Showcase {
            protocol: "lcr",
            why: "LCR on a one-way ring of 8 with random UIDs: each UID travels until it meets a larger one; the largest comes home and its owner announces itself around the ring.",
            spec: |seed| {
                let mut s = SimSpec::new(8, seed);
                s.until = secs(1);
                s.diagram = Some(DiagramWindow { from: None, to: Some(Instant::from_millis(150)), causal: None });
                s
            },
        },
    ]
}

/// What the tour did.
#[derive(Clone, Debug)]
pub struct TourSummary {
    /// The report file.
    pub report: PathBuf,
    /// Each experiment's id and verdict.
    pub experiments: Vec<(String, ClaimVerdict)>,
    /// Each showcase: protocol, and whether its checks came out as expected (properties hold,
    /// or a canary was caught).
    pub showcases: Vec<(String, bool)>,
}

impl TourSummary {
    /// True when every claim matched theory and every showcase came out as expected.
    pub fn ok(&self) -> bool {
        self.experiments
            .iter()
            .all(|(_, v)| *v != ClaimVerdict::Unexpected)
            && self.showcases.iter().all(|(_, ok)| *ok)
    }
}

/// Runs the tour with `seed`, writing `index.html` into `out_dir`. `on_step` is told what runs.
pub fn run_tour(
    seed: u64,
    out_dir: &Path,
    on_step: &mut dyn FnMut(&str),
    progress: &mut dyn Progress,
) -> Result<TourSummary, LabError> {
    std::fs::create_dir_all(out_dir)
        .map_err(|e| LabError::new(format!("cannot create {}: {e}", out_dir.display())))?;
    let mut report = Report::new("synod tour: distributed-systems theory, executed");
    report.section("How to read this report");
    report.paragraph(&format!(
        "Every run below states the model it assumed (timing, failures, links, n, seed) before its results, because a result means nothing without its model. Everything was produced from seed {seed}; rerun `synod tour --seed {seed}` for the same report, or the command shown under each item for one piece."
    ));

    let mut summary = TourSummary {
        report: out_dir.join("index.html"),
        experiments: Vec::new(),
        showcases: Vec::new(),
    };

    report.section("Experiments");
    for e in experiments() {
        on_step(&format!("experiment {}", e.id));
        let opts = ExpOptions {
            seed,
            runs: None,
            quick: true,
        };
        let r = (e.run)(&opts, progress)?;
        report.subheading(&format!("{} ({})", e.id, e.topic.title()));
        report.paragraph(e.summary);
        report.preformatted(&format!(
            "$ synod experiment {} --quick --seed {seed}\nmodel: {}",
            e.id, r.model
        ));
        let headers: Vec<String> = r.columns.iter().map(|c| c.header.clone()).collect();
        let rows: Vec<Vec<String>> = r.to_text_cells();
        report.table(&headers, &rows);
        for n in &r.notes {
            report.paragraph(n);
        }
        for f in &r.figures {
            report.paragraph(&f.caption);
            report.svg(&f.svg);
        }
        report.claim(&r.claim.text, r.claim.verdict.label());
        report.paragraph(&format!("Read: {}", r.read));
        summary
            .experiments
            .push((e.id.to_string(), r.claim.verdict));
    }

    report.section("Simulations");
    for s in showcases() {
        on_step(&format!("sim {}", s.protocol));
        let entry = find_protocol(s.protocol)?;
        let spec = (s.spec)(seed);
        let r = (entry.run)(&spec)?;
        let ok = if entry.canary {
            !r.all_hold()
        } else {
            r.all_hold()
        };
        report.subheading(&format!(
            "{}{}",
            s.protocol,
            if entry.canary { " (canary)" } else { "" }
        ));
        report.paragraph(s.why);
        report.preformatted(&format!("model: {}\n{}", r.model, r.to_text()));
        if let Some(svg) = &r.svg {
            report.svg(svg);
        }
        let verdict = match (entry.canary, ok) {
            (true, true) => "VIOLATED as expected",
            (false, true) => "HOLDS",
            _ => "UNEXPECTED",
        };
        report.claim(
            if entry.canary {
                "the property checks catch the canary"
            } else {
                "every property of the abstraction holds between correct processes"
            },
            verdict,
        );
        summary.showcases.push((s.protocol.to_string(), ok));
    }
    report.section("The map: topics, commands and books");
    for page in crate::learn::pages() {
        report.subheading(&format!("{}: {}", page.topic.title(), page.question));
        for p in page.explanation {
            report.paragraph(p);
        }
        let tries: Vec<Vec<String>> = page
            .try_it
            .iter()
            .map(|t| vec![t.command.to_string(), t.shows.to_string()])
            .collect();
        report.table(&["try".to_string(), "what it shows".to_string()], &tries);
        let reads: Vec<Vec<String>> = page
            .reading
            .iter()
            .map(|r| vec![r.need.to_string(), r.read.to_string(), r.why.to_string()])
            .collect();
        report.table(
            &[
                "if you want".to_string(),
                "read".to_string(),
                "because".to_string(),
            ],
            &reads,
        );
    }
    std::fs::write(&summary.report, report.to_html())
        .map_err(|e| LabError::new(format!("cannot write {}: {e}", summary.report.display())))?;
    Ok(summary)
}
