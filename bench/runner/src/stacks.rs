//! The run: the benchmark rule table, bundles, four workerd processes (Rust pair, hardened
//! jose pair, seed jose pair, pass-through floor), every scenario at every concurrency against
//! each stack in turn, the soak, the report and its chart.

use crate::ab;
use crate::bundle::{self, Bundle};
use crate::load::{self, Load, Outcome};
use crate::options::Options;
use crate::report::{self, LeftOut, Measurement, Report, SizeRow, Soak, TableProbe};
use crate::rounds;
use crate::rules::{self, Generated};
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

/// The stacks, in the order they are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Rust,
    /// `--candidate DIR`: other Rust bundles, measured next to `Rust` (A/B of a lever).
    Candidate,
    /// The Rust bundles with the assertion to the origin on (an ES256 `ASSERTION_SIGNING_JWK`),
    /// only for the scenarios that ask for it.
    RustAssertion,
    /// The jose design given edge-auth's guarantees (`js/hardened-*.js`).
    Hardened,
    /// The seed jose design as written (`js/auth.js`, `js/authz.js`).
    Js,
    Floor,
}

impl Kind {
    /// Whether this stack measures `scenario`: the assertion stack only the assertion
    /// scenarios, which only it and the Rust pair (their A/B) measure.
    pub(crate) fn measures(self, scenario: &Scenario) -> bool {
        match self {
            Kind::RustAssertion => scenario.assertion,
            Kind::Rust => true,
            _ => !scenario.assertion,
        }
    }

    /// Every stack of a run but the optional candidate.
    pub(crate) const ALL: [Kind; 4] = [Kind::Rust, Kind::Hardened, Kind::Js, Kind::Floor];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Rust => "rust",
            Kind::Candidate => "candidate",
            Kind::RustAssertion => "rust+assertion",
            Kind::Hardened => "hardened",
            Kind::Js => "jose",
            Kind::Floor => "floor",
        }
    }
}

struct Stack {
    kind: Kind,
    workerd: Workerd,
}

