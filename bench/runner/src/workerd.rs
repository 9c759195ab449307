//! One Worker pair in workerd, run directly from a generated capnp config (no wrangler dev
//! proxy in front), and the process's CPU time and resident memory from /proc.

use crate::bundle::Bundle;
use crate::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Worker as workerd should load it.
pub(crate) struct WorkerSpec<'a> {
    pub(crate) bundle: &'a Bundle,
    pub(crate) vars: BTreeMap<String, String>,
}

/// What a workerd is started with for profiling (`--inspect`, `--v8-flags`).
pub(crate) struct Debugging<'a> {
    /// The inspector's address, if any.
    pub(crate) inspector: Option<&'a str>,
    /// V8 flags for every isolate.
    pub(crate) v8_flags: &'a [String],
}

/// A running workerd with an auth Worker (on `addr`) bound to an authz Worker as `AUTHZ`.
/// Killed on drop.
pub(crate) struct Workerd {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

/// CPU time (user + system) and resident memory of a process.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcSample {
    /// Clock ticks of user plus system time.
    pub(crate) cpu_ticks: u64,
    /// Resident set size in KiB.
    pub(crate) rss_kib: u64,
}

impl Workerd {
    /// Writes `dir/workerd.capnp` and starts workerd on 127.0.0.1:`port`; returns once the
    /// auth Worker answers `GET /health` (any HTTP status) or fails after 30 s.
    pub(crate) fn start(
        workerd: &Path,
        dir: &Path,
        port: u16,
        compatibility_date: &str,
        auth: &WorkerSpec<'_>,
        authz: &WorkerSpec<'_>,
        debug: &Debugging<'_>,
    ) -> Result<Self> {
        // The candidate's directory is new in a run that has never measured one.
        fs::create_dir_all(dir)?;
        let config = dir.join("workerd.capnp");
        fs::write(
            &config,
            capnp(dir, port, compatibility_date, auth, authz, debug.v8_flags),
        )?;
        let log = dir.join("workerd.log");
        let out = File::create(&log)?;
        let mut command = Command::new(workerd);
        // V8 writes its profiling logs (`--v8-flags`) to the working directory.
        command.current_dir(dir);
        command.arg("serve").arg(&config);
        if let Some(addr) = debug.inspector {
            command.arg(format!("--inspector-addr={addr}"));
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        let mut me = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        me.wait_ready()?;
        Ok(me)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait()? {
                return Err(
                    format!("workerd exited ({status}); its log:\n{}", self.log_text()).into(),
                );
            }
            if probe(self.addr).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "workerd did not answer within 30 s; its log:\n{}",
            self.log_text()
        )
        .into())
    }

    /// Where the auth Worker listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything workerd printed so far.
    pub(crate) fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process's CPU time and memory now.
    pub(crate) fn sample(&self) -> Result<ProcSample> {
        let pid = self.child.id();
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may contain spaces) start at field 3 (state);
        // utime and stime are fields 14 and 15.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .ok_or("unreadable /proc stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| -> Result<u64> {
            Ok(fields.get(i).ok_or("short /proc stat")?.parse::<u64>()?)
        };
        let cpu_ticks = tick(11)? + tick(12)?;
        let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or("no VmRSS in /proc status")?;
        Ok(ProcSample { cpu_ticks, rss_kib })
    }
}

impl Drop for Workerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn probe(addr: SocketAddr) -> Result<()> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    conn.read_exact(&mut head)?;
    if head.starts_with(b"HTTP/1.1 ") {
        Ok(())
    } else {
        Err("not an HTTP answer".into())
    }
}

/// The capnp config: both Workers, the binding, the socket and an `internet` service that may
/// reach loopback (the IdP and the origin run there; workerd refuses private addresses by
/// default).
fn capnp(
    dir: &Path,
    port: u16,
    compatibility_date: &str,
    auth: &WorkerSpec<'_>,
    authz: &WorkerSpec<'_>,
    v8_flags: &[String],
) -> String {
    let mut out = String::from("using Workerd = import \"/workerd/workerd.capnp\";\n\n");
    out.push_str("const config :Workerd.Config = (\n  services = [\n");
    out.push_str(&worker(
        dir,
        "auth",
        compatibility_date,
        auth,
        Some("authz"),
    ));
    out.push_str(&worker(dir, "authz", compatibility_date, authz, None));
    out.push_str(
        "    (name = \"internet\", network = (allow = [\"public\", \"private\", \"local\"])),\n",
    );
    out.push_str("  ],\n");
    let _ = writeln!(
        out,
        "  sockets = [(name = \"http\", address = \"127.0.0.1:{port}\", http = (), service = \"auth\")],"
    );
    if !v8_flags.is_empty() {
        let flags: Vec<String> = v8_flags.iter().map(|f| quote(f)).collect();
        let _ = writeln!(out, "  v8Flags = [{}],", flags.join(", "));
    }
    out.push_str(");\n");
    out
}

fn worker(
    config_dir: &Path,
    name: &str,
    compatibility_date: &str,
    spec: &WorkerSpec<'_>,
    binds: Option<&str>,
) -> String {
    // capnp resolves `embed` relative to the config file (absolute paths are import paths).
    let dir = relative_path(config_dir, &spec.bundle.dir);
    let mut modules = vec![format!(
        "(name = {}, esModule = embed {})",
        quote(&spec.bundle.main),
        quote(&format!("{dir}/{}", spec.bundle.main))
    )];
    for wasm in &spec.bundle.wasm {
        modules.push(format!(
            "(name = {}, wasm = embed {})",
            quote(wasm),
            quote(&format!("{dir}/{wasm}"))
        ));
    }
    let mut bindings: Vec<String> = spec
        .vars
        .iter()
        .map(|(k, v)| format!("(name = {}, text = {})", quote(k), quote(v)))
        .collect();
    if let Some(target) = binds {
        bindings.push(format!("(name = \"AUTHZ\", service = {})", quote(target)));
    }
    format!(
        "    (name = {}, worker = (\n      modules = [{}],\n      compatibilityDate = {},\n      bindings = [{}],\n    )),\n",
        quote(name),
        modules.join(", "),
        quote(compatibility_date),
        bindings.join(", ")
    )
}

/// A capnp text literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `target` as a path relative to `base` (both absolute): `../` for each component of `base`
/// below their common prefix, then the rest of `target`.
fn relative_path(base: &Path, target: &Path) -> String {
    let base: Vec<_> = base.components().collect();
    let target: Vec<_> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); base.len() - common];
    parts.extend(
        target
            .iter()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::relative_path;
    use std::path::Path;

    #[test]
    fn embed_paths_are_relative_to_the_config_directory() {
        let out = Path::new("/w/bench/out/rust");
        assert_eq!(
            relative_path(out, Path::new("/w/bench/out/rust/auth")),
            "auth"
        );
        assert_eq!(
            relative_path(
                Path::new("/w/bench/out/candidate"),
                Path::new("/tmp/c3/auth")
            ),
            "../../../../tmp/c3/auth"
        );
        assert_eq!(
            relative_path(out, Path::new("/w/bench/out/cand/authz")),
            "../cand/authz"
        );
    }
}
