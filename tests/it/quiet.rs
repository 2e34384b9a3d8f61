//! `--quiet` / `-q`: warnings and notes on stderr go, errors and the command's output
//! (stdout) stay.

use assert_cmd::Command;

use crate::support::text;

fn astbase(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

#[test]
fn quiet_render_drops_the_warnings_and_keeps_the_output() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let loud = astbase(&["render", "--repo", "examples/company", "--out", out]);
    assert!(loud.status.success(), "{}", text(&loud));
    let warnings = String::from_utf8_lossy(&loud.stderr);
    assert_eq!(
        warnings.matches("warning[plaintext-secret]").count(),
        4,
        "{warnings}"
    );
    for quiet in [
        astbase(&["-q", "render", "--repo", "examples/company", "--out", out]),
        astbase(&[
            "render",
            "--quiet",
            "--repo",
            "examples/company",
            "--out",
            out,
        ]),
    ] {
        assert!(quiet.status.success(), "{}", text(&quiet));
        assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
        assert_eq!(quiet.stdout, loud.stdout);
    }
}

#[test]
fn quiet_render_still_prints_errors() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let args = [
        "render",
        "--repo",
        "examples/invalid/unknown-target",
        "--out",
        out,
    ];
    let loud = astbase(&args);
    let quiet = astbase(&[&["-q"][..], &args].concat());
    assert_eq!(quiet.status.code(), Some(1), "{}", text(&quiet));
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(
        stderr.contains("error[unknown-reference]: no queue `sale` on server `msk`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: the repository has 1 error(s)\n  help: "),
        "{stderr}"
    );
    assert_eq!(quiet.stderr, loud.stderr);
}

/// `validate` reports on stdout: its warnings and errors are its output, so `-q`
/// changes nothing there, and there is nothing else to silence.
#[test]
fn quiet_validate_keeps_its_report() {
    for repo in ["examples/company", "examples/invalid/unknown-target"] {
        let loud = astbase(&["validate", "--repo", repo]);
        let quiet = astbase(&["-q", "validate", "--repo", repo]);
        assert_eq!(quiet.status.code(), loud.status.code(), "{}", text(&quiet));
        assert_eq!(quiet.stdout, loud.stdout);
        assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    }
    let invalid = astbase(&[
        "-q",
        "validate",
        "--repo",
        "examples/invalid/unknown-target",
    ]);
    assert_eq!(invalid.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&invalid.stdout).contains("error[unknown-reference]"));
    let company = astbase(&["-q", "validate", "--repo", "examples/company"]);
    assert!(String::from_utf8_lossy(&company.stdout).contains("warning[plaintext-secret]"));
}

/// An error that is not about the configuration is shown with `-q` too.
#[test]
fn quiet_keeps_command_errors() {
    let missing = astbase(&["-q", "validate", "--repo", "examples/no-such-repo"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).starts_with("error: "),
        "{}",
        text(&missing)
    );
}
