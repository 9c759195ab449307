//! The run: bundles, three workerd processes (Rust pair, jose pair, pass-through floor),
//! every scenario at every concurrency against each stack in turn, the soak, the report.

use crate::ab;
use crate::bundle::{self, Bundle};
use crate::load::{self, Load, Outcome};
use crate::options::Options;
use crate::report::{self, Measurement, Report, SizeRow, Soak};
use crate::rounds;
use crate::scenarios::{self, Scenario};
use crate::workerd::{Debugging, WorkerSpec, Workerd};
use crate::Result;
use e2e::{EchoOrigin, IdentityProvider};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The three stacks, in the order they are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Rust,
    /// `--candidate DIR`: other Rust bundles, measured right after `Rust` (A/B of a lever).
    Candidate,
    Js,
    Floor,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Rust, Kind::Js, Kind::Floor];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Rust => "rust",
            Kind::Candidate => "candidate",
            Kind::Js => "jose",
            Kind::Floor => "floor",
        }
    }
}

struct Stack {
    kind: Kind,
    workerd: Workerd,
}

/// Runs everything; `Ok(true)` when every budget passed.
pub(crate) fn run(options: &Options) -> Result<bool> {
    let root = e2e::stack::workspace_root();
    let out = root.join("bench/out");
    fs::create_dir_all(&out)?;
    let workerd_bin = root.join("node_modules/@cloudflare/workerd-linux-64/bin/workerd");
    if !workerd_bin.exists() {
        return Err("workerd is not installed: run `cargo xtask setup` (it runs npm ci)".into());
    }
    let compatibility_date = compatibility_date(&root.join("wrangler.auth.toml"))?;

    eprintln!("bench: bundling the Workers (wrangler deploy --dry-run)");
    let mut bundles = bundles(&root, &out, &compatibility_date, options.reuse_bundles)?;
    if let Some(dir) = &options.candidate {
        let dir = fs::canonicalize(dir)?;
        let pair = (
            Bundle::open("auth", &dir.join("auth"))?,
            Bundle::open("authz", &dir.join("authz"))?,
        );
        bundles.insert(Kind::Candidate, pair);
    }

    let idp = IdentityProvider::start()?;
    let origin = EchoOrigin::start()?;
    idp.wait_ready();
    eprintln!("bench: minting tokens");
    let mut all = scenarios::all(&idp, options.tokens);
    if let Some(only) = &options.scenarios {
        all.retain(|s| only.iter().any(|o| o == s.name));
    }

    let secret = e2e::keys::random_hex(32);
    let mut stacks = Vec::new();
    for (&kind, (auth, authz)) in &bundles {
        let (auth_vars, authz_vars) = vars(&root, kind, &idp, &origin, &secret)?;
        let dir = out.join(kind.label());
        let port = e2e::stack::free_port()?;
        let workerd = Workerd::start(
            &workerd_bin,
            &dir,
            port,
            &compatibility_date,
            &WorkerSpec {
                bundle: auth,
                vars: auth_vars,
            },
            &WorkerSpec {
                bundle: authz,
                vars: authz_vars,
            },
            &Debugging {
                inspector: options.inspect.as_deref().filter(|_| kind == Kind::Rust),
                v8_flags: &options.v8_flags,
            },
        )?;
        stacks.push(Stack { kind, workerd });
    }
    smoke(&stacks, &all)?;

    let load_before = loadavg();
    let started = Instant::now();
    let mut measurements = Vec::new();
    for scenario in &all {
        for &concurrency in &options.concurrency {
            for _round in 0..options.rounds {
                for stack in &stacks {
                    let m = measure(options, stack, scenario, concurrency, &origin)?;
                    eprintln!(
                        "bench: {:<15} c={:<3} {:<5} {:>8.0} req/s  p50 {:>7.0} us  p99 {:>7.0} us  cpu {:>6.0} us/req{}",
                        scenario.name,
                        concurrency,
                        stack.kind.label(),
                        m.outcome.per_second(),
                        m.outcome.quantile_us(0.5),
                        m.outcome.quantile_us(0.99),
                        m.cpu_us_per_request,
                        problems(&m.outcome),
                    );
                    measurements.push(m);
                }
            }
        }
    }
    for comparison in ab::compare(&measurements) {
        eprintln!("{}", comparison.line());
    }
    let measurements = rounds::median_rounds(measurements);
    let mut soaks = Vec::new();
    if !options.soak.is_zero() {
        let requests = all
            .iter()
            .find(|s| s.name == "distinct-es256")
            .map(|s| Arc::clone(&s.requests))
            .ok_or("the soak needs the distinct-es256 scenario")?;
        // Every stack, not only the Rust pair: whether workerd's memory grows under this load
        // whatever the Workers do is what makes the Rust pair's figure readable.
        for stack in stacks.iter().filter(|s| Kind::ALL.contains(&s.kind)) {
            soaks.push(soak(options.soak, stack, Arc::clone(&requests), &origin)?);
        }
    }
    let load_after = loadavg();

    let mut sizes = Vec::new();
    for kind in Kind::ALL {
        let (auth, authz) = bundles.get(&kind).ok_or("missing bundle")?;
        for b in [auth, authz] {
            sizes.push(SizeRow {
                stack: kind,
                worker: b.name.clone(),
                wasm: b.wasm_size()?,
                upload: b.upload_size()?,
            });
        }
    }
    let report = Report {
        options: options.clone(),
        scenarios: all
            .iter()
            .map(|s| (s.name, s.what, s.repeated_token))
            .collect(),
        measurements,
        soaks,
        sizes,
        load_before,
        load_after,
        wall: started.elapsed(),
        workerd_version: command_line(&workerd_bin, &["--version"]),
        levers: fs::read_to_string(root.join("bench/levers.md")).ok(),
    };
    let (markdown, pass) = report::render(&report);
    let out_file = options
        .out
        .as_ref()
        .map_or_else(|| root.join("bench/RESULTS.md"), PathBuf::from);
    fs::write(&out_file, markdown)?;
    eprintln!("bench: wrote {}", out_file.display());
    drop(stacks);
    Ok(pass)
}

