//! The reader's tests: positions, YAML 1.2 resolution, hostile input.
use super::*;

fn json(text: &str) -> Json {
    parse(text).unwrap().unwrap().to_json()
}

#[test]
fn resolves_scalars_like_yaml_1_2_but_keeps_dial_strings() {
    let v = json(
        "a: 101\nb: '101'\nc: 0101\nd: +74951234567\ne: yes\nf: true\ng: ~\nh: 1.5\ni: -3\nj: 1e3\nk: 09:00\n",
    );
    assert_eq!(v["a"], 101);
    assert_eq!(v["b"], "101");
    assert_eq!(v["c"], "0101");
    assert_eq!(v["d"], "+74951234567");
    assert_eq!(v["e"], "yes");
    assert_eq!(v["f"], true);
    assert_eq!(v["g"], Json::Null);
    assert_eq!(v["h"], 1.5);
    assert_eq!(v["i"], -3);
    assert_eq!(v["j"], 1000.0);
    assert_eq!(v["k"], "09:00");
}

#[test]
fn taking_the_tree_apart_gives_the_same_json_as_copying_it() {
    let text = "a: 101\nb: '101'\nc: 0101\nd: +74951234567\ne: yes\nf: true\ng: ~\nh: 1.5\n\
                i: [-3, 1e3, \"09:00\", !!str 7, {x: null, 1: [a, {b: c}]}]\n";
    let tree = parse(text).unwrap().unwrap();
    let copied = tree.to_json();
    assert_eq!(tree.into_json(), copied);
    assert_eq!(copied["i"][3], "7");
    assert_eq!(copied["i"][4]["1"][1]["b"], "c");
}

#[test]
fn integer_keys_are_text() {
    let v = json("keys:\n  1: a\n  \"*\": b\n");
    assert_eq!(v["keys"]["1"], "a");
    assert_eq!(v["keys"]["*"], "b");
}

#[test]
fn positions_are_one_based() {
    let root = parse("servers:\n  - name: msk\n    host: local\n")
        .unwrap()
        .unwrap();
    let path = crate::source::Pointer::root()
        .key("servers")
        .index(0)
        .key("host");
    let (node, key) = root.lookup(path.segments());
    assert_eq!(node.span.start, Pos { line: 3, col: 11 });
    assert_eq!(key.unwrap().span.start, Pos { line: 3, col: 5 });
}

#[test]
fn duplicate_keys_are_errors_with_both_places() {
    let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
    assert_eq!(err.message, "duplicate key `a`");
    assert_eq!(err.span.start, Pos { line: 3, col: 1 });
    assert_eq!(err.related.unwrap().0.start, Pos { line: 1, col: 1 });
}

#[test]
fn duplicate_keys_in_large_mappings() {
    let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
    text.push_str("k7: again\n");
    let err = parse(&text).unwrap_err();
    assert_eq!(err.message, "duplicate key `k7`");
    assert_eq!(err.span.start.line, 101);
}

#[test]
fn many_aliases_of_one_huge_string_are_refused_by_bytes_before_they_are_copied() {
    let mut text = format!("big: &big \"{}\"\nlist:\n", "x".repeat(100_000));
    for _ in 0..99_000 {
        text.push_str("  - *big\n");
    }
    let started = std::time::Instant::now();
    let err = parse(&text).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(err.message, "aliases expand to more than 4 MiB of text");
    // The 42nd alias (line 44) is the one over 4 MiB.
    assert_eq!(err.span.start.line, 44);
}

#[test]
fn alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            std::iter::repeat_n(prev.as_str(), 10)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let err = parse(&text).unwrap_err();
    assert!(err.message.contains("aliases expand"), "{}", err.message);
}

#[test]
fn small_aliases_work() {
    let v = json("base: &b {codecs: [ulaw]}\nx: *b\n");
    assert_eq!(v["x"]["codecs"][0], "ulaw");
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let text = "[".repeat(100_000);
    assert!(parse(&text).is_err());
    let text = "a:\n".to_owned()
        + &(1..200)
            .map(|i| format!("{}b:\n", " ".repeat(i)))
            .collect::<String>();
    let err = parse(&text).unwrap_err();
    assert!(err.message.contains("nesting"), "{}", err.message);
}

#[test]
fn second_document_is_refused() {
    let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
    assert!(err.message.contains("more than one YAML document"));
}

#[test]
fn custom_tags_are_refused() {
    let err = parse("secret: !env FOO\n").unwrap_err();
    assert!(err.message.contains("unsupported YAML tag"));
    assert_eq!(json("a: !!str 101\n")["a"], "101");
}

#[test]
fn a_tag_on_a_sequence_or_mapping_other_than_its_own_is_refused() {
    let err = parse("a: !!python/object/apply:os.system [rm -rf /]\n").unwrap_err();
    assert!(
        err.message.starts_with("unsupported YAML tag"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("python/object/apply:os.system"),
        "{}",
        err.message
    );
    assert!(parse("a: !!python/object:x {b: 1}\n").is_err());
    assert_eq!(json("a: !!seq [1]\n")["a"][0], 1);
    assert_eq!(json("a: !!map {b: 1}\n")["a"]["b"], 1);
}

#[test]
fn a_tab_in_the_indentation_is_reported_where_it_is() {
    let err = parse("servers:\n  - name: a\n\thost: local\n").unwrap_err();
    assert!(err.message.contains("found a tab"), "{}", err.message);
    assert_eq!((err.span.start.line, err.span.start.col), (3, 1));
}

#[test]
fn hex_and_octal_numbers_stay_text() {
    assert_eq!(json("a: 0x65\n")["a"], "0x65");
    assert_eq!(json("a: 0o17\n")["a"], "0o17");
    assert_eq!(json("a: 101\n")["a"], 101);
}

#[test]
fn empty_file_is_none() {
    assert_eq!(parse("").unwrap(), None);
    assert_eq!(parse("# only a comment\n").unwrap(), None);
}
