//! The scenarios: which requests each one sends and the status each stack must answer.

use e2e::{Alg, IdentityProvider};
use serde_json::json;
use std::sync::Arc;

/// One load scenario.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    pub(crate) what: &'static str,
    /// Whole HTTP/1.1 requests, sent in turn.
    pub(crate) requests: Arc<Vec<Vec<u8>>>,
    /// The status the auth/authz pairs must answer (the pass-through floor always gets 200
    /// from the origin).
    pub(crate) expected: u16,
    /// Whether this scenario's latency is held to the added-p50 budget (the repeated token).
    pub(crate) held_to_added_p50: bool,
    /// Measured on the Rust pair with the assertion on (`rust+assertion`, ES256) and, for the
    /// A/B, on the Rust pair without it; no other stack signs an assertion.
    pub(crate) assertion: bool,
}

/// Every scenario's name, in the order `all` makes them (`--scenarios` takes these).
pub(crate) const NAMES: [&str; 10] = [
    "repeated-es256",
    "distinct-es256",
    "distinct-eddsa",
    "distinct-rs256",
    "bad-signature",
    "expired",
    "forbidden",
    "anonymous",
    "deep-rule",
    "repeated-es256-assertion",
];

/// The path most scenarios request (the catch-all rule, after the project's other rules).
pub(crate) const API_PATH: &str = "/api/items";
/// The path of `forbidden` (the admin rule).
pub(crate) const FORBIDDEN_PATH: &str = "/admin/reports";
/// The path of `deep-rule`: matched only by the catch-all, after every filler rule of the
/// benchmark table.
pub(crate) const DEEP_RULE_PATH: &str = "/bench-filler/deep";
/// The paths of the scenarios other than `deep-rule`: the benchmark table must decide each
/// exactly as the project's does.
pub(crate) const PATHS: [&str; 2] = [API_PATH, FORBIDDEN_PATH];

/// Token lifetime: longer than any run, so no token expires mid-benchmark.
const LIFETIME_SECONDS: u64 = 3 * 3600;

fn request(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench-runner\r\n{auth}\r\n")
        .into_bytes()
}

fn mint(idp: &IdentityProvider, alg: Alg, sub: &str, roles: &[&str]) -> String {
    let now = e2e::idp::now();
    mint_valid_between(idp, alg, sub, roles, now, now + LIFETIME_SECONDS)
}

/// A token issued at `iat` that expires at `exp` (unix seconds).
fn mint_valid_between(
    idp: &IdentityProvider,
    alg: Alg,
    sub: &str,
    roles: &[&str],
    iat: u64,
    exp: u64,
) -> String {
    let claims = json!({"iss": idp.issuer(), "aud": e2e::idp::DEMO_AUDIENCE, "sub": sub,
                        "roles": roles, "iat": iat, "exp": exp});
    idp.mint(alg, claims)
}

/// `count` distinct ES256 tokens that expired an hour ago (well past any clock skew), each
/// correctly signed: a client replaying an old token.
fn expired_pool(idp: &IdentityProvider, count: usize) -> Vec<String> {
    let now = e2e::idp::now();
    (0..count)
        .map(|i| {
            let sub = format!("expired-user-{i}");
            mint_valid_between(idp, Alg::Es256, &sub, &["user"], now - 7200, now - 3600)
        })
        .collect()
}

/// `count` distinct tokens of `alg` (each its own `sub`), tag keeps pools apart.
fn pool(idp: &IdentityProvider, alg: Alg, tag: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| mint(idp, alg, &format!("{tag}-user-{i}"), &["user"]))
        .collect()
}

/// Every scenario, with `distinct` pre-minted tokens for each that must not share tokens.
pub(crate) fn all(idp: &IdentityProvider, distinct: usize) -> Vec<Scenario> {
    let api = API_PATH;
    let to_requests = |path: &str, tokens: &[String]| -> Arc<Vec<Vec<u8>>> {
        Arc::new(tokens.iter().map(|t| request(path, Some(t))).collect())
    };
    let repeated = mint(idp, Alg::Es256, "repeated-user", &["user"]);
    let es256 = pool(idp, Alg::Es256, "es", distinct);
    let eddsa = pool(idp, Alg::EdDsa, "ed", distinct);
    let rs256 = pool(idp, Alg::Rs256, "rs", distinct);
    let forbidden = pool(idp, Alg::Es256, "forbidden", distinct);
    // A well-formed token whose signature belongs to another token: only the signature check
    // can reject it.
    let donors = pool(idp, Alg::Es256, "donor", distinct.max(1) + 1);
    let bad: Vec<String> = pool(idp, Alg::Es256, "bad", distinct)
        .iter()
        .zip(donors.iter().skip(1))
        .map(|(token, donor)| {
            let signed = token.rsplit_once('.').map_or("", |(s, _)| s);
            let signature = donor.rsplit_once('.').map_or("", |(_, s)| s);
            format!("{signed}.{signature}")
        })
        .collect();
    vec![
        Scenario {
            name: "repeated-es256",
            what: "one ES256 token on every request, GET /api/items -> 200",
            requests: Arc::new(vec![request(api, Some(&repeated))]),
            expected: 200,
            held_to_added_p50: true,
            assertion: false,
        },
        Scenario {
            name: "distinct-es256",
            what: "distinct ES256 tokens, GET /api/items -> 200",
            requests: to_requests(api, &es256),
            expected: 200,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "distinct-eddsa",
            what: "distinct EdDSA tokens, GET /api/items -> 200",
            requests: to_requests(api, &eddsa),
            expected: 200,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "distinct-rs256",
            what: "distinct RS256 tokens, GET /api/items -> 200",
            requests: to_requests(api, &rs256),
            expected: 200,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "bad-signature",
            what: "distinct ES256 tokens with another token's signature -> 401",
            requests: to_requests(api, &bad),
            expected: 401,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "expired",
            what: "distinct correctly signed ES256 tokens that expired an hour ago -> 401",
            requests: to_requests(api, &expired_pool(idp, distinct)),
            expected: 401,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "forbidden",
            what: "distinct ES256 tokens without role admin, GET /admin/reports -> 403",
            requests: to_requests(FORBIDDEN_PATH, &forbidden),
            expected: 403,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "anonymous",
            what: "no token, GET /api/items -> 401",
            requests: Arc::new(vec![request(api, None)]),
            expected: 401,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "deep-rule",
            what: "one ES256 token on every request, GET /bench-filler/deep -> 200: only the \
                   catch-all matches, after the benchmark table's 200 filler rules, all under the \
                   same first segment (what deciding twice costs)",
            requests: Arc::new(vec![request(DEEP_RULE_PATH, Some(&repeated))]),
            expected: 200,
            held_to_added_p50: false,
            assertion: false,
        },
        Scenario {
            name: "repeated-es256-assertion",
            what: "repeated-es256 with the assertion to the origin on (ASSERTION_SIGNING_JWK, \
                   ES256): rust+assertion against rust, GET /api/items -> 200",
            requests: Arc::new(vec![request(api, Some(&repeated))]),
            expected: 200,
            held_to_added_p50: false,
            assertion: true,
        },
    ]
}

/// A request only the first filler rule matches, with a valid token lacking its role: 403
/// where the benchmark table is in effect (200 from the catch-all where it is not).
pub(crate) fn filler_probe(idp: &IdentityProvider) -> Vec<u8> {
    let token = mint(idp, Alg::Es256, "probe-user", &["user"]);
    request(crate::rules::FILLER_PROBE_PATH, Some(&token))
}
