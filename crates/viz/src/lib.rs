//! # synod-viz: synod's pictures
//!
//! Everything here turns data into self-contained text a browser can show without any other
//! file, font or script:
//!
//! - [`lamport`] draws a run's [`Trace`](synod_core::Trace) as a space-time (Lamport) diagram:
//!   one line per node, time flowing to the right, an arrow per message, crashes, recoveries,
//!   drops, duplicates, partitions, requests and indications, each with a hover tooltip.
//! - [`plot`] draws line and scatter plots (linear or logarithmic axes) for experiments.
//! - [`report`] assembles headings, text, tables, claims with verdict badges and the SVGs above
//!   into one standalone HTML file.
//!
//! ```
//! use synod_viz::{Plot, Report, Series};
//!
//! let plot = Plot::new("Latency", "load", "p99 (ms)")
//!     .series(Series::line("paxos", vec![(1.0, 2.0), (2.0, 3.5), (4.0, 9.0)]));
//! let mut report = Report::new("Experiment");
//! report
//!     .section("Result")
//!     .claim("p99 grows with load", "HOLDS")
//!     .svg(&plot.to_svg());
//! let html = report.to_html();
//! assert!(html.contains("<svg"));
//! ```
//!
//! All output is deterministic: the same input gives byte-identical SVG and HTML.

#![warn(missing_docs)]

pub mod lamport;
pub mod plot;
pub mod report;
mod svg;

pub use lamport::{escape_xml, lamport_svg, DiagramOptions};
pub use plot::{Plot, Series, SeriesStyle};
pub use report::Report;
