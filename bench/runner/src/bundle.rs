//! Upload bundles: `wrangler deploy --dry-run --outdir` for each Worker, and their sizes.

use crate::Result;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One Worker's bundle as wrangler would upload it.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    /// The Worker's name in reports.
    pub(crate) name: String,
    /// The directory wrangler wrote.
    pub(crate) dir: PathBuf,
    /// The main ES module (file name inside `dir`).
    pub(crate) main: String,
    /// Wasm modules (file names inside `dir`).
    pub(crate) wasm: Vec<String>,
}

/// Raw and gzip sizes in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Size {
    pub(crate) raw: u64,
    pub(crate) gzip: u64,
}

impl Bundle {
    /// Runs wrangler's dry run for `config` into `dir` (emptied first), with `env` added to
    /// its environment (the `[build]` command it runs inherits it). `root` is the workspace,
    /// where wrangler is installed and relative paths in `config` resolve.
    pub(crate) fn build(
        root: &Path,
        name: &str,
        config: &Path,
        dir: &Path,
        env: &[(&str, &OsStr)],
    ) -> Result<Self> {
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        let wrangler = root.join("node_modules/.bin/wrangler");
        if !wrangler.exists() {
            return Err(
                "wrangler is not installed: run `cargo xtask setup` (it runs npm ci)".into(),
            );
        }
        let output = Command::new(wrangler)
            .current_dir(root)
            .args(["deploy", "--dry-run", "--outdir"])
            .arg(dir)
            .arg("-c")
            .arg(config)
            .env("WRANGLER_SEND_METRICS", "false")
            .envs(env.iter().copied())
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "wrangler deploy --dry-run failed for {name}:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Self::open(name, dir)
    }

    /// Reads a bundle directory wrangler wrote earlier.
    pub(crate) fn open(name: &str, dir: &Path) -> Result<Self> {
        let mut scripts = Vec::new();
        let mut wasm = Vec::new();
        for entry in fs::read_dir(dir)? {
            let file = entry?.file_name().to_string_lossy().into_owned();
            if file.ends_with(".wasm") {
                wasm.push(file);
            } else if file.ends_with(".js") || file.ends_with(".mjs") {
                scripts.push(file);
            }
        }
        wasm.sort();
        scripts.sort();
        let main = match scripts.as_slice() {
            [one] => one.clone(),
            _ => {
                return Err(format!(
                    "expected one script in the bundle of {name}, found {scripts:?}"
                )
                .into())
            }
        };
        Ok(Self {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            main,
            wasm,
        })
    }

    /// Size of the whole upload (script and Wasm modules).
    pub(crate) fn upload_size(&self) -> Result<Size> {
        let mut total = Size::default();
        for file in std::iter::once(&self.main).chain(&self.wasm) {
            let size = file_size(&self.dir.join(file))?;
            total.raw += size.raw;
            total.gzip += size.gzip;
        }
        Ok(total)
    }

    /// Size of the Wasm modules alone (zero for a JS Worker).
    pub(crate) fn wasm_size(&self) -> Result<Size> {
        let mut total = Size::default();
        for file in &self.wasm {
            let size = file_size(&self.dir.join(file))?;
            total.raw += size.raw;
            total.gzip += size.gzip;
        }
        Ok(total)
    }
}

fn file_size(path: &Path) -> Result<Size> {
    let bytes = fs::read(path)?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&bytes)?;
    let gzip = gz.finish()?.len();
    Ok(Size {
        raw: bytes.len() as u64,
        gzip: gzip as u64,
    })
}

/// Writes a minimal wrangler config for a JS Worker of the bench (no bindings: the bundle
/// does not depend on them; workerd gets them from the generated capnp config).
pub(crate) fn js_config(
    dir: &Path,
    name: &str,
    main: &Path,
    compatibility_date: &str,
) -> Result<PathBuf> {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "name = {}\nmain = {}\ncompatibility_date = {}\n",
        toml_str(name),
        toml_str(&main.to_string_lossy()),
        toml_str(compatibility_date)
    );
    fs::write(&path, text)?;
    Ok(path)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
