//! Property tests: whatever a user writes, each escaper's output reads back, under
//! Asterisk's own rules, as exactly what was written (or the escaper refuses it).

use proptest::prelude::*;

use astbase::conf;
use astbase::render::escape;

/// Strings rich in the characters Asterisk's grammars care about.
fn tricky() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            8 => prop::sample::select(vec![
                ';', '\\', ',', '(', ')', '[', ']', '"', '\'', '|', '&', '$', '{', '}', '=', '>', '<',
                '#', '-', ' ', '\t', '\n', '\r', '\0', 'a', 'Z', '0', '9', '/', '.', '*', 'ж', '+',
            ]),
            2 => any::<char>(),
        ],
        0..40,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn conf_values_read_back_exactly(text in tricky()) {
        if let Ok(escaped) = escape::conf_value(&text) {
            let line = format!("[s]\nkey={escaped}\n");
            prop_assert_eq!(line.lines().count(), 2, "escaped value spans lines");
            let parsed = conf::parse(&line);
            prop_assert!(parsed.problems.is_empty());
            prop_assert_eq!(parsed.sections.len(), 1);
            prop_assert_eq!(parsed.sections[0].vars.len(), 1);
            prop_assert_eq!(parsed.sections[0].get("key"), Some(text.as_str()));
        } else {
            prop_assert!(text.chars().any(char::is_control) || text.trim() != text || text.starts_with('>'));
        }
    }

    #[test]
    fn app_args_read_back_as_one_argument(text in tricky()) {
        if let Ok(escaped) = escape::app_arg(&text) {
            let line = format!("[c]\nexten => s,1,Playback(x,{escaped},y)\n");
            let parsed = conf::parse(&line);
            prop_assert!(parsed.problems.is_empty());
            let v = &parsed.sections[0].vars[0];
            let step = conf::dialplan_step(&v.key, &v.value).unwrap();
            prop_assert_eq!(step.app.as_str(), "Playback");
            let args = conf::separate_args(&step.data);
            prop_assert_eq!(args, vec!["x".to_owned(), text.clone(), "y".to_owned()]);
            let evaluated = escaped.contains("${") || escaped.contains("$[");
            prop_assert!(!evaluated, "expression in {}", escaped);
        }
    }

    #[test]
    fn set_values_read_back_verbatim(text in tricky()) {
        if let Ok(escaped) = escape::set_value(&text) {
            let line = format!("[c]\nexten => s,1,Set(X={escaped})\n");
            let parsed = conf::parse(&line);
            prop_assert!(parsed.problems.is_empty());
            let v = &parsed.sections[0].vars[0];
            let step = conf::dialplan_step(&v.key, &v.value).unwrap();
            prop_assert_eq!(step.data, format!("X={text}"));
        }
    }

    #[test]
    fn raw_args_keep_their_count(parts in proptest::collection::vec(tricky(), 1..4)) {
        let escaped: Result<Vec<String>, _> = parts.iter().map(|p| escape::raw_arg(p)).collect();
        if let Ok(escaped) = escaped {
            let balanced = parts.iter().all(|p| astbase::validate::check_balanced(p).is_ok());
            let line = format!("[c]\nexten => s,1,NoOp({})\n", escaped.join(","));
            let parsed = conf::parse(&line);
            prop_assert!(parsed.problems.is_empty());
            prop_assert_eq!(parsed.sections[0].vars.len(), 1);
            if balanced {
                let v = &parsed.sections[0].vars[0];
                let step = conf::dialplan_step(&v.key, &v.value).unwrap();
                prop_assert_eq!(conf::separate_args(&step.data).len(), parts.len());
            }
        }
    }

    #[test]
    fn callerids_keep_name_and_number(name in tricky(), number in "[+]?[0-9]{1,12}") {
        if let Ok(value) = escape::callerid(Some(&name), &number) {
            let parsed = conf::parse(&format!("[e]\ncallerid={value}\n"));
            prop_assert!(parsed.problems.is_empty());
            prop_assert_eq!(parsed.sections[0].get("callerid").unwrap(), format!("\"{name}\" <{number}>"));
        }
    }

    #[test]
    fn voicemail_fields_cannot_add_fields_or_options(field in tricky(), option in tricky()) {
        if let (Ok(f), Ok(o)) = (escape::voicemail_field(&field), escape::voicemail_option(&option)) {
            let line = format!("[odoo]\n101 => 1234,{f},a@example.com,,emailsubject={o}\n");
            let parsed = conf::parse(&line);
            prop_assert!(parsed.problems.is_empty());
            let value = parsed.sections[0].get("101").unwrap().to_owned();
            let fields: Vec<&str> = value.splitn(5, ',').collect();
            prop_assert_eq!(fields[1], field.as_str());
            prop_assert_eq!(fields[4].split('|').count(), 1);
        }
    }
}
