//! Phonebook files (`project.phonebooks`): CSV and vCard exports read as contacts, each
//! problem shown at its cell in the export, and a clash with the YAML phonebook keeping
//! the YAML contact.

use std::path::Path;

use astbase::validate::{Report, validate_repo};

use crate::support::{errors, text, warnings};

const FLEET: &str = "servers:
  - {name: msk, host: local, asterisk: {conf_dir: etc}}
contacts:
  - {name: Sergey Volkov, numbers: [\"+74990000001\"]}
";

/// A repo on disk: astbase.yaml with these phonebooks, fleet.yaml, and the files.
fn repo(phonebooks: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = format!(
        "project:\n  numbering: {{country_code: \"7\", trunk_prefix: \"8\"}}\n  phonebooks:\n{phonebooks}"
    );
    std::fs::write(dir.path().join("astbase.yaml"), root).unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), FLEET).unwrap();
    for (rel, body) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

fn contacts(report: &Report) -> Vec<(String, Vec<String>)> {
    report
        .fleet
        .contacts
        .iter()
        .map(|c| (c.display(), c.numbers.clone()))
        .collect()
}

#[test]
fn csv_and_vcard_records_become_contacts_with_e164_numbers() {
    let dir = repo(
        "    - file: crm/export.csv\n    - {file: crm/cards.VCF, servers: [msk]}\n",
        &[
            (
                "crm/export.csv",
                "Name,Company,Phone,Mobile,Notes\n\
                 Irina Kuznetsova,Contoso,+7 (499) 000-00-03,\"8 916 555-00-03, 8 916 555-00-04\",vip\n\
                 ,,+74990000009,,no name\n\
                 Nobody,,,,no number\n",
            ),
            (
                "crm/cards.VCF",
                "BEGIN:VCARD\nVERSION:3.0\nN:Lebedev;Dmitry;;;\nORG:Tailspin\\; Toys\n\
                 TEL:+7 495 000 00 05\nEND:VCARD\n",
            ),
        ],
    );
    let report = validate_repo(dir.path()).unwrap();
    assert_eq!(errors(&report), vec![], "{:#?}", report.diagnostics);
    assert_eq!(warnings(&report), vec![("phonebook-name", 3, 1)]);
    assert_eq!(
        contacts(&report),
        vec![
            ("Sergey Volkov".to_owned(), vec!["+74990000001".to_owned()]),
            (
                "Irina Kuznetsova (Contoso)".to_owned(),
                vec![
                    "+74990000003".to_owned(),
                    "+79165550003".to_owned(),
                    "+79165550004".to_owned()
                ]
            ),
            (
                "Dmitry Lebedev (Tailspin Toys)".to_owned(),
                vec!["+74950000005".to_owned()]
            ),
        ]
    );
    assert_eq!(report.fleet.contacts[2].servers[0].as_str(), "msk");
}

#[test]
fn a_bad_number_and_a_clash_with_the_yaml_phonebook_are_warnings_at_their_cells() {
    let dir = repo(
        "    - file: export.csv\n",
        &[(
            "export.csv",
            "name;phone\nAnna;ask reception\nBoris;8 499 000-00-01\nBoris;+7 499 000 00 02, 4950000000\n",
        )],
    );
    let report = validate_repo(dir.path()).unwrap();
    assert_eq!(errors(&report), vec![]);
    assert_eq!(
        warnings(&report),
        vec![
            ("phonebook-number", 2, 6),
            ("duplicate-contact-number", 3, 7),
            ("phonebook-number", 4, 25),
        ],
        "{:#?}",
        report.diagnostics
    );
    let messages: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "`ask reception` of `Anna` is left out: it holds characters other than digits, `+` and spacing",
            "`+74990000001` is already the number of `Sergey Volkov`; the first is kept",
            "`4950000000` of `Boris` is left out: it starts with neither `+`, the international prefix nor the trunk prefix",
        ]
    );
    // Both records are contacts; the rendered phonebook gives the shared number the
    // first name (Sergey's, from the YAML).
    assert_eq!(
        contacts(&report)[1..],
        [
            ("Boris".to_owned(), vec!["+74990000001".to_owned()]),
            ("Boris".to_owned(), vec!["+74990000002".to_owned()]),
        ]
    );
}

#[test]
fn an_unreadable_missing_or_outside_phonebook_is_an_error_where_it_is_named() {
    let dir = repo(
        "    - file: broken.csv\n    - file: missing.vcf\n    - file: ../outside.csv\n    - {file: ok.vcf, servers: [mks]}\n",
        &[
            ("broken.csv", "name,phone\n\"Anna,+74990000001\n"),
            (
                "ok.vcf",
                "BEGIN:VCARD\nFN:Anna\nTEL:+74990000007\nEND:VCARD\n",
            ),
        ],
    );
    let report = validate_repo(dir.path()).unwrap();
    let located: Vec<(String, &str, usize, usize)> = report
        .diagnostics
        .iter()
        .map(|d| {
            let l = d.location.as_ref().unwrap();
            (
                report.sources.file(l.file).rel.clone(),
                d.code,
                l.span.start.line,
                l.span.start.col,
            )
        })
        .collect();
    assert_eq!(
        located,
        [
            ("astbase.yaml".to_owned(), "phonebook-missing", 5, 13),
            ("astbase.yaml".to_owned(), "outside-repo", 6, 13),
            ("astbase.yaml".to_owned(), "unknown-reference", 7, 32),
            ("broken.csv".to_owned(), "phonebook", 2, 1),
        ]
    );
}

#[test]
fn validate_shows_a_phonebook_problem_at_the_exports_line_and_column() {
    let dir = repo(
        "    - file: export.csv\n",
        &[("export.csv", "name,phone\nAnna,+7 499 x\n")],
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["validate", "--deny-warnings", "--repo"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    let at = format!("{}:2:6", Path::new(dir.path()).join("export.csv").display());
    assert!(
        shown.contains("warning[phonebook-number]: `+7 499 x` of `Anna` is left out"),
        "{shown}"
    );
    assert!(
        shown.contains(&at) || shown.contains("export.csv:2:6"),
        "{shown}"
    );
    assert!(shown.contains("2 | Anna,+7 499 x"), "{shown}");
}
