//! Same seed, same output (byte for byte); different seeds, different runs.

use simulator::{run, FaultMode, RunConfig};

fn config(seed: u64, faults: FaultMode) -> RunConfig {
    RunConfig {
        steps: 1500,
        faults,
        ..RunConfig::new(seed)
    }
}

#[test]
fn same_seed_gives_identical_output() {
    for faults in [
        FaultMode::None,
        FaultMode::Errors,
        FaultMode::Crash,
        FaultMode::All,
    ] {
        for seed in [1, 42] {
            let a = run(&config(seed, faults));
            let b = run(&config(seed, faults));
            assert_eq!(
                a.lines(),
                b.lines(),
                "seed {seed} faults {faults:?} is not deterministic"
            );
            assert!(a.lines().last().unwrap().starts_with("digest: "));
            assert!(a.stats.performed > 100, "the run did almost no I/O");
        }
    }
}

#[test]
fn different_seeds_give_different_digests() {
    let digests: Vec<u64> = (1..=6)
        .map(|s| run(&config(s, FaultMode::All)).digest)
        .collect();
    let mut unique = digests.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), digests.len(), "digests collide: {digests:x?}");
}
