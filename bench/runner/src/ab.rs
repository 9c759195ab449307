//! The A/B summary of a `--candidate` run: per scenario and concurrency, the candidate's workerd
//! CPU per request minus the Rust pair's, round by round. The two are measured back to back in
//! every round (which goes first alternates: an A/A run showed the second of two identical
//! pairs ~10 µs lower in 5 of 5 rounds), so a round's difference is far steadier than either figure across rounds on a
//! shared machine; the summary gives each difference, their median, the ratio of the two stacks'
//! median rounds and how many rounds favour either. The same pairing measures the assertion's
//! cost (`rust+assertion` against `rust`). The terminal gets one line per comparison, the report
//! a table (`report.rs`).

use crate::report::Measurement;
use crate::stacks::Kind;

/// One scenario at one concurrency: the per-round differences, candidate minus Rust, in µs.
#[derive(Debug, PartialEq)]
pub(crate) struct Comparison {
    /// The stack compared with the Rust pair (the candidate, or the assertion stack).
    pub(crate) stack: Kind,
    pub(crate) scenario: &'static str,
    pub(crate) concurrency: usize,
    pub(crate) deltas_us: Vec<f64>,
    /// The Rust pair's CPU per request in each paired round.
    pub(crate) rust_us: Vec<f64>,
    /// The compared stack's CPU per request in the same rounds.
    pub(crate) stack_us: Vec<f64>,
}

/// The median (the mean of the two middle values for an even count; 0 for none).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let middle = |i: usize| sorted.get(i).copied().unwrap_or(0.0);
    if n % 2 == 1 {
        middle(n / 2)
    } else if n == 0 {
        0.0
    } else {
        (middle(n / 2 - 1) + middle(n / 2)) / 2.0
    }
}

impl Comparison {
    /// The median difference (negative: the candidate is cheaper).
    pub(crate) fn median_us(&self) -> f64 {
        median(&self.deltas_us)
    }

    /// The Rust pair's median CPU per request over the paired rounds.
    pub(crate) fn rust_median_us(&self) -> f64 {
        median(&self.rust_us)
    }

    /// The compared stack's median CPU per request over the paired rounds.
    pub(crate) fn stack_median_us(&self) -> f64 {
        median(&self.stack_us)
    }

