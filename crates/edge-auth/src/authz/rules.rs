//! The rule table a Worker decides with, and its digest: both Workers compile in the same
//! table and decide with it; the auth Worker's digest travels in the context, so the authz
//! Worker can tell when the two were deployed from different tables.

use sha2::{Digest as _, Sha256};

use rule_table::RuleTable;

/// A compiled rule table and the digest of its source.
#[derive(Debug, Clone)]
pub struct Rules {
    table: RuleTable,
    digest: String,
}

impl Rules {
    /// Compiles `source` (the `rules.toml` text the Worker was built with). The build already
    /// refused an invalid table; should it still fail, the Worker answers 500 to every request.
    pub fn compile(source: &str) -> Result<Rules, String> {
        let table = RuleTable::from_toml(source)
            .map_err(|e| format!("rules.toml: {e}"))?
            .table;
        let hash = Sha256::digest(source.as_bytes());
        // 96 bits tell tables apart; the digest is an identity, not a secret.
        let digest = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
        Ok(Rules { table, digest })
    }

    /// The table.
    pub fn table(&self) -> &RuleTable {
        &self.table
    }

    /// The digest of the source: 24 lowercase hex digits.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}