fn problems(outcome: &Outcome) -> String {
    let mut s = String::new();
    if !outcome.unexpected.is_empty() {
        s.push_str(&format!("  UNEXPECTED {:?}", outcome.unexpected));
    }
    if outcome.transport_errors > 0 {
        s.push_str(&format!("  TRANSPORT ERRORS {}", outcome.transport_errors));
    }
    s
}

/// The status a stack must answer in a scenario: the floor forwards everything.
pub(crate) fn expected(kind: Kind, scenario_expected: u16) -> u16 {
    if kind == Kind::Floor {
        200
    } else {
        scenario_expected
    }
}

fn measure(
    options: &Options,
    stack: &Stack,
    scenario: &Scenario,
    concurrency: usize,
    origin: &EchoOrigin,
) -> Result<Measurement> {
    let mut plan = Load {
        addr: stack.workerd.addr(),
        requests: Arc::clone(&scenario.requests),
        expected_status: expected(stack.kind, scenario.expected),
        concurrency,
        duration: options.warmup,
        start: 0,
    };
    if !options.warmup.is_zero() {
        plan.start = load::run(&plan).next;
    }
    origin.reset();
    plan.duration = options.duration;
    let before = stack.workerd.sample()?;
    let outcome = load::run(&plan);
    let after = stack.workerd.sample()?;
    origin.reset();
    let ticks = after.cpu_ticks.saturating_sub(before.cpu_ticks);
    let cpu_seconds = ticks as f64 / clock_ticks_per_second();
    let cpu_us_per_request = cpu_seconds * 1e6 / (outcome.responses().max(1) as f64);
    Ok(Measurement {
        scenario: scenario.name,
        concurrency,
        stack: stack.kind,
        cpu_us_per_request,
        cpu_share: cpu_seconds / outcome.elapsed.as_secs_f64().max(1e-9),
        tokens_reused: outcome.next > scenario.requests.len() && scenario.requests.len() > 1,
        outcome,
    })
}

fn soak(
    duration: Duration,
    stack: &Stack,
    requests: Arc<Vec<Vec<u8>>>,
    origin: &EchoOrigin,
) -> Result<Soak> {
    eprintln!(
        "bench: soak of the {} pair, {} s at 64 connections",
        stack.kind.label(),
        duration.as_secs()
    );
    let plan = Load {
        addr: stack.workerd.addr(),
        requests,
        expected_status: expected(stack.kind, 200),
        concurrency: 64,
        duration,
        start: 0,
    };
    let before = stack.workerd.sample()?;
    let started = Instant::now();
    let handle = thread::spawn(move || load::run(&plan));
    let mut rss_every_10s = Vec::new();
    // Bounded: the load stops by itself after `duration`; allow a minute of slack.
    while !handle.is_finished() && started.elapsed() < duration + Duration::from_secs(60) {
        thread::sleep(Duration::from_millis(500));
        // The echo origin records every request; keep its memory flat.
        origin.reset();
        let due = Duration::from_secs(10 * (rss_every_10s.len() as u64 + 1));
        if started.elapsed() >= due && due <= duration {
            rss_every_10s.push(stack.workerd.sample()?.rss_kib);
        }
    }
    let outcome = handle
        .join()
        .map_err(|_| "the soak's load thread panicked")?;
    let after = stack.workerd.sample()?;
    origin.reset();
    Ok(Soak {
        stack: stack.kind,
        duration,
        rss_start_kib: before.rss_kib,
        rss_end_kib: after.rss_kib,
        rss_every_10s_kib: rss_every_10s,
        cpu_us_per_request: (after.cpu_ticks.saturating_sub(before.cpu_ticks)) as f64
            / clock_ticks_per_second()
            * 1e6
            / outcome.responses().max(1) as f64,
        outcome,
    })
}

