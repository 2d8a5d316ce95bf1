//! `synod learn`: the map from vocabulary to models, to results, to books.
//!
//! One page per topic of the talk, in our own words: what the idea is, the commands that make
//! it visible, and which book to read for which need. The path through the topics follows the
//! talk: models first, because nothing else means anything without them.

use crate::Topic;
use serde_json::{json, Value};

/// A book recommendation for a particular need.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// What the reader wants.
    pub need: &'static str,
    /// Where to read (book and chapter).
    pub read: &'static str,
    /// Why this one.
    pub why: &'static str,
}

/// A command to try and what it shows.
#[derive(Clone, Copy, Debug)]
pub struct TryIt {
    /// The command line.
    pub command: &'static str,
    /// What to look for.
    pub shows: &'static str,
}

/// One topic's page.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// The topic.
    pub topic: Topic,
    /// One line: the question this topic answers.
    pub question: &'static str,
    /// The explanation, paragraph by paragraph.
    pub explanation: &'static [&'static str],
    /// Commands to try.
    pub try_it: &'static [TryIt],
    /// What to read.
    pub reading: &'static [Reading],
}

const MODELS: Page = Page {
    topic: Topic::Models,
    question: "What may I assume about time?",
    explanation: &[
        "Every result in distributed computing is a statement about a model, and the first part of a model is timing. In the synchronous model there is a known bound on message delay and on how fast processes run, so computation can proceed in lockstep rounds: send, receive everything sent this round, compute. It is unrealistic, but an impossibility proved there holds everywhere weaker.",
        "In the asynchronous model there are no bounds at all: a message may take any finite time and a process may pause for any finite time. Only fairness remains (a correct process keeps taking steps; a message between correct processes is eventually delivered). Here a crashed process cannot be told apart from a slow one, which is why FLP shows that deterministic consensus is impossible with even one crash. 'Asynchronous' in the papers means this model, not async I/O.",
        "Real systems live in between. Partial synchrony (Dwork, Lynch, Stockmeyer) says bounds exist but are unknown, or hold only after an unknown global stabilization time (GST). The rule that follows: safety must never depend on timing, liveness may depend on GST. synod makes the model a parameter of every run and prints it first: timing, failures, links, n, seed.",
    ],
    try_it: &[
        TryIt { command: "synod sim perfect-link --timing sync:10ms --latency uniform:1ms..30ms --svg sync.svg", shows: "under synchrony no delay exceeds the bound (delays are capped at 10ms)" },
        TryIt { command: "synod sim perfect-link --timing async --svg async.svg", shows: "under asynchrony a quarter of messages are slowed by a heavy-tailed factor: overtaking everywhere" },
        TryIt { command: "synod sim perfect-link --timing psync:gst=3s,delta=10ms --svg psync.svg --svg-from 2500ms --svg-to 3500ms", shows: "chaos before GST, bounded delays after it" },
    ],
    reading: &[
        Reading { need: "the models, precisely, with proofs", read: "Lynch, Distributed Algorithms: organised by model (sync ch. 2-7, async ch. 8-22, partial synchrony ch. 23-25)", why: "the book's structure is the answer to 'which model am I in?'" },
        Reading { need: "the models as a practitioner's ladder", read: "Cachin, Guerraoui & Rodrigues (CGR) ch. 2", why: "names each combination of timing and failures (fail-stop, fail-noisy, fail-silent, fail-recovery, fail-arbitrary)" },
        Reading { need: "why real networks are not synchronous", read: "Kleppmann, Designing Data-Intensive Applications (DDIA) ch. 8", why: "unbounded delays, pauses and clocks in production" },
    ],
};

const FAILURES: Page = Page {
    topic: Topic::Failures,
    question: "How may processes and messages fail?",
    explanation: &[
        "The second part of a model is what can go wrong. Crash-stop: a process halts and never returns. Crash-recovery: it halts and may come back, with whatever it wrote to stable storage and nothing else; a process is correct if it eventually stays up. Omission: a process fails to send or receive some messages while otherwise following its algorithm (a cache node that cannot send but still receives stays fresh but silent). Byzantine: a faulty process may do anything, including lie and say different things to different peers.",
        "These form a hierarchy: crash is a special case of omission, which is a special case of Byzantine. Tolerating more costs more: consensus needs a majority of correct processes against crashes (n > 2f) but more than two thirds against Byzantine faults (n > 3f). Most systems only need crash tolerance, because crashes dominate in practice; design for the failures you actually have.",
        "Crash-recovery adds a question every protocol must answer: what must be on disk before a message goes out? synod makes persistence an explicit, ordered effect, so a protocol that sends before it persists can be caught.",
    ],
    try_it: &[
        TryIt { command: "synod sim perfect-link --crash n2@1s --svg crash.svg", shows: "a crash-stop node: its line goes grey; guarantees hold between the correct nodes" },
        TryIt { command: "synod sim perfect-link --crash n1@1s --recover n1@3s --svg recovery.svg", shows: "crash-recovery: the node restarts from its stable storage; the perfect link keeps nothing there, so it restarts empty and its guarantees cover only processes that never crashed (the books' logged links persist what they must)" },
        TryIt { command: "synod sim perfect-link --omission n1:send=0.5@0s..3s", shows: "send omission: half of n1's messages vanish for three seconds" },
        TryIt { command: "synod sim fifo-perfect-link --partition 'n0,n1|n2@1s..4s' --svg partition.svg", shows: "a partition and its heal; retransmission carries the FIFO link across it" },
    ],
    reading: &[
        Reading { need: "the failure models and the hierarchy", read: "CGR ch. 2; Lynch ch. 6 (stopping and Byzantine failures)", why: "precise definitions of correct and faulty in each model" },
        Reading { need: "which failures to design for", read: "Birman, Guide to Reliable Distributed Systems", why: "argues from operations that crashes dominate and Byzantine tolerance is rarely worth its price" },
        Reading { need: "how FLP's assumptions read", read: "Aguilera, 'Stumbling over consensus research' (in Charron-Bost, Pedone & Schiper, Replication)", why: "what the impossibility results do and do not forbid" },
    ],
};

