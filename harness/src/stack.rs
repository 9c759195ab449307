//! Runs both Workers in workerd with `wrangler dev`, configured from the project's own wrangler
//! files, and makes sure nothing outlives the test process.

use crate::gateway::FakeGateway;
use crate::http::Request;
use crate::idp::{IdentityProvider, DEMO_AUDIENCE};
use crate::keys;
use crate::origin::EchoOrigin;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The Access team domain the harness configures ([`StackConfig::access`]).
pub const ACCESS_TEAM_DOMAIN: &str = "e2e-team.cloudflareaccess.com";

/// How long the Workers may take to answer their first request.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs the command given as its arguments in the background, then blocks on stdin. When the
/// test process closes the pipe — by dropping the [`Stack`], by exiting, by panicking or by being
/// killed — it terminates its whole process group (wrangler, workerd and itself): TERM first,
/// KILL after 5 s at most. This is what keeps a `static` shared stack from outliving the tests.
const WATCHDOG: &str = r#""$@" </dev/null &
child=$!
trap '' TERM INT
while read -r _; do :; done
kill -TERM 0 2>/dev/null
(sleep 5; kill -KILL 0) &
wait "$child"
kill -KILL 0"#;

/// Variables for the two Workers.
#[derive(Debug, Clone)]
pub struct StackConfig {
    auth: BTreeMap<String, String>,
    authz: BTreeMap<String, String>,
    port: Option<u16>,
    authz_only: bool,
    services: Vec<ServiceWorker>,
}

/// One more Worker in the stack, a plain JavaScript module, bound to the auth Worker by a
/// `[[services]]` entry (the way a deployment binds, for example, a key-set service).
#[derive(Debug, Clone)]
pub struct ServiceWorker {
    /// The binding name in the auth Worker's `env`.
    pub binding: String,
    /// The Worker's script (an ES module with a default `fetch` export).
    pub script: PathBuf,
    /// Its `[vars]`.
    pub vars: BTreeMap<String, String>,
}

impl StackConfig {
    /// The standard set-up: tokens from `idp` (`JWKS_URL`, `ISSUER`, `AUDIENCE` =
    /// [`DEMO_AUDIENCE`]), requests forwarded to `origin`, and a fresh random `CONTEXT_SECRET`
    /// shared by both Workers.
    pub fn demo(idp: &IdentityProvider, origin: &EchoOrigin) -> Self {
        let secret = keys::random_hex(32);
        let auth = [
            ("JWKS_URL", idp.jwks_url()),
            ("ISSUER", idp.issuer()),
            ("AUDIENCE", DEMO_AUDIENCE.to_string()),
            ("CONTEXT_SECRET", secret.clone()),
        ];
        let authz = [("ORIGIN_URL", origin.url()), ("CONTEXT_SECRET", secret)];
        Self {
            auth: auth.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            authz: authz.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            port: None,
            authz_only: false,
            services: Vec::new(),
        }
    }

    /// Cloudflare Access as the token source (`ACCESS_TEAM_DOMAIN`), its keys and issuer from
    /// `idp`: tokens come from `Cf-Access-Jwt-Assertion` or the `CF_Authorization` cookie (and
    /// still from `Authorization: Bearer`).
    pub fn access(self, idp: &IdentityProvider) -> Self {
        self.auth_var("ACCESS_TEAM_DOMAIN", ACCESS_TEAM_DOMAIN)
            .auth_var("JWKS_URL", idp.access_certs_url())
            .auth_var("ISSUER", idp.issuer())
    }

    /// The shipped table's `[upstream.ai]` pointed at `gateway` (`AI_GATEWAY_URL`) with its
    /// bearer secret `token` (`CF_AI_GATEWAY_TOKEN`, `None`: not set).
    pub fn ai_gateway(self, gateway: &FakeGateway, token: Option<&str>) -> Self {
        let config = self.authz_var("AI_GATEWAY_URL", gateway.url());
        match token {
            Some(token) => config.authz_var("CF_AI_GATEWAY_TOKEN", token),
            None => config,
        }
    }

    /// Adds a Worker running `script` (a path relative to the workspace root, or absolute) with
    /// `vars`, bound to the auth Worker as `binding`.
    pub fn service(
        mut self,
        binding: &str,
        script: impl Into<PathBuf>,
        vars: &[(&str, String)],
    ) -> Self {
        self.services.push(ServiceWorker {
            binding: binding.to_string(),
            script: script.into(),
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        });
        self
    }

