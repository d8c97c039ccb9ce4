//! The SQL workload: determinism, seeds of every fault mode pass with their checks
//! exercised, plans round-trip through their text form.

use simulator::plan::{Plan, SqlConfig};
use simulator::sql_sim::{generate_plan, run, run_plan};
use simulator::FaultMode;

fn config(seed: u64, faults: FaultMode) -> SqlConfig {
    SqlConfig {
        statements: 150,
        faults,
        shrink: false,
        ..SqlConfig::new(seed)
    }
}

#[test]
fn same_seed_same_digest() {
    for faults in [FaultMode::None, FaultMode::All] {
        let a = run(&config(5, faults));
        let b = run(&config(5, faults));
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.checks, b.checks);
        assert_eq!(a.failure, b.failure);
    }
    assert_ne!(
        run(&config(5, FaultMode::None)).digest,
        run(&config(6, FaultMode::None)).digest
    );
}

#[test]
fn seeds_pass_and_checks_run() {
    for faults in [
        FaultMode::None,
        FaultMode::Errors,
        FaultMode::Crash,
        FaultMode::All,
    ] {
        let mut total = simulator::sql_sim::SqlChecks::default();
        for seed in 1..=12 {
            let r = run(&config(seed, faults));
            assert!(
                r.failure.is_none(),
                "seed {seed} {faults:?}: {:?}",
                r.failure
            );
            total.results_compared += r.checks.results_compared;
            total.rows_compared += r.checks.rows_compared;
            total.commits_acked += r.checks.commits_acked;
            total.integrity_checks += r.checks.integrity_checks;
            total.sqlite_file_checks += r.checks.sqlite_file_checks;
            total.io_errors_surfaced += r.checks.io_errors_surfaced;
            total.recoveries += r.checks.recoveries;
            total.busy += r.checks.busy;
            total.ddl += r.checks.ddl;
            total.freelist_pages_max = total.freelist_pages_max.max(r.checks.freelist_pages_max);
        }
        assert!(total.results_compared > 500, "{faults:?}: {total:?}");
        assert!(total.rows_compared > 100, "{faults:?}: {total:?}");
        assert!(total.commits_acked > 100, "{faults:?}: {total:?}");
        assert!(
            total.integrity_checks > 0 && total.sqlite_file_checks > 0,
            "{total:?}"
        );
        assert!(total.busy > 0, "connections never contended: {total:?}");
        // The churn group: DDL mid-workload, and free pages at the checks (a freelist
        // defect has something to break).
        if config(1, faults).features.churn {
            assert!(
                total.ddl > 6 || churn_alone_ddl(faults) > 6,
                "{faults:?}: {total:?}"
            );
            // At a recovery's check (the end-of-run one alone often finds the freelist
            // empty again).
            if faults.crashes() {
                assert!(
                    total.freelist_pages_max > 0 || churn_alone_reaches_the_freelist(faults),
                    "{faults:?}: {total:?}"
                );
            }
        }
        if faults.errors() {
            assert!(total.io_errors_surfaced > 0, "{faults:?}: {total:?}");
        }
        if faults.crashes() {
            assert!(total.recoveries > 12 * 2, "{faults:?}: {total:?}");
        }
    }
}

/// The same seeds with the churn group alone (with every group on, the churn group's
/// share of the statements is small enough that 12 seeds may not free a page before a
/// recovery's check).
fn churn_alone_reaches_the_freelist(faults: FaultMode) -> bool {
    let mut features = simulator::sqlgen::Features::NONE;
    features.churn = true;
    (1..=12).any(|seed| {
        let r = run(&SqlConfig {
            features,
            ..config(seed, faults)
        });
        assert!(r.failure.is_none(), "churn seed {seed}: {:?}", r.failure);
        r.checks.freelist_pages_max > 0
    })
}

/// The DDL statements the same seeds run with the churn group alone (with every group
/// on, the churn group's share may leave 12 seeds with few DDL statements).
fn churn_alone_ddl(faults: FaultMode) -> u64 {
    let mut features = simulator::sqlgen::Features::NONE;
    features.churn = true;
    (1..=12)
        .map(|seed| {
            let r = run(&SqlConfig {
                features,
                ..config(seed, faults)
            });
            assert!(r.failure.is_none(), "churn seed {seed}: {:?}", r.failure);
            r.checks.ddl as u64
        })
        .sum()
}

