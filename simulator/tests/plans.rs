//! Shrunk plans of SQL runs that failed, kept as regressions (README.md, "Findings"): each
//! file in `tests/plans/` must replay with `result: ok`. A plan replays the same run only
//! as long as the generator and scheduler draw the same way; a plan whose run no longer
//! reaches the statement that failed still runs every check it reaches.

use simulator::plan::{Plan, SqlConfig};
use simulator::sql_sim::run_plan;

#[test]
fn saved_plans_replay_ok() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "plan"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no plans in {}", dir.display());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let (plan, config) = Plan::parse(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let config = SqlConfig {
            shrink: false,
            ..config
        };
        let report = run_plan(&config, &plan);
        assert_eq!(
            report.failure,
            None,
            "{}: replay with `cargo run --release -p simulator -- --plan {}`",
            path.display(),
            path.display()
        );
        assert!(report.checks.statements > 0, "{path:?}: ran nothing");
    }
}
