//! Rollout safety on local stand-in hosts: blast-radius limits, waves that stop after a
//! failing canary, and servers chosen by tag.

use crate::apply::repo;
use crate::support::text;

/// `n` extensions on server a (101...) and one on b.
fn extensions(n: usize) -> String {
    let mut y = String::from("extensions:\n");
    for i in 0..n {
        y.push_str(&format!(
            "  - {{number: \"{}\", server: a, name: User {i}, secret: {{env: PW}}}}\n",
            101 + i
        ));
    }
    y.push_str("  - {number: \"201\", server: b, name: Boris, secret: {env: PW}}\n");
    y
}

#[test]
fn a_plan_removing_most_of_a_servers_extensions_is_refused_unless_allowed() {
    let repo = repo(&extensions(10));
    let first = repo.astbase(&["apply", "--auto-approve"]);
    assert!(first.status.success(), "{}", text(&first));
    repo.set_extensions(&extensions(2));
    let plan = repo.astbase(&["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", text(&plan));
    // 10 extensions are 30 PJSIP objects (endpoint, auth, aor) plus the dialplan's
    // eleven contexts; 8 go, with their 24 objects.
    assert!(
        text(&plan).contains(
            "  error: removes 24 of 41 configuration objects (58%), over max_remove_percent 50; \
             pass --allow-large-change if this is intended"
        ),
        "{}",
        text(&plan)
    );
    let refused = repo.astbase(&["apply", "--auto-approve"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(repo.read("a", "pjsip_odoo.conf").contains("[110]"));
    let allowed = repo.astbase(&["apply", "--auto-approve", "--allow-large-change"]);
    assert!(allowed.status.success(), "{}", text(&allowed));
    assert!(!repo.read("a", "pjsip_odoo.conf").contains("[110]"));
}

#[test]
fn the_rollout_stops_after_a_failing_canary_and_leaves_the_rest_untouched() {
    let repo = repo(&extensions(1));
    assert!(repo.astbase(&["apply", "--auto-approve"]).status.success());
    let b_before = repo.read("b", "extensions_odoo.conf");
    // Both servers change; a (first in the plan) is the canary and its reload fails.
    repo.set_extensions(&extensions(2).replace("name: Boris", "name: Boris B"));
    std::fs::write(repo.standin("a", "fail-pbx_config"), "").unwrap();
    let apply = repo.astbase(&["apply", "--auto-approve", "--waves", "1,rest"]);
    assert_eq!(apply.status.code(), Some(3), "{}", text(&apply));
    let out = text(&apply);
    assert!(
        out.contains("a: rolled back: `module reload pbx_config.so` failed"),
        "{out}"
    );
    assert!(
        out.contains("b: not started (the rollout stopped)\n"),
        "{out}"
    );
    assert!(
        out.contains("1 not started: the rollout stopped after 1 failure(s) (--max-failures 0)."),
        "{out}"
    );
    assert_eq!(repo.read("b", "extensions_odoo.conf"), b_before);
    // Allowing one failure lets the next wave go (the canary fails again).
    std::fs::write(repo.standin("a", "fail-pbx_config"), "").unwrap();
    let apply = repo.astbase(&[
        "apply",
        "--auto-approve",
        "--waves",
        "1,rest",
        "--max-failures",
        "1",
    ]);
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    assert!(text(&apply).contains("b: applied"), "{}", text(&apply));
    assert!(repo.read("b", "extensions_odoo.conf").contains("Boris B"));
}

#[test]
fn servers_are_chosen_by_tag_and_an_unknown_tag_is_refused_with_the_known_ones() {
    let repo = repo(&extensions(1));
    std::fs::write(
        repo.root.join("servers.yaml"),
        std::fs::read_to_string(repo.root.join("servers.yaml"))
            .unwrap()
            .replace("  - name: b\n", "  - name: b\n    tags: [moscow]\n"),
    )
    .unwrap();
    let plan = repo.astbase(&["plan", "--server", "tag:moscow"]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(text(&plan).contains("== b "), "{}", text(&plan));
    assert!(!text(&plan).contains("== a "), "{}", text(&plan));
    let excluded = repo.astbase(&["plan", "--exclude", "tag:moscow"]);
    assert!(text(&excluded).contains("== a "), "{}", text(&excluded));
    assert!(!text(&excluded).contains("== b "), "{}", text(&excluded));
    let unknown = repo.astbase(&["plan", "--server", "tag:spb"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown)
            .contains("error: no server has tag `spb`\n  help: tags in the repository: moscow"),
        "{}",
        text(&unknown)
    );
}
