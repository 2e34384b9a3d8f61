//! Validate a synthetic fleet: 100 servers x 1,000 extensions, 200 queues, 100 menus.
//!
//! A plain timed harness (`cargo bench --bench validate`): generates the repo into a
//! temporary directory, one file per server like a real repo would, then times
//! `validate_repo` (read + parse + schema + meaning checks) a few times and prints the
//! best and median wall time, plus the same on a fleet 10x smaller to show scaling.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

fn generate(
    root: &Path,
    servers: usize,
    extensions_per_server: usize,
    queues: usize,
    menus: usize,
) {
    std::fs::write(
        root.join("astbase.yaml"),
        "project:\n  defaults: {codecs: [alaw, ulaw]}\n",
    )
    .unwrap();
    let mut timeframes = String::from("timeframes:\n");
    timeframes.push_str(
        "  - name: hours\n    periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]\n",
    );
    std::fs::write(root.join("timeframes.yaml"), timeframes).unwrap();
    for s in 0..servers {
        let mut y = String::new();
        let name = format!("srv{s:03}");
        writeln!(
            y,
            "servers:\n  - {{name: {name}, host: pbx{s}.example.com}}"
        )
        .unwrap();
        y.push_str("extensions:\n");
        for e in 0..extensions_per_server {
            let n = 1000 + e;
            writeln!(
                y,
                "  - number: \"{n}\"\n    server: {name}\n    name: User {n}\n    secret: {{env: EXT_{n}}}\n    \
                 email: user{n}@example.com\n    voicemail: {{pin: {{env: PIN_{n}}}}}\n    \
                 forward: {{no_answer: {{voicemail: \"{n}\"}}}}"
            )
            .unwrap();
        }
        y.push_str("queues:\n");
        for q in 0..queues / servers {
            let members: Vec<String> = (0..10)
                .map(|m| format!("\"{}\"", 1000 + q * 10 + m))
                .collect();
            writeln!(
                y,
                "  - {{name: q{q}, number: \"{}\", server: {name}, members: [{}], max_wait: 300, on_timeout: {{voicemail: \"1000\"}}}}",
                5000 + q,
                members.join(", ")
            )
            .unwrap();
        }
        y.push_str("menus:\n");
        for m in 0..menus / servers {
            writeln!(
                y,
                "  - name: m{m}\n    number: \"{}\"\n    server: {name}\n    prompts: [custom/welcome]\n    \
                 keys: {{1: {{queue: q0}}, 2: {{extension: \"1001\"}}, 0: {{extension: \"1000\"}}}}\n    \
                 timeframe: hours\n    after_hours: {{voicemail: \"1000\"}}",
                7000 + m
            )
            .unwrap();
        }
        std::fs::write(root.join(format!("{name}.yaml")), y).unwrap();
    }
}

fn measure(label: &str, servers: usize, extensions: usize, runs: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), servers, extensions, servers * 2, servers);
    let bytes: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let report = astbase::validate::validate_repo(dir.path()).unwrap();
        times.push(started.elapsed());
        assert!(
            report.diagnostics.is_empty(),
            "{:?}",
            report.diagnostics.first()
        );
        assert_eq!(report.fleet.extensions.len(), servers * extensions);
    }
    times.sort();
    println!(
        "{label}: {servers} servers x {extensions} extensions ({:.1} MB YAML): best {:.0} ms, median {:.0} ms",
        bytes as f64 / 1e6,
        times[0].as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3
    );
    times[0]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without
    // it, where a quick smoke run is enough (and unoptimized code would be slow).
    if !std::env::args().any(|a| a == "--bench") {
        measure("smoke", 2, 50, 1);
        return;
    }
    let small = measure("small", 10, 1000, 5);
    let large = measure("large", 100, 1000, 3);
    println!(
        "scaling: 10x the fleet took {:.1}x the time",
        large.as_secs_f64() / small.as_secs_f64()
    );
}
