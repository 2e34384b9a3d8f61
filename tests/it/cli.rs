//! CLI behaviour pinned by trycmd cases: `tests/cmd/*.toml` with their expected
//! `.stdout`/`.stderr` beside them. Regenerate with `TRYCMD=overwrite cargo test --test cli`
//! and review the diff.

#[test]
fn cli_cases() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