/// One request of every scenario against every stack must get its expected status before
/// anything is measured (the first one also makes each auth Worker fetch the key set).
fn smoke(stacks: &[Stack], all: &[Scenario]) -> Result<()> {
    for stack in stacks {
        for scenario in all {
            let plan = Load {
                addr: stack.workerd.addr(),
                requests: Arc::clone(&scenario.requests),
                expected_status: expected(stack.kind, scenario.expected),
                concurrency: 1,
                duration: Duration::from_millis(200),
                start: 0,
            };
            let outcome = load::run(&plan);
            if outcome.expected == 0
                || !outcome.unexpected.is_empty()
                || outcome.transport_errors > 0
            {
                return Err(format!(
                    "smoke check failed: {} on {}: expected {} every time, got {} expected, other statuses {:?}, {} transport errors; workerd log:\n{}",
                    scenario.name,
                    stack.kind.label(),
                    plan.expected_status,
                    outcome.expected,
                    outcome.unexpected,
                    outcome.transport_errors,
                    tail(&stack.workerd.log_text(), 3000)
                )
                .into());
            }
        }
    }
    Ok(())
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text.get(start..).unwrap_or("")
}

type Pair = (Bundle, Bundle);

fn bundles(root: &Path, out: &Path, date: &str, reuse: bool) -> Result<BTreeMap<Kind, Pair>> {
    let gen = out.join("gen");
    fs::create_dir_all(&gen)?;
    let js = root.join("bench/js");
    let mut map = BTreeMap::new();
    for kind in Kind::ALL {
        let mut pair = Vec::new();
        for worker in ["auth", "authz"] {
            let dir = out.join(kind.label()).join(worker);
            let bundle = if reuse && dir.exists() {
                Bundle::open(worker, &dir)?
            } else {
                let config = match kind {
                    Kind::Rust | Kind::Candidate => root.join(format!("wrangler.{worker}.toml")),
                    Kind::Js => bundle::js_config(
                        &gen,
                        &format!("jose-{worker}"),
                        &js.join(format!("{worker}.js")),
                        date,
                    )?,
                    Kind::Floor => bundle::js_config(
                        &gen,
                        &format!("floor-{worker}"),
                        &js.join(format!("passthrough-{worker}.js")),
                        date,
                    )?,
                };
                Bundle::build(root, worker, &config, &dir)?
            };
            pair.push(bundle);
        }
        let mut pair = pair.into_iter();
        match (pair.next(), pair.next()) {
            (Some(auth), Some(authz)) => map.insert(kind, (auth, authz)),
            _ => return Err("missing bundle".into()),
        };
    }
    Ok(map)
}

type Vars = BTreeMap<String, String>;

fn vars(
    root: &Path,
    kind: Kind,
    idp: &IdentityProvider,
    origin: &EchoOrigin,
    secret: &str,
) -> Result<(Vars, Vars)> {
    let identity: Vars = [
        ("JWKS_URL", idp.jwks_url()),
        ("ISSUER", idp.issuer()),
        ("AUDIENCE", e2e::idp::DEMO_AUDIENCE.to_string()),
        ("ALLOWED_ALGS", "ES256,EdDSA,RS256".to_string()),
        // Both designs check typ; the IdP mints "JWT".
        ("REQUIRED_TYP", "JWT".to_string()),
        ("CLOCK_SKEW_SECONDS", "60".to_string()),
        ("ROLES_CLAIM", "roles".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let origin_var: Vars = [("ORIGIN_URL".to_string(), origin.url())]
        .into_iter()
        .collect();
    Ok(match kind {
        Kind::Rust | Kind::Candidate => {
            // The shipped [vars], then the bench's values on top.
            let mut auth = toml_vars(&root.join("wrangler.auth.toml"))?;
            auth.extend(identity);
            auth.insert("CONTEXT_SECRET".to_string(), secret.to_string());
            let mut authz = toml_vars(&root.join("wrangler.authz.toml"))?;
            authz.extend(origin_var);
            authz.insert("CONTEXT_SECRET".to_string(), secret.to_string());
            (auth, authz)
        }
        Kind::Js => (identity, origin_var),
        Kind::Floor => (Vars::new(), origin_var),
    })
}

fn toml_vars(path: &Path) -> Result<Vars> {
    let value: toml::Value = fs::read_to_string(path)?.parse()?;
    let mut vars = Vars::new();
    if let Some(table) = value.get("vars").and_then(toml::Value::as_table) {
        for (k, v) in table {
            if let Some(s) = v.as_str() {
                vars.insert(k.clone(), s.to_string());
            }
        }
    }
    Ok(vars)
}

fn compatibility_date(path: &Path) -> Result<String> {
    let value: toml::Value = fs::read_to_string(path)?.parse()?;
    value
        .get("compatibility_date")
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("no compatibility_date in {}", path.display()).into())
}

fn clock_ticks_per_second() -> f64 {
    command_line(Path::new("getconf"), &["CLK_TCK"])
        .parse()
        .unwrap_or(100.0)
}

/// The first line a command prints, or "" when it cannot run.
pub(crate) fn command_line(program: &Path, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