    /// Sets (or overrides) a variable of the auth Worker.
    pub fn auth_var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.auth.insert(name.to_string(), value.into());
        self
    }

    /// Sets (or overrides) a variable of the authz Worker.
    pub fn authz_var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.authz.insert(name.to_string(), value.into());
        self
    }

    /// Removes a variable of the auth Worker.
    pub fn without_auth_var(mut self, name: &str) -> Self {
        self.auth.remove(name);
        self
    }

    /// Listens on this port instead of a free one (for the demo).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Runs the authz Worker alone as the entry, as if someone had given it a public route by
    /// mistake: what does it do with identity nobody verified?
    pub fn authz_only(mut self) -> Self {
        self.authz_only = true;
        self
    }

    /// The auth Worker's variables.
    pub fn auth_vars(&self) -> &BTreeMap<String, String> {
        &self.auth
    }

    /// The authz Worker's variables.
    pub fn authz_vars(&self) -> &BTreeMap<String, String> {
        &self.authz
    }
}

/// Both Workers running under one `wrangler dev`; stopped (whole process group) on drop.
pub struct Stack {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    log_path: PathBuf,
    // Holds the generated configs and wrangler's state; removed on drop.
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Writes the generated wrangler configs, starts `wrangler dev` and waits until the auth
    /// Worker answers. Fails with wrangler's output if it does not within 90 s.
    pub fn start(config: StackConfig) -> io::Result<Stack> {
        let root = workspace_root();
        let wrangler = root.join("node_modules/.bin/wrangler");
        if !wrangler.exists() {
            return Err(io::Error::other(
                "wrangler is not installed: run `cargo xtask setup` (it runs npm ci)",
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("edge-auth-e2e-")
            .tempdir()?;
        let auth_toml = dir.path().join("auth.toml");
        let authz_toml = dir.path().join("authz.toml");
        let (auth, authz) = (&config.auth, &config.authz);
        let mut auth_config = worker_config(&root, dir.path(), "auth", auth)?;
        let mut service_tomls = Vec::new();
        for (index, service) in config.services.iter().enumerate() {
            let name = format!("edge-auth-e2e-service-{index}");
            let toml_path = dir.path().join(format!("service-{index}.toml"));
            fs::write(
                &toml_path,
                service_config(&root, dir.path(), &name, service)?,
            )?;
            auth_config = with_service_binding(&auth_config, &service.binding, &name)?;
            service_tomls.push(toml_path);
        }
        fs::write(&auth_toml, auth_config)?;
        fs::write(
            &authz_toml,
            worker_config(&root, dir.path(), "authz", authz)?,
        )?;

        let port = match config.port {
            Some(port) => port,
            None => free_port()?,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_path = dir.path().join("wrangler.log");
        let log = fs::File::create(&log_path)?;
        // The first config is the entry Worker.
        let mut configs: Vec<&Path> = if config.authz_only {
            vec![Path::new("-c"), &authz_toml]
        } else {
            vec![Path::new("-c"), &auth_toml, Path::new("-c"), &authz_toml]
        };
        for toml_path in &service_tomls {
            configs.extend([Path::new("-c"), toml_path.as_path()]);
        }
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(&wrangler)
            .arg("dev")
            .args(configs)
            .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-port", &free_port()?.to_string()])
            .arg("--persist-to")
            .arg(dir.path().join("state"))
            .args(["--log-level", "log", "--show-interactive-dev-session=false"])
            .current_dir(dir.path())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("WRANGLER_LOG_PATH", dir.path().join("wrangler-debug"))
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            // Its own process group, so the watchdog's `kill 0` reaches only the stack.
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take();
        let mut stack = Stack {
            child,
            stdin,
            addr,
            log_path,
            _dir: dir,
        };
        stack.wait_ready()?;
        Ok(stack)
    }

    fn wait_ready(&mut self) -> io::Result<()> {
        let started = Instant::now();
        let mut probe_timeout = Duration::from_millis(750);
        while started.elapsed() < START_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "wrangler exited ({status}) before answering; its output:\n{}",
                    self.log()
                )));
            }
            // Any HTTP answer means the Workers are loaded. A request that arrives while wrangler
            // is still starting can be held for seconds while a fresh one is answered at once, so
            // probes time out early; the limit grows in case the machine is just slow.
            let probe = Request::new(self.addr, "GET", "/health").timeout(probe_timeout);
            match probe.try_send() {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    probe_timeout = (probe_timeout * 2).min(Duration::from_secs(8));
                }
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(io::Error::other(format!(
            "the Workers did not answer on {} within {} s; wrangler's output:\n{}",
            self.addr,
            START_TIMEOUT.as_secs(),
            self.log()
        )))
    }