/// The `savepoints` group: its statements run and are compared (opened, released,
/// committing releases, rolled back to, names not open failing alike), and under small
/// caches its scripts reach the pager's pinned-frame re-spill (`spill_pinned`: a page
/// spilled, freed, reused inside a savepoint without being read, spilled again).
#[test]
fn savepoints_run_and_reach_the_pinned_respill() {
    let mut total = simulator::sql_sim::SqlChecks::default();
    let mut pinned_seeds = Vec::new();
    for seed in 1..=12 {
        // The default 300 statements: with 150, these seeds' scripts reach the pinned
        // re-spill but none reads a pinned page back after ROLLBACK TO (with the guard
        // removed from `spill.rs` they passed; with 300, seed 6 fails: "database disk
        // image is malformed").
        let r = run(&SqlConfig {
            small_cache: true,
            statements: 300,
            ..config(seed, FaultMode::All)
        });
        assert!(r.failure.is_none(), "seed {seed}: {:?}", r.failure);
        total.savepoints_opened += r.checks.savepoints_opened;
        total.savepoints_released += r.checks.savepoints_released;
        total.savepoint_commits += r.checks.savepoint_commits;
        total.savepoints_rolled_back += r.checks.savepoints_rolled_back;
        total.savepoint_errors += r.checks.savepoint_errors;
        total.spill_pinned += r.checks.spill_pinned;
        if r.checks.spill_pinned > 0 {
            pinned_seeds.push(seed);
        }
    }
    assert!(total.savepoints_opened > 12, "{total:?}");
    assert!(total.savepoints_released > 0, "{total:?}");
    assert!(total.savepoint_commits > 0, "{total:?}");
    assert!(total.savepoints_rolled_back > 0, "{total:?}");
    assert!(total.savepoint_errors > 0, "{total:?}");
    assert!(
        total.spill_pinned > 0,
        "no seed reached the pinned re-spill: {total:?}"
    );
    eprintln!("pinned re-spill in seeds {pinned_seeds:?}");
}

/// Seed 15 with small caches (a VACUUM, then a ROLLBACK TO outside a transaction that
/// reads page 1 only if it left the cache): its digest differed from one run to the next
/// (about half the runs), because `strata-pager`'s cache listed its pages in `HashMap`
/// order when a truncation removed them, and the order of removals decides later
/// evictions. The pages are listed in page order now.
#[test]
fn small_cache_seed_15_is_deterministic() {
    let c = SqlConfig {
        small_cache: true,
        statements: 300,
        ..config(15, FaultMode::All)
    };
    let first = run(&c).digest;
    for _ in 0..5 {
        assert_eq!(run(&c).digest, first);
    }
}

#[test]
fn plans_round_trip_and_replay() {
    let c = config(3, FaultMode::All);
    let plan = generate_plan(&c);
    let text = plan.to_text(&c);
    let (parsed, pc) = Plan::parse(&text).unwrap();
    assert_eq!(parsed, plan);
    assert_eq!(pc.seed, c.seed);
    assert_eq!(pc.faults, c.faults);
    // A parsed plan replays the same run.
    let a = run_plan(&c, &plan);
    let b = run_plan(
        &SqlConfig {
            shrink: false,
            ..pc
        },
        &parsed,
    );
    assert_eq!(a.digest, b.digest);
}

#[test]
fn feature_groups_switch_generation() {
    use simulator::sqlgen::{Features, FEATURE_NAMES};
    // Every group alone, all, none: the text form round-trips (plans and replay commands
    // carry it).
    for name in FEATURE_NAMES {
        let f = Features::parse(name).unwrap();
        assert_eq!(f.enabled(), vec![*name]);
        assert_eq!(Features::parse(&f.text()).unwrap(), f);
    }
    assert_eq!(Features::parse("all").unwrap(), Features::ALL);
    assert_eq!(Features::parse("none").unwrap(), Features::NONE);
    assert!(Features::parse("no-such-group").is_err());
    let mut f = Features::ALL;
    f.set("temp", false).unwrap();
    assert_eq!(Features::parse(&f.text()).unwrap(), f);

    let plan_text = |features: Features| {
        let c = SqlConfig {
            features,
            statements: 2000,
            ..config(4, FaultMode::All)
        };
        let plan = generate_plan(&c);
        let text = plan.to_text(&c);
        let (parsed, pc) = Plan::parse(&text).unwrap();
        assert_eq!(parsed, plan);
        assert_eq!(pc.features, features);
        text.to_ascii_uppercase()
    };
    // Off: none of the groups' SQL appears.
    let core = plan_text(Features::NONE);
    for word in [
        "RETURNING",
        "DEFAULT",
        "NULLS ",
        "FILTER",
        "MAIN.",
        "TMP_",
        "REFERENCES",
        "STRICT",
        "PRAGMA ENCODING",
        "PRAGMA INDEX_",
        "PRAGMA FOREIGN",
        "SAVEPOINT",
        "RELEASE",
    ] {
        assert!(
            !core.contains(word),
            "{word} generated with every group off"
        );
    }
    // On: each group shows up.
    let all = plan_text(Features::ALL);
    for word in [
        "RETURNING",
        "DEFAULT VALUES",
        "NULLS ",
        "FILTER (WHERE",
        "MAIN.",
        "TEMP",
        "PRAGMA FOREIGN_KEY",
        "PRAGMA INDEX_",
        "SAVEPOINT",
        "RELEASE",
        "ROLLBACK TO",
    ] {
        assert!(
            all.contains(word),
            "{word} never generated with every group on"
        );
    }
    // The schema-level groups are in the DDL.
    let schema = run(&SqlConfig {
        features: Features::ALL,
        statements: 1,
        ..config(4, FaultMode::None)
    })
    .setup
    .join("\n");
    for word in [
        "REFERENCES t0(k)",
        "DEFAULT 7",
        "main.",
        "CREATE VIEW main.v0",
    ] {
        assert!(schema.contains(word), "{word} not in the schema: {schema}");
    }
}
