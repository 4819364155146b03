//! The search benchmark program still runs end to end (a tiny corpus, so it takes seconds):
//! it must not rot between the runs that produce the figures in bench/README.md.

mod common;

use std::process::Command;

use common::TestDb;

#[test]
fn the_benchmark_runs_on_a_tiny_corpus_and_prints_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let sbir = dir.path().join("sbir.jsonl");
    let horizon = dir.path().join("horizon.jsonl");
    std::fs::write(
        &sbir,
        [
            r#"{"title": "NEURAL NETWORK\nACCELERATORS", "abstract": "We build low-power neural network accelerators for edge devices.\u0096 Phase I studies quantisation."}"#,
            r#"{"title": "Lithium battery cathodes", "abstract": "High-capacity cathode materials for lithium batteries with long cycle life."}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    std::fs::write(
        &horizon,
        r#"{"title": "Hydrogen fuel cells for heavy transport", "description": "Objective: durable fuel cell stacks."}"#,
    )
    .unwrap();
    let work = dir.path().join("work");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench"));
    cmd.args(["--liaison", env!("CARGO_BIN_EXE_liaison")])
        .arg("--sbir")
        .arg(&sbir)
        .arg("--horizon")
        .arg(&horizon)
        .arg("--work")
        .arg(&work)
        .args([
            "--faculty",
            "24",
            "--needs",
            "8",
            "--chunk",
            "10",
            "--requests",
            "32",
        ]);
    cmd.arg("--alternatives");
    if db.is_postgres() {
        cmd.args(["--database-url", &db.url]);
        cmd.args(["--alternatives-postgres", &db.url]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for figure in [
        "profiles imported:               24",
        "index size on disk",
        "| 16 | 32 |",
        "peak RSS",
        "## Side by side",
        "| SQLite FTS5, bm25() |",
    ] {
        assert!(
            stdout.contains(figure),
            "{figure:?} missing from:\n{stdout}"
        );
    }

    if db.is_postgres() {
        assert!(
            stdout.contains("| PostgreSQL tsvector + GIN, ts_rank_cd |"),
            "{stdout}"
        );
    }

    // Bad arguments are a clear error, not a panic.
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--faculty")
        .arg("many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--faculty takes a number"));
}
