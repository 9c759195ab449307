//! The walls of ARCHITECTURE.md, checked from `cargo metadata` so they cannot erode silently:
//! a new dependency that breaks one fails here, with the path that breaks it.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The runtime's JS boundary: only `runtime/` and `workers/` may reach it.
const RUNTIME_CRATES: [&str; 4] = ["worker", "web-sys", "js-sys", "wasm-bindgen"];

struct Workspace {
    /// Package name → (directory relative to the root, normal dependencies by name).
    packages: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Every package's normal dependencies, workspace or not (by name).
    graph: BTreeMap<String, BTreeSet<String>>,
}

fn workspace() -> Workspace {
    let root = e2e::stack::workspace_root();
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let names: BTreeMap<String, String> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut graph = BTreeMap::new();
    for node in metadata["resolve"]["nodes"]
        .as_array()
        .expect("a resolve graph")
    {
        let name = names[node["id"].as_str().unwrap()].clone();
        let normal: BTreeSet<String> = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|dep| {
                dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|kind| kind["kind"].is_null())
            })
            .map(|dep| names[dep["pkg"].as_str().unwrap()].clone())
            .collect();
        graph.insert(name, normal);
    }
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    let root = root.to_string_lossy().into_owned();
    let packages = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| members.contains(p["id"].as_str().unwrap()))
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_owned();
            let manifest = p["manifest_path"].as_str().unwrap();
            let dir = manifest
                .strip_prefix(&root)
                .unwrap_or(manifest)
                .trim_start_matches('/')
                .trim_end_matches("Cargo.toml")
                .trim_end_matches('/')
                .to_owned();
            let deps = graph.get(&name).cloned().unwrap_or_default();
            (name, (dir, deps))
        })
        .collect();
    Workspace { packages, graph }
}

impl Workspace {
    fn in_dir(&self, dir: &str) -> Vec<&str> {
        let found: Vec<&str> = self
            .packages
            .iter()
            .filter(|(_, (d, _))| d.starts_with(dir))
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(!found.is_empty(), "no package under {dir}");
        found
    }

    /// The dependency path from `from` to `to` through normal dependencies, if there is one.
    fn path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let mut seen = BTreeSet::new();
        let mut queue = vec![vec![from.to_owned()]];
        while let Some(path) = queue.pop() {
            let last = path.last().unwrap();
            if last == to {
                return Some(path);
            }
            for next in self.graph.get(last).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    queue.push(longer);
                }
            }
        }
        None
    }

    fn assert_no_path(&self, from: &str, to: &str, wall: &str) {
        if let Some(path) = self.path(from, to) {
            panic!("{wall}: {}", path.join(" → "));
        }
    }
}

#[test]
fn the_crates_never_reach_the_runtime() {
    let ws = workspace();
    for krate in ws.in_dir("crates/") {
        for runtime in RUNTIME_CRATES {
            ws.assert_no_path(
                krate,
                runtime,
                "a crate under crates/ depends on the runtime",
            );
        }
        for other in ws
            .in_dir("runtime/")
            .into_iter()
            .chain(ws.in_dir("workers/"))
        {
            ws.assert_no_path(
                krate,
                other,
                "a crate under crates/ depends on runtime/ or workers/",
            );
        }
    }
}

#[test]
fn the_rule_table_knows_a_principal_not_a_token() {
    let ws = workspace();
    for token_side in ["jose-jwt", "jwks-cache", "edge-auth"] {
        ws.assert_no_path(
            "rule-table",
            token_side,
            "rule-table depends on the token side",
        );
    }
}

#[test]
fn the_token_crates_know_nothing_of_the_product() {
    let ws = workspace();
    for krate in ["jose-jwt", "jwks-cache"] {
        for product in ["edge-auth", "rule-table"] {
            ws.assert_no_path(krate, product, "a token crate depends on the product");
        }
    }
}

#[test]
fn the_workers_meet_only_through_the_binding() {
    let ws = workspace();
    let workers = ws.in_dir("workers/");
    assert_eq!(
        workers.len(),
        2,
        "workers/ holds the two Workers only: {workers:?}"
    );
    for a in &workers {
        for b in &workers {
            if a != b {
                ws.assert_no_path(a, b, "one Worker depends on the other");
            }
        }
    }
    for adapter in ws.in_dir("runtime/") {
        for worker in &workers {
            ws.assert_no_path(adapter, worker, "a runtime adapter depends on a Worker");
        }
    }
}

#[test]
fn the_walls_see_real_edges() {
    // Guards the test itself: if the graph were read wrongly, every wall would hold vacuously.
    let ws = workspace();
    assert!(ws.path("auth-worker", "worker").is_some());
    assert!(ws.path("auth-worker", "jose-jwt").is_some());
    assert!(ws.path("edge-auth", "rule-table").is_some());
}
