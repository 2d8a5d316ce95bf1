//! Running one catalog protocol in the simulator: the engine behind `synod sim`.

use crate::LabError;
use serde_json::{json, Value};
use synod_consistency::format::{
    event_positions, Completion, Recorded, RecordedOp, Value as HValue,
};
use synod_core::{
    check_all, ClientOps, History, Instant, ModelHeader, Property, PropertyReport, Protocol, Trace,
};
use synod_sim::{
    FaultSchedule, NetworkConfig, Recording, SimConfig, Simulation, Stats, Timing, Workload,
};

/// What the user asked `synod sim` for, already parsed and validated field by field.
#[derive(Clone, Debug)]
pub struct SimSpec {
    /// Number of nodes.
    pub nodes: usize,
    /// The run's seed.
    pub seed: u64,
    /// End of the run.
    pub until: Instant,
    /// Timing model (`None`: the protocol's default).
    pub timing: Option<Timing>,
    /// Network.
    pub network: NetworkConfig,
    /// Faults.
    pub faults: FaultSchedule,
    /// Chaos: when `Some(t)`, [`crate::chaos::chaos`] draws more faults from each run's seed,
    /// all over by `t`, on top of `faults`.
    pub chaos: Option<Instant>,
    /// Workload size: messages (or operations) per node.
    pub messages: u32,
    /// Render a space-time diagram of this window (`Some` renders).
    pub diagram: Option<DiagramWindow>,
}

/// Which part of a run to draw.
#[derive(Clone, Debug, Default)]
pub struct DiagramWindow {
    /// Start of the window.
    pub from: Option<Instant>,
    /// End of the window.
    pub to: Option<Instant>,
    /// Colour the causal past, future and concurrent events of this event (an index into the
    /// trace's events).
    pub causal: Option<usize>,
}

impl SimSpec {
    /// Defaults: 3 nodes, 10 s, the default network, no faults, 20 messages per node.
    pub fn new(nodes: usize, seed: u64) -> SimSpec {
        let base = SimConfig::new(nodes, seed);
        SimSpec {
            nodes,
            seed,
            until: base.until,
            timing: None,
            network: base.network,
            faults: FaultSchedule::default(),
            chaos: None,
            messages: 20,
            diagram: None,
        }
    }

    /// The simulator configuration, with `default_timing` where the user chose none.
    pub fn config(&self, default_timing: Timing) -> SimConfig {
        let mut cfg = SimConfig::new(self.nodes, self.seed);
        cfg.until = self.until;
        cfg.timing = self.timing.unwrap_or(default_timing);
        cfg.network = self.network;
        cfg.faults = self.run_faults();
        cfg.recording = Recording::Full;
        cfg
    }

    /// This run's faults: `faults`, plus the chaos drawn from the seed if asked for.
    pub fn run_faults(&self) -> FaultSchedule {
        let mut faults = self.faults.clone();
        if let Some(until) = self.chaos {
            let c = crate::chaos::chaos(self.nodes, self.seed, until);
            faults.crashes.extend(c.crashes);
            faults.recoveries.extend(c.recoveries);
            faults.partitions.extend(c.partitions);
            faults.omissions.extend(c.omissions);
            faults.clocks.extend(c.clocks);
        }
        faults
    }

    /// When this run's scheduled faults end (see [`FaultSchedule::end`]).
    pub fn faults_end(&self) -> Instant {
        self.run_faults().end()
    }

    /// The model header of a run with `default_timing` where the user chose none; it says
    /// `faults=chaos(seed=S,until=T)` when the faults come from chaos.
    pub fn model_header(&self, default_timing: Timing) -> ModelHeader {
        self.annotate(self.config(default_timing).model_header())
    }

    /// Adds what the simulator's header cannot know (the chaos) to `header`.
    fn annotate(&self, mut header: ModelHeader) -> ModelHeader {
        if let Some(until) = self.chaos {
            header.set("faults", crate::chaos::header_value(Some(self.seed), until));
        }
        header
    }
}

/// The result of `synod sim`, independent of the protocol's types.
#[derive(Clone, Debug)]
pub struct SimReport {
    /// The protocol's catalog name.
    pub protocol: String,
    /// The seed.
    pub seed: u64,
    /// The model the run assumed.
    pub model: ModelHeader,
    /// Hash of the whole trace.
    pub trace_hash: u64,
    /// Counters.
    pub stats: Stats,
    /// Every property's verdict.
    pub properties: Vec<PropertyReport>,
    /// The diagram, if one was asked for.
    pub svg: Option<String>,
    /// The clients' history, for protocols that serve clients (see [`run_client_protocol`]):
    /// what `synod sim --history FILE` saves for `synod lin`.
    pub history: Option<Recorded>,
}