const LINKS: Page = Page {
    topic: Topic::Links,
    question: "What can I assume about a message once it is sent?",
    explanation: &[
        "The network itself is a fair-loss link: it may lose, duplicate and reorder messages, but it does not invent them, and a message sent infinitely often gets through infinitely often. Everything stronger is built on top. A stubborn link retransmits every message forever, so each is delivered infinitely often. A perfect link adds acknowledgements and duplicate elimination: each message sent between correct processes is delivered exactly once. A FIFO perfect link adds sequence numbers and a hold-back queue so messages arrive in send order.",
        "Each rung has a price. Retransmitting until acknowledged costs 1/(1-p) transmissions per message when a fraction p of data messages is lost, and 1/(1-p)^2 when acknowledgements are lost too. Perfect links are unrealistic as an assumption (they hide this cost and cannot survive crashes without stable storage) but they are the right interface for building everything above.",
        "synod builds these as the books do, as a stack of modules: the FIFO link runs over the perfect link, which runs over the stubborn link, which runs over the network, each layer a protocol of its own. Each carries its properties as code (no creation, no duplication, reliable delivery, FIFO order), and a broken 'canary' variant of each shows the checks can fail.",
    ],
    try_it: &[
        TryIt { command: "synod experiment link-hierarchy", shows: "measured transmissions per delivery against 1/(1-p) and 1/(1-p)^2, duplicates and reordering at each rung" },
        TryIt { command: "synod sim fifo-stubborn-stack --latency exp:20ms --dup 0.1 --svg stack.svg", shows: "the three-level stack keeping send order under duplication and reordering" },
        TryIt { command: "synod sim perfect-link-no-dedup --loss 0.3", shows: "a canary: the no-duplication check catches a link that forgot to deduplicate" },
        TryIt { command: "synod soak perfect-link --loss 0.3 --dup 0.1 --seeds 1000", shows: "the same properties over a thousand seeds" },
    ],
    reading: &[
        Reading { need: "the link abstractions and their algorithms", read: "CGR ch. 2 (fair-loss, stubborn, perfect, logged and authenticated links)", why: "each abstraction with its properties and pseudo-code, exactly the ladder synod builds" },
        Reading { need: "data-link protocols and their limits", read: "Lynch ch. 22; Tel, Introduction to Distributed Algorithms ch. 3 (sliding window)", why: "alternating bit, sliding windows, and why no data link survives crashes without stable state" },
        Reading { need: "what real networks do", read: "DDIA ch. 8 (unreliable networks)", why: "loss, delay and partitions as engineers meet them" },
    ],
};

const FAILURE_DETECTORS: Page = Page {
    topic: Topic::FailureDetectors,
    question: "How do I know who is up when timing is uncertain?",
    explanation: &[
        "A failure detector is a module that tells each process which others it suspects to have crashed. Chandra and Toueg classify detectors by two properties. Completeness: every crashed process is eventually suspected (strong: by every correct process; weak: by some). Accuracy: correct processes are not suspected (strong: never; weak: some correct process never is; eventual: only after some unknown time). The perfect detector P has strong completeness and strong accuracy; the eventually perfect detector <>P has strong completeness and eventual strong accuracy.",
        "Heartbeats with a fixed timeout give P only under synchrony, when the timeout exceeds the delay bound. Under partial synchrony a fixed timeout shorter than the real delays keeps suspecting correct processes forever. The fix is the increasing timeout: when a suspected process turns out to be alive, restore it and raise the timeout. After GST the timeout eventually exceeds the true bound and false suspicions stop: that is <>P, and with it consensus becomes solvable despite FLP.",
        "In production the questions are quantitative: how long until a crash is detected (T_D), how often are there mistakes (T_MR), how long does a mistake last (T_M), how often is the detector right when queried (P_A)? The phi-accrual detector turns heartbeat history into a suspicion level and lets you trade detection time for accuracy with one threshold. SWIM replaces all-to-all heartbeats (n^2 messages per period) with random probing (linear), indirect probes through k members, and a suspicion sub-protocol with incarnation numbers that lets a slow member refute its own death.",
    ],
    try_it: &[
        TryIt { command: "synod experiment fd-timeouts", shows: "fixed short, fixed long and increasing timeouts under partial synchrony: false suspicions before and after GST" },
        TryIt { command: "synod experiment fd-qos", shows: "the phi threshold trade-off: detection time rises as mistakes fall" },
        TryIt { command: "synod experiment swim-vs-heartbeat", shows: "messages per period n(n-1) versus linear, and SWIM's e/(e-1) periods to first detection" },
        TryIt { command: "synod sim eventually-perfect-fd --timing psync:gst=3s,delta=20ms --crash n2@5s --svg fd.svg", shows: "suspicions and restores as indications on each node's line" },
    ],
    reading: &[
        Reading { need: "detector classes and the algorithms (P, <>P, Omega)", read: "CGR ch. 2; Chandra & Toueg, 'Unreliable failure detectors for reliable distributed systems' (1996)", why: "usable definitions and the increasing-timeout algorithm the talk describes" },
        Reading { need: "a survey of classes and reductions", read: "Kshemkalyani & Singhal ch. 15", why: "the whole zoo and how one class implements another" },
        Reading { need: "tuning detectors in production (phi, SWIM, QoS)", read: "the papers: Chen, Toueg & Aguilera 2002; Hayashibara et al. 2004; Das, Gupta & Motivala 2002", why: "textbooks stop at the classes; the metrics and scalable membership live in the papers" },
        Reading { need: "why timeouts are hard", read: "DDIA ch. 8 (timeouts and unbounded delays)", why: "the practitioner's view of the same trade-off" },
    ],
};

