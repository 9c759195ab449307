//! Several rounds per scenario and concurrency, the stacks interleaved within each round: on a
//! shared machine one stack's figures move by up to ±20 % from one round to the next, so the
//! report takes each stack's median round (by workerd CPU per request) rather than whichever
//! round happened to be the only one.

use crate::report::Measurement;

/// Each (scenario, concurrency, stack) reduced to its median round: the round with the median
/// CPU per request (the lower of the two middle ones for an even count), so that its
/// throughput and latency are those of one real round. Groups keep the order of their first
/// round.
pub(crate) fn median_rounds(all: Vec<Measurement>) -> Vec<Measurement> {
    let mut groups: Vec<Vec<Measurement>> = Vec::new();
    for m in all {
        let same = |g: &&mut Vec<Measurement>| {
            g.first().is_some_and(|f| {
                f.scenario == m.scenario && f.concurrency == m.concurrency && f.stack == m.stack
            })
        };
        match groups.iter_mut().find(same) {
            Some(group) => group.push(m),
            None => groups.push(vec![m]),
        }
    }
    groups
        .into_iter()
        .filter_map(|mut rounds| {
            rounds.sort_by(|a, b| a.cpu_us_per_request.total_cmp(&b.cpu_us_per_request));
            let middle = rounds.len().saturating_sub(1) / 2;
            rounds.into_iter().nth(middle)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Outcome;
    use crate::stacks::Kind;

    fn m(scenario: &'static str, stack: Kind, cpu: f64, share: f64) -> Measurement {
        Measurement {
            scenario,
            concurrency: 32,
            stack,
            cpu_us_per_request: cpu,
            cpu_share: share,
            tokens_reused: false,
            outcome: Outcome::default(),
        }
    }

    #[test]
    fn each_stack_keeps_its_median_round_in_first_seen_order() {
        let all = vec![
            m("a", Kind::Rust, 300.0, 0.1),
            m("a", Kind::Js, 200.0, 0.2),
            m("a", Kind::Rust, 250.0, 0.3),
            m("a", Kind::Js, 180.0, 0.4),
            m("a", Kind::Rust, 400.0, 0.5),
            m("a", Kind::Js, 190.0, 0.6),
            m("b", Kind::Rust, 10.0, 0.7),
            m("b", Kind::Rust, 20.0, 0.8),
        ];
        let got: Vec<(&str, Kind, f64, f64)> = median_rounds(all)
            .iter()
            .map(|m| (m.scenario, m.stack, m.cpu_us_per_request, m.cpu_share))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", Kind::Rust, 300.0, 0.1),
                ("a", Kind::Js, 190.0, 0.6),
                // Two rounds: the lower middle one.
                ("b", Kind::Rust, 10.0, 0.7),
            ]
        );
    }

    #[test]
    fn one_round_is_kept_as_it_is() {
        let got = median_rounds(vec![m("a", Kind::Floor, 5.0, 1.0)]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].cpu_us_per_request, 5.0);
    }
}