impl SimReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        let model: serde_json::Map<String, Value> = self
            .model
            .fields()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "protocol": self.protocol,
            "seed": self.seed,
            "model": model,
            "model_header": self.model.to_string(),
            "trace_hash": format!("{:016x}", self.trace_hash),
            "events": self.stats.events,
            "messages_sent": self.stats.messages_sent,
            "messages_delivered": self.stats.messages_delivered,
            "messages_dropped": self.stats.messages_dropped,
            "messages_duplicated": self.stats.messages_duplicated,
            "timers_fired": self.stats.timers_fired,
            "requests": self.stats.requests,
            "indications": self.stats.indications,
            "crashes": self.stats.crashes,
            "recoveries": self.stats.recoveries,
            "properties": self.properties.iter().map(|p| json!({
                "name": p.name,
                "kind": p.kind.name(),
                "verdict": p.verdict.name(),
                "detail": p.verdict.detail(),
            })).collect::<Vec<_>>(),
        })
    }

    /// True if no property was violated.
    pub fn all_hold(&self) -> bool {
        self.properties.iter().all(|p| !p.verdict.is_violated())
    }

    /// The human-readable report (without the model header, which is printed first).
    pub fn to_text(&self) -> String {
        let s = &self.stats;
        let mut out = format!(
            "events {}  sent {}  delivered {}  dropped {}  duplicated {}  timers {}  crashes {}  recoveries {}\n",
            s.events,
            s.messages_sent,
            s.messages_delivered,
            s.messages_dropped,
            s.messages_duplicated,
            s.timers_fired,
            s.crashes,
            s.recoveries
        );
        out.push_str("properties:\n");
        for p in &self.properties {
            out.push_str(&format!(
                "  {:<12} {:<8} {:<22} {}\n",
                p.verdict.name(),
                p.kind.name(),
                p.name,
                p.verdict.detail().unwrap_or("")
            ));
        }
        out.push_str(&format!("trace_hash {:016x}\n", self.trace_hash));
        out
    }
}

/// Runs `protocol` under `spec` with `workload`, checks `properties` and renders the diagram
/// if asked.
pub fn run_protocol<P: Protocol>(
    name: &str,
    protocol: P,
    properties: &[Property<P>],
    workload: impl Workload<P> + 'static,
    spec: &SimSpec,
    default_timing: Timing,
) -> Result<SimReport, LabError> {
    run(
        name,
        protocol,
        properties,
        workload,
        spec,
        default_timing,
        None,
    )
}

/// [`run_protocol`] for a protocol that serves clients: the report also carries the clients'
/// history as a [`Recorded`] one, each operation described by `describe` (function name,
/// argument, and result if it completed), for `synod lin`.
#[allow(clippy::too_many_arguments)]
pub fn run_client_protocol<P: ClientOps>(
    name: &str,
    protocol: P,
    properties: &[Property<P>],
    workload: impl Workload<P> + 'static,
    spec: &SimSpec,
    default_timing: Timing,
    describe: Describe<P>,
) -> Result<SimReport, LabError> {
    let record = move |trace: &Trace<P>| recorded_history(trace, describe);
    run(
        name,
        protocol,
        properties,
        workload,
        spec,
        default_timing,
        Some(&record),
    )
}

/// How a client operation reads in a recorded history: `(function, argument, result)`, the
/// result `None` if the operation did not complete.
pub type Describe<P> = DescribeOp<<P as ClientOps>::Input, <P as ClientOps>::Output>;

/// How an operation with input `I` and output `O` reads in a recorded history (see
/// [`Describe`]).
pub type DescribeOp<I, O> = fn(&I, Option<&O>) -> (&'static str, HValue, Option<HValue>);

/// The clients' history of `trace` as a recorded history: invocations and completions in time
/// order (at equal times invocations first, so that such operations count as concurrent),
/// virtual nanoseconds kept as wall times.
pub fn recorded_history<P: ClientOps>(trace: &Trace<P>, describe: Describe<P>) -> Recorded {
    recorded_from_history(&History::<P::Input, P::Output>::from_trace(trace), describe)
}

/// A client history as a recorded history (see [`recorded_history`]), whatever produced it: a
/// message-passing trace or a shared-memory run.
pub fn recorded_from_history<I, O>(
    history: &History<I, O>,
    describe: DescribeOp<I, O>,
) -> Recorded {
    let times: Vec<(u64, Option<u64>)> = history
        .ops
        .iter()
        .map(|o| {
            (
                o.invoke.as_nanos(),
                o.completion.as_ref().map(|(t, _)| t.as_nanos()),
            )
        })
        .collect();
    let (call, ret, order) = event_positions(&times);
    let ops = order
        .into_iter()
        .map(|i| {
            let o = &history.ops[i];
            let (f, value, result) = describe(&o.input, o.completion.as_ref().map(|(_, r)| r));
            RecordedOp {
                process: o.client,
                f: f.to_string(),
                key: None,
                value,
                completion: match result {
                    Some(v) => Completion::Ok(v),
                    None => Completion::Unknown(HValue::Nil),
                },
                call: call[i],
                ret: ret[i],
                call_nanos: Some(o.invoke.as_nanos()),
                ret_nanos: o.completion.as_ref().map(|(t, _)| t.as_nanos()),
                line: call[i] as usize + 1,
            }
        })
        .collect();
    Recorded {
        ops,
        skipped_events: 0,
    }
}

/// Turns a run's trace into the clients' recorded history.
type RecordHistory<P> = dyn Fn(&Trace<P>) -> Recorded;

fn run<P: Protocol>(
    name: &str,
    protocol: P,
    properties: &[Property<P>],
    workload: impl Workload<P> + 'static,
    spec: &SimSpec,
    default_timing: Timing,
    record: Option<&RecordHistory<P>>,
) -> Result<SimReport, LabError> {
    let cfg = spec.config(default_timing);
    let sim = Simulation::new(protocol, cfg)?.with_workload(workload);
    let out = sim.run();
    let props = check_all(properties, &out.trace);
    let svg = spec.diagram.as_ref().map(|w| {
        let opts = synod_viz::lamport::DiagramOptions {
            title: format!("{name}: {}", out.model),
            from: w.from,
            to: w.to,
            causal: w.causal,
            ..Default::default()
        };
        synod_viz::lamport::lamport_svg(&out.trace, &opts)
    });
    Ok(SimReport {
        protocol: name.to_string(),
        seed: out.seed,
        model: spec.annotate(out.model),
        trace_hash: out.trace_hash,
        stats: out.stats,
        properties: props,
        svg,
        history: record.map(|r| r(&out.trace)),
    })
}