const ELECTION: Page = Page {
    topic: Topic::Election,
    question: "Who is in charge, and how much does it cost to agree on that?",
    explanation: &[
        "Leader election is the dual of failure detection: instead of finding who is down, find one process that is up and make everyone trust it. A leader creates useful asymmetry (Raft, Zab and Multi-Paxos all use one) but it is also a bottleneck and a single point of failure to detect.",
        "On a ring without failures the question is message complexity. LCR (Le Lann, Chang and Roberts) sends each identifier around a one-way ring until it meets a larger one: n(n+1)/2 messages in the worst arrangement, about n ln n on average. Hirschberg and Sinclair probe in both directions at doubling distances and stay within 8n(1 + log n) messages in every arrangement: the worst case against the average case is the lesson.",
        "With crashes, election needs timing. The Bully algorithm picks the highest live identifier and relies on timeouts; when timeouts are shorter than real delays it elects two leaders (split brain). Omega, the eventual leader detector, only promises that eventually all correct processes trust the same correct process, which is exactly what consensus needs and is implementable under partial synchrony.",
    ],
    try_it: &[
        TryIt { command: "synod experiment lcr-vs-hs", shows: "messages against n for worst, sorted and random rings, with fitted growth exponents" },
        TryIt { command: "synod experiment bully", shows: "messages by initiator, and a split brain when timeouts are shorter than delays" },
        TryIt { command: "synod experiment omega", shows: "who each node trusts over time, and how long after GST they agree" },
        TryIt { command: "synod sim lcr --nodes 8 --svg lcr.svg", shows: "identifiers travelling around the ring until the largest returns home" },
    ],
    reading: &[
        Reading { need: "ring election and its lower bounds", read: "Lynch ch. 3 (synchronous rings: LCR, HS) and ch. 15 (asynchronous rings)", why: "the algorithms side by side with the Omega(n log n) lower bound" },
        Reading { need: "a gentler first pass", read: "Fokkink, Distributed Algorithms: An Intuitive Approach (election chapter); Tel ch. 7", why: "intuition and worked examples before the proofs" },
        Reading { need: "Bully and election in systems", read: "Tanenbaum & van Steen, Distributed Systems ch. 6", why: "the classic systems treatment of Bully and ring election" },
        Reading { need: "eventual leaders (Omega)", read: "CGR ch. 2 (eventual leader election)", why: "Omega from <>P, the detector consensus needs" },
    ],
};

