//! `strata-slt`: see the library's documentation (`src/lib.rs`) and `--help`.

fn main() {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let status = strata_slt::cli::main_with_args(
        std::env::args().skip(1),
        &mut stdout.lock(),
        &mut stderr.lock(),
    );
    std::process::exit(status);
}