    /// The address the auth Worker listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything wrangler and the Workers printed so far (the Workers' JSON log lines included).
    pub fn log(&self) -> String {
        fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Where that output is written (removed when the stack stops).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// A request to the auth Worker; see [`Request`].
    pub fn request(&self, method: &str, target: &str) -> Request {
        Request::new(self.addr, method, target)
    }

    /// A `GET` to the auth Worker.
    pub fn get(&self, target: &str) -> Request {
        self.request("GET", target)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // Closing the pipe is the signal the watchdog waits for.
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The watchdog itself is stuck: kill the whole group directly.
        let _ = Command::new("kill")
            .args(["-KILL", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// The workspace root (this package's parent directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The generated config of one Worker: the project's `wrangler.<name>.toml` with `main` pointing
/// at a snapshot of the build output in `snapshot_dir` (wrangler reloads a Worker whose files
/// change, and a reload would empty its per-isolate caches mid-test if the Workers were rebuilt
/// meanwhile), `[build]` removed (the Workers are built beforehand) and `[vars]` replaced.
fn worker_config(
    root: &Path,
    snapshot_dir: &Path,
    name: &str,
    vars: &BTreeMap<String, String>,
) -> io::Result<String> {
    let source = root.join(format!("wrangler.{name}.toml"));
    let text = fs::read_to_string(&source)?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e| io::Error::other(format!("{}: {e}", source.display())))?;
    let main = table
        .get("main")
        .and_then(toml::Value::as_str)
        .ok_or_else(|| io::Error::other(format!("{} has no `main`", source.display())))?;
    let main = root.join(main);
    if !main.exists() {
        return Err(io::Error::other(format!(
            "{} is missing: build the Workers first: cargo xtask build",
            main.display()
        )));
    }
    let build_dir = main
        .parent()
        .ok_or_else(|| io::Error::other(format!("{} has no directory", main.display())))?;
    let snapshot = snapshot_dir.join(format!("{name}-build"));
    copy_dir(build_dir, &snapshot)?;
    let main = snapshot.join(main.strip_prefix(build_dir).map_err(io::Error::other)?);
    table.insert(
        "main".into(),
        toml::Value::String(main.to_string_lossy().into_owned()),
    );
    table.remove("build");
    let vars = vars
        .iter()
        .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
        .collect();
    table.insert("vars".into(), toml::Value::Table(vars));
    toml::to_string(&table).map_err(io::Error::other)
}

/// The config of a [`ServiceWorker`]: its script copied into `snapshot_dir`, the auth
/// Worker's compatibility date, its `[vars]`.
fn service_config(
    root: &Path,
    snapshot_dir: &Path,
    name: &str,
    service: &ServiceWorker,
) -> io::Result<String> {
    let script = root.join(&service.script);
    let file_name = script
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{} is not a file", script.display())))?;
    let copy = snapshot_dir.join(format!("{name}-{}", file_name.to_string_lossy()));
    fs::copy(&script, &copy).map_err(|e| io::Error::other(format!("{}: {e}", script.display())))?;
    let auth: toml::Table = fs::read_to_string(root.join("wrangler.auth.toml"))?
        .parse()
        .map_err(io::Error::other)?;
    let mut table = toml::Table::new();
    table.insert("name".into(), toml::Value::String(name.to_string()));
    table.insert(
        "main".into(),
        toml::Value::String(copy.to_string_lossy().into_owned()),
    );
    if let Some(date) = auth.get("compatibility_date") {
        table.insert("compatibility_date".into(), date.clone());
    }
    let vars = service
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
        .collect();
    table.insert("vars".into(), toml::Value::Table(vars));
    toml::to_string(&table).map_err(io::Error::other)
}

/// `config` (a generated Worker config) with one more `[[services]]` entry.
fn with_service_binding(config: &str, binding: &str, service: &str) -> io::Result<String> {
    let mut table: toml::Table = config.parse().map_err(io::Error::other)?;
    let mut entry = toml::Table::new();
    entry.insert("binding".into(), toml::Value::String(binding.to_string()));
    entry.insert("service".into(), toml::Value::String(service.to_string()));
    match table
        .entry("services")
        .or_insert_with(|| toml::Value::Array(Vec::new()))
    {
        toml::Value::Array(services) => services.push(toml::Value::Table(entry)),
        _ => return Err(io::Error::other("`services` is not an array")),
    }
    toml::to_string(&table).map_err(io::Error::other)
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_config_keeps_bindings_and_replaces_vars_and_build() {
        let root = workspace_root();
        let vars = BTreeMap::from([("ISSUER".to_string(), "http://i".to_string())]);
        let snapshot = tempfile::tempdir().unwrap();
        match worker_config(&root, snapshot.path(), "auth", &vars) {
            Ok(text) => {
                let t: toml::Table = text.parse().unwrap();
                assert!(t.get("build").is_none());
                assert_eq!(t["vars"]["ISSUER"].as_str(), Some("http://i"));
                assert!(t["vars"].get("JWKS_URL").is_none());
                assert_eq!(t["services"][0]["service"].as_str(), Some("edge-authz"));
                let main = Path::new(t["main"].as_str().unwrap());
                assert!(main.is_absolute() && main.starts_with(snapshot.path()));
                assert!(main.exists(), "the build output is copied");
            }
            // Without built Workers the error must say what to do.
            Err(e) => assert!(e.to_string().contains("cargo xtask build"), "{e}"),
        }
    }
}