const CONSENSUS: Page = Page {
    topic: Topic::Consensus,
    question: "How do processes that may fail agree on one value, and when is it impossible?",
    explanation: &[
        "Consensus: every process proposes a value and decides one. Agreement (no two decide differently), validity (the decision was proposed), integrity (decide once) are safety; termination (every correct process decides) is liveness. Uniform agreement also binds processes that crash after deciding. Replicated logs, atomic commit and leader election all reduce to it, so its limits are everyone's limits.",
        "In synchronous rounds with crashes it is easy but not free: FloodSet floods the set of values seen for f+1 rounds and decides the minimum, and no algorithm can always do it in f rounds (a process that crashes mid-broadcast in every round hides a value until the end). Early-deciding variants stop after min(f'+2, f+1) rounds when only f' crashes happen. Against Byzantine processes with oral messages, agreement needs n > 3f: three generals cannot unmask one traitor.",
        "In the asynchronous model it is impossible for a deterministic protocol to guarantee termination if one process may crash (FLP): some initial configuration can still go either way (bivalent), and the scheduler can always keep it so. Everything practical is a way around FLP, never through it: keep safety unconditional and obtain liveness from partial synchrony (a leader from Omega, or a rotating coordinator with an eventually strong detector, as in Chandra-Toueg), or from randomness (Ben-Or terminates with probability 1).",
        "Paxos is that recipe: ballots, a promise not to accept lower ballots, and proposing the highest value already accepted by a majority. Without a stable leader proposers can duel for ever; with Omega after GST one proposer finishes. Multi-Paxos and Raft run it once per log slot behind a stable leader; Raft's subtle rule is that a leader counts replicas only for entries of its own term (its Figure 8 shows what goes wrong otherwise). Under crash-recovery, the promise must reach stable storage before the reply, or an amnesiac acceptor lets two values be chosen.",
    ],
    try_it: &[
        TryIt { command: "synod experiment floodset-rounds", shows: "disagreement found with f rounds for every n <= 5, none with f+1 (exhaustive)" },
        TryIt { command: "synod experiment flp", shows: "a bivalent initial configuration and a 50-step fair run that never decides" },
        TryIt { command: "synod experiment paxos-duel", shows: "dueling proposers livelock; with Omega after GST one leader decides" },
        TryIt { command: "synod experiment gst-sweep", shows: "no safety violation for any GST, and decision time minus GST bounded" },
        TryIt { command: "synod experiment byz-bound", shows: "OM(m) violations for n = 3f, none for n = 3f+1" },
        TryIt { command: "synod experiment amnesia", shows: "Paxos acceptors that forget promises on recovery choose two values" },
        TryIt { command: "synod check paxos-forgets-promise --clients 2", shows: "the model checker's shortest counterexample to agreement, replayable" },
        TryIt { command: "synod check two-phase-commit --crashes 1", shows: "atomic commit blocks when the coordinator crashes: a liveness violation" },
    ],
    reading: &[
        Reading { need: "the specification and its variants", read: "CGR ch. 5 (regular and uniform consensus, fail-stop to fail-recovery) and ch. 6 (atomic commit, total order)", why: "one vocabulary for every model, with algorithms for each" },
        Reading { need: "the lower bounds and FLP with proofs", read: "Lynch ch. 6 (f+1 rounds, n > 3f) and ch. 12 and 21 (FLP); Attiya & Welch ch. 5", why: "the impossibility results, precisely" },
        Reading { need: "Paxos and Raft as engineers meet them", read: "Lamport, 'Paxos made simple'; Ongaro & Ousterhout, 'In search of an understandable consensus algorithm' (Raft); DDIA ch. 9", why: "the algorithms themselves, and how systems use them" },
        Reading { need: "failure detectors and randomization", read: "Chandra & Toueg 1996 (JACM); Ben-Or 1983; Lynch ch. 21 and 25", why: "the two classic ways around FLP" },
    ],
};

const BROADCAST: Page = Page {
    topic: Topic::Broadcast,
    question: "How does one message reach everybody, and in what order, when senders crash?",
    explanation: &[
        "Broadcast is a ladder of abstractions, each adding one property to the rung below (Cachin, Guerraoui & Rodrigues, ch. 3). Best-effort broadcast promises delivery only if the sender stays up: a sender that crashes midway leaves some processes with the message and others without. Reliable broadcast adds agreement (if a correct process delivers m, every correct process does), by relaying: eagerly (everyone relays on first delivery, n squared messages) or lazily (relay only when a perfect failure detector says the sender crashed, n messages without crashes). Uniform reliable broadcast also binds the processes that crash: nobody delivers before the message is safe, after all (with a perfect detector) or a majority (no detector, n > 2f) have acknowledged it.",
        "Ordering is a separate axis. FIFO delivers each sender's messages in the order sent; causal delivers a message only after everything that happened before its broadcast (vector clocks, or piggybacking the causal past); total order makes every process deliver all messages in the same order. FIFO and causal broadcast are implementable in the asynchronous model with crashes. Total-order broadcast is not: it is equivalent to consensus (Chandra and Toueg), consensus from total order by deciding the first message delivered, total order from consensus by agreeing on one batch per instance. So FLP forbids it too, and a replicated log is total-order broadcast.",
        "synod judges every algorithm by the same property checks over its trace, so the hierarchy becomes a table of violation counts, and gossip (probabilistic broadcast) shows what you get for O(log n) messages per process.",
    ],
    try_it: &[
        TryIt { command: "synod experiment broadcast-hierarchy", shows: "the sender crashes midway: beb loses agreement, reliable broadcast is not uniform, uniform broadcast costs acknowledgements" },
        TryIt { command: "synod experiment broadcast-orders", shows: "one workload under FIFO, causal and total order: which delivery orders each permits" },
        TryIt { command: "synod experiment tob-consensus", shows: "total-order broadcast from consensus and consensus from total-order broadcast, checked both ways" },
        TryIt { command: "synod soak eager-rb --seeds 100", shows: "agreement on every seed, crashes included" },
        TryIt { command: "synod workbench -w broadcast --bin target/release/broadcast --node-count 5 --time-limit 10 --rate 20 --latency 20 --nemesis partition --seed 1", shows: "your own broadcast node (here the Rust example; build it with cargo build --release -p synod-node): real processes behind a seeded network that cuts them apart; the set-full checker reports lost and stale messages, stable latencies and messages per operation (any language works: see examples/workbench/python)" },
        TryIt { command: "synod workbench -w broadcast --bin target/release/broken-broadcast --node-count 5 --time-limit 5 --rate 20 --seed 1", shows: "a node that never gossips: the final reads miss what other nodes acknowledged, reported as lost" },
    ],
    reading: &[
        Reading { need: "the abstractions and their algorithms", read: "CGR ch. 3 (best-effort, reliable, uniform, FIFO, causal, probabilistic) and ch. 6 (total order)", why: "one module per property, with the exact algorithms run here" },
        Reading { need: "total order equals consensus", read: "Chandra & Toueg 1996 (JACM); Défago, Schiper & Urbán, 'Total order broadcast and multicast algorithms' (ACM CSUR 2004); DDIA ch. 9", why: "the reduction both ways, and the families of total-order algorithms" },
        Reading { need: "ordering with clocks", read: "Kshemkalyani & Singhal ch. 6; Attiya & Welch ch. 8", why: "causal and total ordering from logical and vector clocks" },
    ],
};