/// The order in which round `round` measures `kinds` (indices into it): the stacks as
/// started, rotated by one place per round, so that no stack is always the first measured
/// after a switch of scenario or concurrency (or always the last), which would fold a position
/// effect into its figures. The Rust pair keeps its paired stacks (`--candidate`,
/// `rust+assertion`) next to it in every round, since their A/B differences are per round:
/// after it in even rounds, before it in odd ones (an A/A run, the same bundles as candidate,
/// measured the second of the two ~10 µs lower per request in 5 of 5 rounds).
fn round_order(kinds: &[Kind], round: usize) -> Vec<usize> {
    let mut units: Vec<Vec<usize>> = Vec::new();
    for (index, kind) in kinds.iter().enumerate() {
        match (kind, units.last_mut()) {
            (Kind::Candidate | Kind::RustAssertion, Some(unit)) => unit.push(index),
            _ => units.push(vec![index]),
        }
    }
    if round % 2 == 1 {
        for unit in &mut units {
            // The Rust pair's unit; a lone stack is unchanged.
            unit.rotate_left(1);
        }
    }
    if !units.is_empty() {
        let shift = round % units.len();
        units.rotate_left(shift);
    }
    units.into_iter().flatten().collect()
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

    let table = rules::generate(&root, &out)?;
    eprintln!(
        "bench: bundling the Workers (wrangler deploy --dry-run; the Rust pair with {}={})",
        rules::RULES_ENV,
        table.toml.display()
    );
    let mut bundles = bundles(
        &root,
        &out,
        &compatibility_date,
        options.reuse_bundles,
        &table,
    )?;
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
    let names: Vec<&str> = all.iter().map(|s| s.name).collect();
    if names != scenarios::NAMES {
        return Err(format!("scenarios::NAMES is not the list of scenarios: {names:?}").into());
    }
    // The soak's load, whichever scenarios are measured.
    let soak_requests = all
        .iter()
        .find(|s| s.name == "distinct-es256")
        .map(|s| Arc::clone(&s.requests))
        .ok_or("the soak needs the distinct-es256 scenario")?;
    let mut left_out = Vec::new();
    if let Some(only) = &options.scenarios {
        let (run, out): (Vec<Scenario>, Vec<Scenario>) = all
            .into_iter()
            .partition(|s| only.iter().any(|o| o == s.name));
        all = run;
        left_out = out
            .iter()
            .map(|s| LeftOut {
                name: s.name,
                held_to_added_p50: s.held_to_added_p50,
                assertion: s.assertion,
            })
            .collect();
    }

    if all.iter().any(|s| s.assertion) {
        let rust = bundles.get(&Kind::Rust).ok_or("missing bundle")?.clone();
        bundles.insert(Kind::RustAssertion, rust);
    }
    let secret = e2e::keys::random_hex(32);
    let assertion_key = e2e::AssertionKey::p256().var().1;
    let mut stacks = Vec::new();
    for (&kind, (auth, authz)) in &bundles {
        let (auth_vars, authz_vars) = vars(&root, kind, &idp, &origin, &secret, &assertion_key)?;
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
    let tables = table_probe(&stacks, scenarios::filler_probe(&idp));

    let load_before = loadavg();
    let started = Instant::now();
    let mut measurements = Vec::new();
    for scenario in &all {
        for &concurrency in &options.concurrency {
            for round in 0..options.rounds {
                let kinds: Vec<Kind> = stacks.iter().map(|s| s.kind).collect();
                for index in round_order(&kinds, round) {
                    let Some(stack) = stacks.get(index) else {
                        continue;
                    };
                    if !stack.kind.measures(scenario) {
                        continue;
                    }
                    let m = measure(options, stack, scenario, concurrency, &origin)?;
                    eprintln!(
                        "bench: {:<15} c={:<3} {:<9} {:>8.0} req/s  p50 {:>7.0} us  p99 {:>7.0} us  cpu {:>6.0} us/req{}",
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
    let comparisons = ab::compare(&measurements);
    for comparison in &comparisons {
        eprintln!("{}", comparison.line());
    }
    let measurements = rounds::median_rounds(measurements);
    let mut soaks = Vec::new();
    if !options.soak.is_zero() {
        // Every stack, not only the Rust pair: whether workerd's memory grows under this load
        // whatever the Workers do is what makes the Rust pair's figure readable.
        for stack in stacks.iter().filter(|s| Kind::ALL.contains(&s.kind)) {
            soaks.push(soak(
                options.soak,
                stack,
                Arc::clone(&soak_requests),
                &origin,
            )?);
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
            .map(|s| (s.name, s.what, s.held_to_added_p50))
            .collect(),
        measurements,
        comparisons,
        left_out,
        tables,
        soaks,
        sizes,
        load_before,
        load_after,
        wall: started.elapsed(),
        workerd_version: command_line(&workerd_bin, &["--version"]),
        levers: fs::read_to_string(root.join("bench/levers.md")).ok(),
    };
    let out_file = options
        .out
        .as_ref()
        .map_or_else(|| root.join("bench/RESULTS.md"), PathBuf::from);
    // The chart sits beside the report, which links it by file name.
    let chart_file = out_file.with_extension("svg");
    let chart_name = chart_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or("--out needs a file name")?;
    let (markdown, pass) = report::render(&report, &chart_name);
    fs::write(&out_file, markdown)?;
    fs::write(&chart_file, report::svg(&report))?;
    eprintln!(
        "bench: wrote {} and {}",
        out_file.display(),
        chart_file.display()
    );
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
        for scenario in all.iter().filter(|s| stack.kind.measures(s)) {
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

fn bundles(
    root: &Path,
    out: &Path,
    date: &str,
    reuse: bool,
    table: &Generated,
) -> Result<BTreeMap<Kind, Pair>> {
    let gen = out.join("gen");
    fs::create_dir_all(&gen)?;
    let js = root.join("bench/js");
    let rules_env = [(rules::RULES_ENV, table.toml.as_os_str())];
    let mut map = BTreeMap::new();
    for kind in Kind::ALL {
        let mut pair = Vec::new();
        for worker in ["auth", "authz"] {
            let dir = out.join(kind.label()).join(worker);
            let bundle = if reuse && dir.exists() {
                Bundle::open(worker, &dir)?
            } else {
                let js_config = |main: &Path| {
                    bundle::js_config(&gen, &format!("{}-{worker}", kind.label()), main, date)
                };
                let (config, env): (PathBuf, &[_]) = match (kind, worker) {
                    // The project's own configs: their [build] compiles the table named by
                    // the environment into both Workers.
                    (Kind::Rust | Kind::Candidate | Kind::RustAssertion, _) => {
                        (root.join(format!("wrangler.{worker}.toml")), &rules_env)
                    }
                    (Kind::Hardened, "auth") => (js_config(&js.join("hardened-auth.js"))?, &[]),
                    (Kind::Hardened, _) => (js_config(&table.hardened_authz)?, &[]),
                    (Kind::Js, "auth") => (js_config(&js.join("auth.js"))?, &[]),
                    (Kind::Js, _) => (js_config(&table.jose_authz)?, &[]),
                    (Kind::Floor, _) => (
                        js_config(&js.join(format!("passthrough-{worker}.js")))?,
                        &[],
                    ),
                };
                Bundle::build(root, worker, &config, &dir, env)?
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

/// Whether each stack decides with the benchmark rule table: a request only its first filler
/// rule matches, with a token lacking that rule's role, must be refused (403; the floor
/// forwards it). A Rust build that ignored the table would answer 200 from the catch-all, and
/// `deep-rule` would measure a short table.
fn table_probe(stacks: &[Stack], probe: Vec<u8>) -> Vec<TableProbe> {
    let requests = Arc::new(vec![probe]);
    stacks
        .iter()
        .filter(|s| s.kind != Kind::Floor)
        .map(|stack| {
            let outcome = load::run(&Load {
                addr: stack.workerd.addr(),
                requests: Arc::clone(&requests),
                expected_status: 403,
                concurrency: 1,
                duration: Duration::from_millis(100),
                start: 0,
            });
            TableProbe {
                stack: stack.kind,
                in_effect: outcome.expected > 0
                    && outcome.unexpected.is_empty()
                    && outcome.transport_errors == 0,
                statuses: outcome.unexpected.keys().copied().collect(),
            }
        })
        .collect()
}

type Vars = BTreeMap<String, String>;

fn vars(
    root: &Path,
    kind: Kind,
    idp: &IdentityProvider,
    origin: &EchoOrigin,
    secret: &str,
    assertion_jwk: &str,
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
        Kind::Rust | Kind::Candidate | Kind::RustAssertion => {
            // The shipped [vars], then the bench's values on top.
            let mut auth = toml_vars(&root.join("wrangler.auth.toml"))?;
            auth.extend(identity);
            auth.insert("CONTEXT_SECRET".to_string(), secret.to_string());
            let mut authz = toml_vars(&root.join("wrangler.authz.toml"))?;
            authz.extend(origin_var);
            authz.insert("CONTEXT_SECRET".to_string(), secret.to_string());
            if kind == Kind::RustAssertion {
                authz.insert(
                    "ASSERTION_SIGNING_JWK".to_string(),
                    assertion_jwk.to_string(),
                );
            }
            (auth, authz)
        }
        Kind::Hardened => {
            let secret = ("CONTEXT_SECRET".to_string(), secret.to_string());
            let mut auth = identity;
            auth.insert(secret.0.clone(), secret.1.clone());
            let mut authz = origin_var;
            authz.insert(secret.0, secret.1);
            authz.insert("CONTEXT_MAX_AGE_SECONDS".to_string(), "60".to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_starts_with_the_next_stack_and_paired_stacks_follow_rust() {
        let kinds = [
            Kind::Rust,
            Kind::Candidate,
            Kind::RustAssertion,
            Kind::Hardened,
            Kind::Js,
            Kind::Floor,
        ];
        // The paired stacks go after the Rust pair in even rounds, before it in odd ones.
        assert_eq!(round_order(&kinds, 0), [0, 1, 2, 3, 4, 5]);
        assert_eq!(round_order(&kinds, 1), [3, 4, 5, 1, 2, 0]);
        assert_eq!(round_order(&kinds, 2), [4, 5, 0, 1, 2, 3]);
        assert_eq!(round_order(&kinds, 3), [5, 1, 2, 0, 3, 4]);
        assert_eq!(round_order(&kinds, 4), [0, 1, 2, 3, 4, 5]);
        let pair = [Kind::Rust, Kind::Candidate];
        assert_eq!(round_order(&pair, 1), [1, 0]);
        // Over as many rounds as stacks, each is first once.
        let plain = [Kind::Rust, Kind::Hardened, Kind::Js, Kind::Floor];
        let firsts: Vec<usize> = (0..4).map(|r| round_order(&plain, r)[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 3]);
        assert!(round_order(&[], 3).is_empty());
    }
}
