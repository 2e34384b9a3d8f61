//! The whole offline pipeline on a synthetic fleet: 100 servers x 1,000 extensions, 200
//! queues and 100 menus (plus a trunk and routes per server), one YAML file per server.
//!
//! `cargo bench --bench fleet` prints, for validate alone and for validate + render:
//! best and median wall time over a few runs, and peak memory (VmHWM) measured in a fresh
//! child process so one measurement does not inherit another's peak. A fleet 10x smaller
//! shows how time scales. `--generate DIR SERVERS` writes the fleet for profiling the CLI.
//!
//! Also measured in the same run, as floors: the YAML parser's events alone over the
//! same files on the same threads (what any validate pays before building anything),
//! and the schema validator's construction. Goal (performance issue): validate + render
//! of the large fleet in 0.5 s and 150 MB.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use astbase::render::{RenderOptions, SecretSource, render_each};

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
    let timeframes = "timeframes:\n  - name: hours\n    periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]\n    \
                      holidays: [{date: \"2027-01-01\", until: \"2027-01-08\"}]\n";
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
        writeln!(
            y,
            "trunks:\n  - {{name: provider, server: {name}, type: registration, host: sip.example.net, \
             username: acc{s}, secret: {{env: TRUNK_{s}}}}}\n\
             outbound_routes:\n  - {{name: out, server: {name}, trunks: [provider], patterns: [{{match: _9X., strip: 1}}]}}\n\
             inbound_routes:\n  - {{name: in, server: {name}, did: \"+1555000{s:04}\", target: {{menu: m0}}}}"
        )
        .unwrap();
        y.push_str("queues:\n");
        for q in 0..queues / servers {
            let members: Vec<String> = (0..10)
                .map(|m| format!("\"{}\"", 1000 + q * 10 + m))
                .collect();
            writeln!(
                y,
                "  - {{name: q{q}, number: \"{}\", server: {name}, members: [{}], max_wait: 300, \
                 on_timeout: {{voicemail: \"1000\"}}}}",
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

/// Runs the pipeline once; returns (validate time, validate + render time, bytes rendered).
fn pipeline(root: &Path, render: bool) -> (Duration, Duration, usize) {
    let started = Instant::now();
    let report = astbase::validate::validate_repo(root).unwrap();
    let validated = started.elapsed();
    assert!(
        report.diagnostics.is_empty(),
        "{:?}",
        report.diagnostics.first()
    );
    if !render {
        return (validated, validated, 0);
    }
    let secrets = SecretSource::with_env(root, |name| {
        Some(if name.starts_with("PIN_") {
            "1234".to_owned()
        } else {
            format!("pw-{name}")
        })
    });
    let options = RenderOptions {
        source_label: "working tree".into(),
        servers: Vec::new(),
        secrets,
        templates: astbase::render::TemplateOverrides::none(),
    };
    // As `astbase render` does: each server's output is consumed (here: measured) and
    // dropped as soon as it is ready.
    let bytes = std::sync::atomic::AtomicUsize::new(0);
    render_each(&report.fleet, &report.sources, &options, |output| {
        let size: usize = output.files.iter().map(|f| f.content.len()).sum();
        bytes.fetch_add(size, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    })
    .unwrap();
    let total = started.elapsed();
    (validated, total, bytes.into_inner())
}

/// The YAML parser alone: every event of every file, nothing built, files spread over
/// the cores as validate spreads them. No validate can be faster than this.
fn yaml_events_only(root: &Path) -> (Duration, usize) {
    let files: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let started = Instant::now();
    let events = astbase::parallel::map(&files, |text| {
        let mut parser = saphyr_parser::Parser::new_from_str(text).keep_tags(true);
        let mut n = 0;
        while let Some(event) = parser.next_event() {
            event.unwrap();
            n += 1;
        }
        n
    });
    (started.elapsed(), events.iter().sum())
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn measure(label: &str, servers: usize, extensions: usize, runs: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), servers, extensions, servers * 2, servers);
    let bytes: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let (mut validate, mut both) = (Vec::new(), Vec::new());
    let mut rendered = 0;
    for _ in 0..runs {
        let (v, t, b) = pipeline(dir.path(), true);
        validate.push(v);
        both.push(t);
        rendered = b;
    }
    validate.sort();
    both.sort();
    let mut floor: Vec<(Duration, usize)> =
        (0..runs).map(|_| yaml_events_only(dir.path())).collect();
    floor.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    // Peak memory of each stage, each in a fresh process.
    let peak = |render: bool| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--child",
                &dir.path().to_string_lossy(),
                if render { "render" } else { "validate" },
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
            / 1024
    };
    println!(
        "{label}: {servers} servers x {extensions} extensions ({:.1} MB YAML -> {:.1} MB conf)\n  \
         validate:          best {:.0} ms, median {:.0} ms, peak {} MB\n  \
         validate + render: best {:.0} ms, median {:.0} ms, peak {} MB\n  \
         floor, YAML events alone ({:.1}M events): best {:.0} ms = {:.0}% of validate",
        bytes as f64 / 1e6,
        rendered as f64 / 1e6,
        ms(validate[0]),
        ms(validate[runs / 2]),
        peak(false),
        ms(both[0]),
        ms(both[runs / 2]),
        peak(true),
        floor[0].1 as f64 / 1e6,
        ms(floor[0].0),
        100.0 * floor[0].0.as_secs_f64() / validate[0].as_secs_f64(),
    );
    both[0]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        pipeline(Path::new(&args[i + 1]), args[i + 2] == "render");
        println!("{}", peak_rss_kb());
        return;
    }
    // For profiling the CLI on the same input: `--generate DIR SERVERS`.
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let servers: usize = args[i + 2].parse().expect("SERVERS is a number");
        generate(Path::new(&args[i + 1]), servers, 1000, servers * 2, servers);
        return;
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without
    // it, where a quick smoke run is enough (and unoptimized code would be slow).
    if !args.iter().any(|a| a == "--bench") {
        measure("smoke", 2, 50, 1);
        return;
    }
    let started = Instant::now();
    jsonschema::validator_for(astbase::validate::schema::schema()).unwrap();
    println!(
        "schema validator built in {:.1} ms (once per command)",
        started.elapsed().as_secs_f64() * 1e3
    );
    let small = measure("small", 10, 1000, 5);
    let large = measure("large", 100, 1000, 3);
    println!(
        "scaling: 10x the fleet took {:.1}x the time",
        large.as_secs_f64() / small.as_secs_f64()
    );
}

// The CLI's allocator, so the numbers are the ones users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