const REPLICATION: Page = Page {
    topic: Topic::Replication,
    question: "How do copies of data stay useful when machines and networks fail, and what does each way cost?",
    explanation: &[
        "Replication keeps copies of state on several machines for availability and fault tolerance; the schemes differ in who orders updates and how many copies must answer. Primary-backup lets one primary order updates and forward them to its backups; it needs f+1 replicas but a perfect failure detector: with a detector that can be wrong (a partition, a long pause) the backups install a second primary and the brain splits, unless the primary holds a lease that a new one waits out. Chain replication sends updates in at the head and reads to the tail, so a read sees only fully replicated writes; a master reconfigures the chain around failures.",
        "State machine replication makes deterministic replicas execute the same commands in the same order, ordered by consensus (Multi-Paxos, Raft): 2f+1 replicas survive f crashes and the store is linearizable, but the minority side of a partition cannot serve (CAP). Dynamo-style quorum replication writes to W and reads from R of N replicas: R + W > N makes every read quorum meet the last write quorum, so reads are not stale, but concurrent operations are still not linearizable unless reads write back; sloppy quorums trade that guarantee for availability. CRDTs give up ordering altogether: replicas accept updates locally and merge states with a join that is commutative, associative and idempotent, so they converge once they have seen the same updates (strong eventual consistency).",
        "synod runs each scheme as a register store under the same clients and checks the clients' history with the same checkers (linearizable, sequential, causal, regular) and the replicas for convergence, so 'the consistency each gives' is measured, not quoted.",
    ],
    try_it: &[
        TryIt { command: "synod experiment replication-compare", shows: "every scheme under one partition: the consistency it keeps, availability on each side, latency and messages per operation" },
        TryIt { command: "synod experiment quorum-rw", shows: "N = 3: stale reads with R + W <= N, falling with time since the write; none with R + W > N" },
        TryIt { command: "synod experiment split-brain", shows: "primary-backup failover with a perfect detector, an eventually perfect one (split brain) and leases" },
        TryIt { command: "synod experiment chain-vs-pb", shows: "chain length vs update latency and messages per update" },
        TryIt { command: "synod experiment crdt-convergence", shows: "replicas diverge during a partition and converge after it; a naive counter under duplication does not" },
        TryIt { command: "synod soak chain --chaos --loss 0.05 --dup 0.05 --seeds 100", shows: "chain replication linearizable under crashes, recoveries, partitions, loss and duplication, seed after seed" },
        TryIt { command: "synod soak crdt-orset --seeds 100", shows: "an OR-set converges to its add-wins specification after every healed partition" },
        TryIt { command: "synod cluster up --nodes 3 --dir /tmp/synod-cluster", shows: "state machine replication for real: three replica processes of the Raft key-value store on loopback, with write-ahead logs; returns once a leader is elected" },
        TryIt { command: "synod kv put greeting hello --dir /tmp/synod-cluster --json", shows: "a put through the leader (the JSON names it); kill -9 that pid and put again: the others elect a new leader in about 0.3 s" },
        TryIt { command: "synod cluster down --dir /tmp/synod-cluster", shows: "the replicas stopped" },
        TryIt { command: "synod stress --nodes 3 --clients 4 --time 30s --nemesis kill,pause,partition,clock --seed 1", shows: "Jepsen-style: real processes killed, paused, partitioned and clock-skewed under concurrent clients; the history is linearizable and no acknowledged write is lost" },
        TryIt { command: "synod stress --nodes 5 --clients 8 --keys 2 --time 20s --nemesis partition --canary unconfirmed-reads --seed 3", shows: "leaders that answer reads without confirming they still lead: when a cut leaves a deposed leader serving clients, the checker finds its stale reads and names them (on some seeds, not all: the processes run in real time)" },
    ],
    reading: &[
        Reading { need: "the schemes side by side", read: "Charron-Bost, Pedone & Schiper (eds.), Replication: Theory and Practice (van Renesse & Guerraoui on primary-backup, chain and SMR; Schneider & Zhou)", why: "the specialist volume; one chapter per family" },
        Reading { need: "what engineers meet in databases", read: "Kleppmann, DDIA ch. 5 (leaders, leaderless, R + W > N, sloppy quorums, version vectors) and ch. 9", why: "the practitioner's map, with the failure stories" },
        Reading { need: "the original papers", read: "Schneider 1990 (state machines); van Renesse & Schneider 2004 (chain); DeCandia et al. 2007 (Dynamo); Shapiro et al. 2011 (CRDTs); Bailis et al. 2012 (PBS)", why: "each scheme's guarantees in its authors' words" },
    ],
};

