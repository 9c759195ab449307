//! What a pipeline learned about a request, for its log line, and the refusal it ends with.
//!
//! Both pipelines return the same two shapes, so a Worker turns any answer into a response and
//! a log line the same way, whichever step refused.

use jose_jwt::TokenAlgorithm;

use crate::{
    error_response, Challenge, ContextNotes, EmailWithheld, ErrorResponse, LogLineBuilder,
    Rejection, Rules,
};

/// The facts a log line may carry about a request: never a token, a signature or a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// The token header's `kid`.
    pub kid: Option<String>,
    /// The token header's `alg` (a signature or a shared-secret algorithm).
    pub alg: Option<TokenAlgorithm>,
    /// The verified subject.
    pub sub: Option<String>,
    /// The token was verified earlier in this isolate (no signature check this time).
    pub cached: bool,
    /// Why the token's e-mail address was not forwarded.
    pub email_withheld: Option<EmailWithheld>,
    /// The normalized path the decision was made on.
    pub path: Option<String>,
    /// The rule that decided: its 1-based index in the table, and its name.
    pub rule: Option<(usize, String)>,
    /// The auth Worker decided with another rule table (deployed without the authz Worker).
    pub rules_mismatch: bool,
    /// The rule the auth Worker's decision matched, as its context says (authz Worker only).
    pub first_hop_rule: Option<usize>,
    /// The upstream the rule sent the request to (`None`: the default target).
    pub upstream: Option<String>,
    /// The variable, secret or upstream header a configuration problem is about (a name from
    /// the rule table, never a value).
    pub config_name: Option<String>,
    /// A fixed code refining the reason (e.g. which URL rule a `url_var` breaks).
    pub config_problem: Option<&'static str>,
}

impl RequestFacts {
    /// What the auth Worker passes on in the context: the facts the authz Worker's log line
    /// needs (it writes the request's one line), and the digest of the rules it decided with.
    pub fn context_notes(&self, rules: &Rules) -> ContextNotes {
        ContextNotes {
            rules: Some(rules.digest().to_owned()),
            rule: self.rule.as_ref().map(|(index, _)| *index),
            kid: self.kid.clone(),
            alg: self.alg.map(|alg| alg.as_str().to_owned()),
            cached: self.cached,
            email_withheld: self.email_withheld.map(|reason| reason.code().to_owned()),
        }
    }

    /// `log` with every fact known here.
    pub fn annotate(&self, mut log: LogLineBuilder) -> LogLineBuilder {
        if let Some(path) = &self.path {
            log = log.path(path);
        }
        if let Some(kid) = &self.kid {
            log = log.kid(kid);
        }
        if let Some(alg) = self.alg {
            log = log.alg(alg);
        }
        if let Some(sub) = &self.sub {
            log = log.subject(sub);
        }
        if self.cached {
            log = log.cached();
        }
        if let Some(reason) = self.email_withheld {
            log = log.email_withheld(reason);
        }
        if let Some((index, name)) = &self.rule {
            log = log.rule(*index, name);
        }
        if self.rules_mismatch {
            log = log.rules_mismatch();
        }
        if let Some(index) = self.first_hop_rule {
            log = log.first_hop_rule(index);
        }
        if let Some(upstream) = &self.upstream {
            log = log.upstream(upstream);
        }
        if let Some(name) = &self.config_name {
            log = log.config(name, self.config_problem);
        }
        log
    }
}

/// A request refused: the answer (status, body `error`, `WWW-Authenticate` and `Retry-After`
/// all follow from the [`Rejection`]), the log line's stable reason code, and what was known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What the client is told.
    pub rejection: Rejection,
    /// Why, as a stable code for the log line (an error's `code()`).
    pub reason: &'static str,
    /// What the log line says about the request (boxed: a refusal travels up through every
    /// step as an `Err`, which should stay small).
    pub facts: Box<RequestFacts>,
    /// For `insufficient_scope`: the scopes the matched rule names (the rule table's
    /// `Decision::required_scopes`), for the challenge's `scope`. Empty otherwise.
    pub required_scopes: Vec<String>,
}

impl Refusal {
    /// A refusal with the facts gathered so far.
    pub fn new(rejection: Rejection, reason: &'static str, facts: &RequestFacts) -> Self {
        Refusal {
            rejection,
            reason,
            facts: Box::new(facts.clone()),
            required_scopes: Vec::new(),
        }
    }

    /// The same refusal, naming the scopes its rule needs.
    pub fn with_required_scopes(mut self, scopes: Vec<String>) -> Self {
        self.required_scopes = scopes;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.rejection.status()
    }

    /// The response: status, headers (`WWW-Authenticate`, `Retry-After`, the request id) and the
    /// JSON body, the same for every refusal of this kind from either Worker.
    pub fn response(&self, challenge: &Challenge<'_>, request_id: &str) -> ErrorResponse {
        error_response(
            &self.rejection,
            &self.required_scopes,
            challenge,
            request_id,
        )
    }

    /// `log` finished with this refusal's outcome, reason and facts.
    pub fn annotate(&self, log: LogLineBuilder) -> LogLineBuilder {
        self.facts
            .annotate(log)
            .outcome(self.rejection.outcome(), self.reason)
            .status(self.status())
    }
}
