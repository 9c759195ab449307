//! Signing the assertion with the isolate's key through WebCrypto.

use crate::isolate::Isolate;
use edge_auth::UnsignedAssertion;
use jose_jwt::sign::SigningAlgorithm;

/// The compact JWS of `unsigned`, or the log line's reason code. Why it failed goes to the log
/// as its own event, naming the variable that holds the key (never the key).
pub(crate) async fn assertion(
    isolate: &Isolate,
    unsigned: &UnsignedAssertion,
    request_id: &str,
) -> Result<String, &'static str> {
    let Some(config) = isolate.config.assertion() else {
        return Err("assertion_not_configured");
    };
    let variable = match config.key().algorithm() {
        SigningAlgorithm::Hs512 => "ASSERTION_SECRET",
        SigningAlgorithm::EdDsa | SigningAlgorithm::Es256 => "ASSERTION_SIGNING_JWK",
    };
    let signature = isolate
        .signer
        .sign(config.key(), unsigned.signing_input().as_bytes())
        .await
        .map_err(|e| {
            let detail = format!("the assertion could not be signed with {variable}: {e}");
            worker_glue::log_event(request_id, "assertion_error", e.code(), &detail);
            "assertion_signing_failed"
        })?;
    unsigned
        .compact(&signature)
        .ok_or("assertion_signing_failed")
}