const CONSISTENCY: Page = Page {
    topic: Topic::Consistency,
    question: "What may clients of a replicated object observe, and how do we check a real history?",
    explanation: &[
        "A consistency model is a contract about observations: which results may the clients of a shared object see, given what they asked and when? Linearizability (Herlihy & Wing) is the strongest common one: every operation appears to take effect at one instant between its call and its return, so the object behaves like a single copy in real time. Sequential consistency (Lamport) drops real time: some single order must respect each client's own order. Weaker still are causal consistency, the session guarantees (read your writes, monotonic reads and writes, writes follow reads) and eventual consistency.",
        "Checking a history means searching for such an order. For linearizability that search is NP-complete in general, but Wing & Gong's depth-first search over which operation takes effect next, with Lowe's memo of (operations done, object state), is fast on real histories: reads can be placed greedily, a read whose value can no longer be produced kills its branch at once, and a key-value history splits into one independent history per key (linearizability is local). Operations whose outcome is unknown (a client timed out, Jepsen's :info) may or may not have taken effect, at any later time: they are what makes histories hard.",
        "Histories come from anywhere: synod's simulator saves its clients' histories, Jepsen records them as EDN or in its logs. A violation is explained by the longest legal prefix and the operations that cannot come next; a timeline shows them. ABD emulates an atomic register over message passing with majority quorums; drop its read write-back and a read can see a new value that a later read no longer sees, a new/old inversion that only a linearizability check catches.",
    ],
    try_it: &[
        TryIt { command: "synod sim abd --nodes 3 --messages 10 --until 1s --seed 8 --history abd.edn", shows: "ABD's clients write and read; the run is judged linearizable and its history saved in Jepsen EDN" },
        TryIt { command: "synod lin abd.edn --model register --html abd.html", shows: "the saved history checked again from the file, with a timeline of every operation" },
        TryIt { command: "synod lin abd.edn --consistency causal", shows: "the same history against causal consistency (CC, causal memory, causal convergence) by bad patterns: what weaker stores promise" },
        TryIt { command: "synod soak abd-no-write-back --nodes 3 --messages 10 --until 1s --seeds 200", shows: "reads without write-back: some seeds show a new/old inversion, so the history is not linearizable" },
        TryIt { command: "synod sim abd-no-write-back --nodes 3 --messages 10 --until 1s --seed 8 --history inversion.edn", shows: "one such run, saved" },
        TryIt { command: "synod lin inversion.edn --model register", shows: "the violation explained: the read that nothing can justify, its line, and what a legal order would return" },
        TryIt { command: "synod check abd-no-write-back", shows: "the model checker finds the same inversion with three clients, exhaustively" },
        TryIt { command: "synod workbench -w txn-list-append --bin target/release/broken-txn --node-count 3 --time-limit 5 --rate 100 --key-count 2 --consistency-models read-committed --seed 1", shows: "transactions with no isolation at all: the Elle-style checker infers each key's order from the lists read and names the anomalies, with the transactions involved" },
    ],
    reading: &[
        Reading { need: "the definitions, side by side", read: "Herlihy & Wing 1990 (linearizability); Lamport 1979 (sequential consistency); Terry et al. 1994 (session guarantees); DDIA ch. 9", why: "what each model promises and forbids" },
        Reading { need: "checking histories", read: "Wing & Gong 1993; Lowe 2017, 'Testing for linearizability'; Horn & Kroening 2015 (P-compositionality); Kingsbury's Knossos and Jepsen write-ups; Athalye's Porcupine", why: "the search every practical checker uses, and its speed-ups" },
        Reading { need: "registers emulated on message passing", read: "Attiya, Bar-Noy & Dolev 1995 (ABD); CGR ch. 4 (regular and atomic registers)", why: "why the read must write back" },
    ],
};

const LOGICAL_TIME: Page = Page {
    topic: Topic::LogicalTime,
    question: "Without a global clock, what does \"before\" mean, and how can a process tell?",
    explanation: &[
        "In an asynchronous system there is no common clock to stamp events with, yet some events clearly come first: a send comes before its receipt, and each process's events come in its own order. Lamport's happened-before relation is exactly that order and its transitive closure; two events neither of which happened before the other are concurrent. It is a partial order, and it is the only order processes can observe.",
        "A Lamport clock (one integer per process: tick on every event, on receipt jump past the sender's stamp) respects it: if a happened before b then L(a) < L(b). The converse fails: L(a) < L(b) says nothing when a and b are concurrent, and as n grows most ordered-looking pairs are concurrent. Vector clocks (Fidge, Mattern) keep one entry per process and characterise causality exactly: a happened before b iff V(a) < V(b), at the price of n integers per message, which Charron-Bost showed is necessary in general.",
        "Clocks in synod are layers a protocol wears without changing it (`Clocked<P, LamportClock>`, `Clocked<P, VectorClock>`), and happened-before is computed from any trace, so a diagram can colour an event's causal past, its future and everything concurrent with it.",
    ],
    try_it: &[
        TryIt { command: "synod experiment lamport-vs-vector", shows: "concurrent pairs that Lamport stamps order anyway (rising with n), and vector clocks with zero false orders at 8n bytes per message" },
        TryIt { command: "synod sim perfect-link --nodes 3 --messages 2 --until 40ms --seed 3 --svg causal.svg --causal 9", shows: "a space-time diagram coloured by causality around event 9 (a delivery at n0): its past, its future, and the concurrent events" },
    ],
    reading: &[
        Reading { need: "the idea, from the source", read: "Lamport, 'Time, clocks, and the ordering of events in a distributed system' (CACM 1978)", why: "happened-before, the clock condition and a total order from it, in ten pages" },
        Reading { need: "vector clocks and their limits", read: "Fidge 1988; Mattern 1988; Charron-Bost 1991; Kshemkalyani & Singhal ch. 3", why: "exact causality, and why it needs n entries" },
        Reading { need: "the formal treatment", read: "Lynch ch. 18; Attiya & Welch ch. 6", why: "logical time as a transformation of executions" },
    ],
};