    /// The compared stack's median over the Rust pair's (1.10: 10 % more CPU per request);
    /// `None` when the Rust pair's median is not a positive figure.
    pub(crate) fn ratio_of_medians(&self) -> Option<f64> {
        let (a, b) = (self.stack_median_us(), self.rust_median_us());
        (b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
    }

    /// In how many rounds the candidate used less CPU per request.
    pub(crate) fn candidate_lower(&self) -> usize {
        self.deltas_us.iter().filter(|d| **d < 0.0).count()
    }

    /// In how many rounds the compared stack used more CPU per request.
    pub(crate) fn higher(&self) -> usize {
        self.deltas_us.iter().filter(|d| **d > 0.0).count()
    }

    /// One line for the terminal.
    pub(crate) fn line(&self) -> String {
        let rounds: Vec<String> = self.deltas_us.iter().map(|d| format!("{d:+.0}")).collect();
        format!(
            "bench: A/B {} c={}: {} - rust CPU per request by round [{}] us; median {:+.0} us; {} lower in {} of {}",
            self.scenario,
            self.concurrency,
            self.stack.label(),
            rounds.join(", "),
            self.median_us(),
            self.stack.label(),
            self.candidate_lower(),
            self.deltas_us.len()
        )
    }
}

/// Pairs each candidate measurement with the Rust measurement of the same round: the k-th
/// measurement of a stack at one scenario and concurrency is from round k, whichever of the two
/// was measured first in that round (the order alternates, see `stacks::round_order`).
pub(crate) fn compare(measurements: &[Measurement]) -> Vec<Comparison> {
    let same = |a: &Measurement, b: &Measurement| {
        a.scenario == b.scenario && a.concurrency == b.concurrency
    };
    let mut out: Vec<Comparison> = Vec::new();
    for m in measurements {
        if !matches!(m.stack, Kind::Candidate | Kind::RustAssertion) {
            continue;
        }
        let round = measurements
            .iter()
            .take_while(|o| !std::ptr::eq(*o, m))
            .filter(|o| o.stack == m.stack && same(o, m))
            .count();
        let Some(rust) = measurements
            .iter()
            .filter(|o| o.stack == Kind::Rust && same(o, m))
            .nth(round)
        else {
            continue;
        };
        let delta = m.cpu_us_per_request - rust.cpu_us_per_request;
        match out.iter_mut().find(|c| {
            c.stack == m.stack && c.scenario == m.scenario && c.concurrency == m.concurrency
        }) {
            Some(c) => {
                c.deltas_us.push(delta);
                c.rust_us.push(rust.cpu_us_per_request);
                c.stack_us.push(m.cpu_us_per_request);
            }
            None => out.push(Comparison {
                stack: m.stack,
                scenario: m.scenario,
                concurrency: m.concurrency,
                deltas_us: vec![delta],
                rust_us: vec![rust.cpu_us_per_request],
                stack_us: vec![m.cpu_us_per_request],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Outcome;

    fn m(scenario: &'static str, concurrency: usize, stack: Kind, cpu: f64) -> Measurement {
        Measurement {
            scenario,
            concurrency,
            stack,
            cpu_us_per_request: cpu,
            cpu_share: 1.0,
            tokens_reused: false,
            outcome: Outcome::default(),
        }
    }

    #[test]
    fn rounds_are_paired_in_order_and_summarized() {
        // The second round measured the candidate first: still paired with its own round.
        let runs = [
            m("anonymous", 32, Kind::Rust, 250.0),
            m("anonymous", 32, Kind::Candidate, 240.0),
            m("anonymous", 32, Kind::Js, 150.0),
            m("anonymous", 32, Kind::Candidate, 310.0),
            m("anonymous", 32, Kind::Rust, 300.0),
            m("anonymous", 32, Kind::Rust, 260.0),
            m("anonymous", 32, Kind::Candidate, 230.0),
            m("anonymous", 1, Kind::Rust, 350.0),
            m("anonymous", 1, Kind::Candidate, 340.0),
        ];
        let got = compare(&runs);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].deltas_us, vec![-10.0, 10.0, -30.0]);
        assert_eq!(got[0].median_us(), -10.0);
        assert_eq!(got[0].candidate_lower(), 2);
        assert_eq!(got[0].higher(), 1);
        // The ratio is of the two stacks' medians over the paired rounds (240 / 260), not
        // of the median difference to anything.
        assert_eq!(got[0].rust_us, vec![250.0, 300.0, 260.0]);
        assert_eq!(got[0].stack_us, vec![240.0, 310.0, 230.0]);
        assert_eq!(got[0].ratio_of_medians(), Some(240.0 / 260.0));
        assert_eq!(
            got[0].line(),
            "bench: A/B anonymous c=32: candidate - rust CPU per request by round [-10, +10, -30] us; median -10 us; candidate lower in 2 of 3"
        );
        assert_eq!(
            (got[1].concurrency, got[1].deltas_us.clone()),
            (1, vec![-10.0])
        );
    }

    #[test]
    fn the_assertion_stack_is_compared_with_the_rust_pair_apart_from_a_candidate() {
        let runs = [
            m("repeated-es256-assertion", 1, Kind::Rust, 100.0),
            m("repeated-es256-assertion", 1, Kind::Candidate, 90.0),
            m("repeated-es256-assertion", 1, Kind::RustAssertion, 130.0),
        ];
        let got = compare(&runs);
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].stack, got[0].deltas_us.clone()),
            (Kind::Candidate, vec![-10.0])
        );
        assert_eq!(
            (got[1].stack, got[1].deltas_us.clone()),
            (Kind::RustAssertion, vec![30.0])
        );
        assert!(
            got[1].line().contains("rust+assertion - rust CPU"),
            "{}",
            got[1].line()
        );
    }

    #[test]
    fn an_even_number_of_rounds_takes_the_middle_mean_and_no_candidate_gives_nothing() {
        let c = Comparison {
            stack: Kind::Candidate,
            scenario: "x",
            concurrency: 1,
            deltas_us: vec![4.0, -2.0, 10.0, 0.0],
            rust_us: vec![100.0, 100.0, 100.0, 100.0],
            stack_us: vec![104.0, 98.0, 110.0, 100.0],
        };
        assert_eq!(c.median_us(), 2.0);
        assert_eq!((c.higher(), c.candidate_lower()), (2, 1));
        assert!(compare(&[m("x", 1, Kind::Rust, 1.0), m("x", 1, Kind::Js, 2.0)]).is_empty());
        // No Rust figure to divide by: no ratio.
        let zero = compare(&[m("x", 1, Kind::Rust, 0.0), m("x", 1, Kind::Candidate, 2.0)]);
        assert_eq!(zero.first().map(Comparison::ratio_of_medians), Some(None));
    }
}
