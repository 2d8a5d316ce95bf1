//! Properties: an abstraction's guarantees as code, judged over a [`Trace`].
//!
//! A *safety* property says something bad never happens; its verdict names the first event that
//! broke it. A *liveness* property says something good eventually happens; over a finite run it
//! is judged at the end of the run, after the scheduled faults stopped, and is
//! [`Verdict::Inconclusive`] when the run gave it no fair chance.

use crate::{Protocol, Trace};
use std::fmt;
use std::sync::Arc;

/// Safety or liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropertyKind {
    /// Nothing bad ever happens (violated by a finite prefix).
    Safety,
    /// Something good eventually happens (judged at the end of a finite run).
    Liveness,
}

impl PropertyKind {
    /// `safety` or `liveness`.
    pub fn name(self) -> &'static str {
        match self {
            PropertyKind::Safety => "safety",
            PropertyKind::Liveness => "liveness",
        }
    }
}

/// The outcome of checking one property on one trace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The property held.
    Holds,
    /// The property was broken.
    Violated {
        /// Index of the first violating event in the trace, where there is one.
        event: Option<usize>,
        /// What went wrong, in one line.
        detail: String,
    },
    /// The trace cannot decide (e.g. faults lasted until the end of the run).
    Inconclusive {
        /// Why.
        detail: String,
    },
}

impl Verdict {
    /// `holds`, `violated` or `inconclusive` (the names used in `--json`).
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated { .. } => "violated",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }

    /// True if the property was broken.
    pub fn is_violated(&self) -> bool {
        matches!(self, Verdict::Violated { .. })
    }

    /// A violation at event `event`.
    pub fn violated_at(event: usize, detail: impl Into<String>) -> Verdict {
        Verdict::Violated {
            event: Some(event),
            detail: detail.into(),
        }
    }

    /// A violation not tied to one event (e.g. a liveness failure at the end of the run).
    pub fn violated(detail: impl Into<String>) -> Verdict {
        Verdict::Violated {
            event: None,
            detail: detail.into(),
        }
    }

    /// The one-line explanation, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Verdict::Holds => None,
            Verdict::Violated { detail, .. } | Verdict::Inconclusive { detail } => Some(detail),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            None => write!(f, "{}", self.name()),
            Some(d) => write!(f, "{}: {}", self.name(), d),
        }
    }
}

type CheckFn<P> = dyn Fn(&Trace<P>) -> Verdict + Send + Sync;

/// A named property of protocol `P`, checked over traces.
pub struct Property<P: Protocol> {
    /// A short kebab-case name, e.g. `no-duplication`.
    pub name: &'static str,
    /// Safety or liveness.
    pub kind: PropertyKind,
    check: Arc<CheckFn<P>>,
}

impl<P: Protocol> Clone for Property<P> {
    fn clone(&self) -> Self {
        Property {
            name: self.name,
            kind: self.kind,
            check: Arc::clone(&self.check),
        }
    }
}

impl<P: Protocol> fmt::Debug for Property<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Property({}, {})", self.name, self.kind.name())
    }
}

impl<P: Protocol> Property<P> {
    /// A safety property: `check` must return the first violating event.
    pub fn safety(
        name: &'static str,
        check: impl Fn(&Trace<P>) -> Verdict + Send + Sync + 'static,
    ) -> Self {
        Property {
            name,
            kind: PropertyKind::Safety,
            check: Arc::new(check),
        }
    }

    /// A liveness property, judged at the end of the run.
    pub fn liveness(
        name: &'static str,
        check: impl Fn(&Trace<P>) -> Verdict + Send + Sync + 'static,
    ) -> Self {
        Property {
            name,
            kind: PropertyKind::Liveness,
            check: Arc::new(check),
        }
    }

    /// Judges the property on `trace`.
    pub fn check(&self, trace: &Trace<P>) -> Verdict {
        (self.check)(trace)
    }
}

/// One property's verdict on one run, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyReport {
    /// The property's name.
    pub name: &'static str,
    /// Safety or liveness.
    pub kind: PropertyKind,
    /// The verdict.
    pub verdict: Verdict,
}

/// Checks every property in `props` on `trace`.
pub fn check_all<P: Protocol>(props: &[Property<P>], trace: &Trace<P>) -> Vec<PropertyReport> {
    props
        .iter()
        .map(|p| PropertyReport {
            name: p.name,
            kind: p.kind,
            verdict: p.check(trace),
        })
        .collect()
}