const SHARED_MEMORY: Page = Page {
    topic: Topic::SharedMemory,
    question: "What if processes share objects instead of sending messages, and how do the two models relate?",
    explanation: &[
        "In the shared-memory model processes communicate through shared objects: each step is one atomic operation on one object (read or write a register, test-and-set, fetch-and-add, enqueue, compare-and-swap). Asynchrony is the scheduler's freedom to interleave steps; a crash is a process that stops taking steps. An algorithm is wait-free if every process finishes within a bounded number of its own steps whatever the others do, including crashing.",
        "Objects differ in power. Herlihy's consensus number of an object is the largest number of processes that can reach wait-free consensus with it: read/write registers 1, test-and-set, fetch-and-add and queues 2, compare-and-swap infinite. synod's checker explores every interleaving of the textbook protocols and finds the schedule in which the 3-process test-and-set protocol disagrees, and the one in which a read/write protocol waits for ever for a crashed process. That illustrates the hierarchy; it does not prove it.",
        "Registers themselves come in strengths (Lamport): safe, regular, atomic. Over message passing, ABD emulates an atomic register with majority quorums, so shared-memory algorithms run unchanged on a network with crashes, as long as a majority is up; drop its read write-back and it is only regular (new/old inversions appear). The same register client program runs on a shared register and on ABD, and the same checkers judge both histories.",
    ],
    try_it: &[
        TryIt { command: "synod experiment consensus-number", shows: "which objects solve consensus for how many processes, with the counterexample schedules" },
        TryIt { command: "synod shm tas-consensus --check --processes 3", shows: "the 8-step schedule in which two losers of a test-and-set disagree" },
        TryIt { command: "synod shm rw-wait-consensus --check", shows: "a read/write protocol that agrees but is not wait-free: the loop in which a process waits for ever" },
        TryIt { command: "synod shm register --processes 3 --bursty --seed 4", shows: "the register client program on a shared atomic register, judged linearizable" },
        TryIt { command: "synod experiment abd", shows: "ABD completes every operation with f < n/2 crashes, blocks with a majority down; minority quorums break atomicity" },
        TryIt { command: "synod experiment register-semantics", shows: "one-phase reads are regular, not atomic (new/old inversions); write-back reads are atomic" },
        TryIt { command: "synod check abd", shows: "the ABD register checked exhaustively with two clients" },
    ],
    reading: &[
        Reading { need: "registers and their constructions", read: "Lamport, 'On interprocess communication' (1986); CGR ch. 4; Raynal, Concurrent Programming (registers)", why: "safe, regular, atomic, and how to build each from the weaker" },
        Reading { need: "consensus numbers", read: "Herlihy, 'Wait-free synchronization' (TOPLAS 1991); Herlihy & Shavit ch. 5; Attiya & Welch ch. 15", why: "the hierarchy, its proofs, and universal constructions" },
        Reading { need: "shared memory on message passing", read: "Attiya, Bar-Noy & Dolev 1995 (ABD); Lynch ch. 17; Attiya & Welch ch. 10", why: "why a majority is needed and enough" },
    ],
};

const SNAPSHOTS: Page = Page {
    topic: Topic::Snapshots,
    question: "How do you take a consistent picture of a running system that has no global clock?",
    explanation: &[
        "A global snapshot records every process's state and every channel's in-flight messages. Recording each process at the same clock time does not work: clocks are skewed, and a snapshot can then show money received but never sent. What is needed is a consistent cut: if the cut includes a receive, it includes the matching send.",
        "Chandy and Lamport's algorithm gets one without stopping the system, on FIFO channels: the initiator records its state and sends a marker on every outgoing channel; a process records its state on its first marker and relays markers; a channel's state is what arrives after the receiver recorded and before the marker on that channel. The recorded state may never have existed as such, but it is reachable from the start and can reach the end, so stable properties (termination, deadlock, a conserved total) are detected correctly. Without FIFO channels, Lai and Yang colour messages instead of sending markers.",
        "synod checks each snapshot against the trace independently of the algorithm's bookkeeping: the cut is consistent, channel states are exactly the messages in flight across it, and a bank's total is conserved. A canary that forgets markers on some channels is caught.",
    ],
    try_it: &[
        TryIt { command: "synod experiment snapshot", shows: "conserved totals: 100% for Chandy-Lamport on FIFO channels and Lai-Yang on reordering ones, less for CL on reordering channels and for clock-time recording with skew" },
        TryIt { command: "synod soak chandy-lamport --seeds 100", shows: "every snapshot consistent over 100 seeds" },
        TryIt { command: "synod soak chandy-lamport-missing-marker --seeds 100", shows: "the canary without a marker on every channel: inconsistent or incomplete snapshots" },
    ],
    reading: &[
        Reading { need: "the algorithm and its theorem", read: "Chandy & Lamport, 'Distributed snapshots' (TOCS 1985); Lai & Yang 1987", why: "markers, colours, and what a recorded state means" },
        Reading { need: "the variants and their uses", read: "Kshemkalyani & Singhal ch. 4; Lynch ch. 19; Tel ch. 10", why: "snapshot algorithms side by side, and stable-property detection" },
    ],
};

const QUORUMS: Page = Page {
    topic: Topic::Quorums,
    question: "Which sets of servers must an operation contact so that any two operations meet?",
    explanation: &[
        "A quorum system is a collection of sets of servers any two of which intersect; that intersection is how a read finds the latest write and how two leaders notice each other. Majorities are the classic system, but not the only one: weighted voting, grids (a row and a column), finite projective planes and trees all intersect with smaller quorums. Read/write quorums need only R + W > N; Byzantine quorums need larger intersections (f+1 with signed data, 2f+1 to outvote forged replies).",
        "Quorum systems trade load against availability (Naor and Wool): the load is how often the busiest server is used under the best strategy, at least max(1/c, c/n) for smallest quorum size c, and the failure probability F_p is the chance that no quorum is fully alive when servers fail independently with probability p. Majority keeps load near 1/2 but its F_p vanishes as n grows; grids and planes reach load near 1/sqrt(n) but their F_p grows towards 1.",
    ],
    try_it: &[
        TryIt { command: "synod experiment quorum-systems", shows: "quorum size, load and failure probability for majority, grid, projective plane, tree and weighted voting; intersection verified and canaries caught" },
        TryIt { command: "synod experiment byz-quorums", shows: "masking quorums fail at n = 4f and hold at 4f+1; dissemination quorums at 3f vs 3f+1" },
    ],
    reading: &[
        Reading { need: "the whole subject", read: "Vukolić, Quorum Systems (2012)", why: "the one book on quorums, from intersection to storage and consensus" },
        Reading { need: "load and availability", read: "Naor & Wool, 'The load, capacity and availability of quorum systems' (1998)", why: "the trade-off and its bounds" },
        Reading { need: "Byzantine quorums", read: "Malkhi & Reiter, 'Byzantine quorum systems' (1998); CGR ch. 2 and 4", why: "dissemination and masking quorums" },
    ],
};

/// Every page, in path order.
pub fn pages() -> Vec<Page> {
    vec![
        MODELS,
        FAILURES,
        LOGICAL_TIME,
        LINKS,
        FAILURE_DETECTORS,
        ELECTION,
        CONSENSUS,
        BROADCAST,
        SHARED_MEMORY,
        REPLICATION,
        CONSISTENCY,
        SNAPSHOTS,
        QUORUMS,
    ]
}

/// The page for `topic` (by id, e.g. `failure-detectors`).
pub fn page(id: &str) -> Option<Page> {
    pages().into_iter().find(|p| p.topic.id() == id)
}

fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

impl Page {
    /// The page as terminal text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} ({})\n{}\n\n",
            self.topic.title(),
            self.topic.id(),
            self.question
        );
        for p in self.explanation {
            out.push_str(&wrap(p, 92, "  "));
            out.push('\n');
        }
        out.push_str("Try:\n");
        for t in self.try_it {
            out.push_str(&format!("  $ {}\n", t.command));
            out.push_str(&wrap(t.shows, 88, "      "));
        }
        out.push_str("\nRead:\n");
        for r in self.reading {
            out.push_str(&format!("  - for {}: {}\n", r.need, r.read));
            out.push_str(&wrap(&format!("({})", r.why), 88, "      "));
        }
        out
    }

    /// The page as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "topic": self.topic.id(),
            "title": self.topic.title(),
            "question": self.question,
            "explanation": self.explanation,
            "try": self.try_it.iter().map(|t| json!({"command": t.command, "shows": t.shows})).collect::<Vec<_>>(),
            "read": self.reading.iter().map(|r| json!({"need": r.need, "read": r.read, "why": r.why})).collect::<Vec<_>>(),
        })
    }
}

/// The overview: the path through the topics.
pub fn overview_text() -> String {
    let mut out = String::from(
        "The path through distributed-systems theory (after Alvaro Videla's talk):\nlearn the vocabulary of models first, then the abstractions built on them, then what they buy.\n\n",
    );
    let available = pages();
    for (i, t) in Topic::ALL.iter().enumerate() {
        let page = available.iter().find(|p| p.topic == *t);
        match page {
            Some(p) => out.push_str(&format!("  {:>2}. {:<20} {}\n", i + 1, t.id(), p.question)),
            None => out.push_str(&format!("  {:>2}. {:<20} (coming)\n", i + 1, t.id())),
        }
    }
    out.push_str("\nRead a topic: synod learn <topic>   (e.g. synod learn failure-detectors)\n");
    out.push_str("Where to start reading: Cachin, Guerraoui & Rodrigues for the abstractions; Lynch for the models and proofs.\n");
    out
}
