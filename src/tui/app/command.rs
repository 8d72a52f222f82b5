//! Command mode: what `:` lines mean. Parsing is separate from doing, so every command is tested
//! and an unknown one gets a message naming it and the known ones.

use crate::tui::keys::{Action, Intent, ViewKind};

/// Every command, for help and completion.
pub const COMMANDS: &[(&str, &str)] = &[
    ("tenants", "tenants of every region"),
    ("jobs", "lifecycle Jobs"),
    ("runs", "batches, live and finished"),
    ("logs", "logs of the selected batch"),
    ("history", "the audit history"),
    ("doctor", "pre-flight check of every region: Jobs, tenants, Argo, permissions"),
    ("gc", "remove finished batches' pods and old records by the retention rules (preview, then confirm)"),
    ("ctx", "`:ctx REGION` shows one region, `:ctx` all of them"),
    ("theme", "`:theme NAME` switches theme"),
    ("upsert", "upsert the selected tenants"),
    ("migrate-out", "migrate-out the selected tenants"),
    ("migrate-in", "migrate-in the selected tenants"),
    ("migrate", "migrate-out here, then migrate-in in another region"),
    ("team", "a team operation on Jobs you pick"),
    ("cancel", "cancel the batch's unfinished branches"),
    ("retry", "retry the batch's failed branches"),
    ("help", "all keys and commands"),
    ("quit", "leave (also :q)"),
];

/// Parses a command line (without the `:`).
pub fn parse(line: &str) -> Result<Action, String> {
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else { return Err(String::new()) };
    let arg: Vec<&str> = words.collect();
    let arg = arg.join(" ");
    let no_arg = |a: Action| if arg.is_empty() { Ok(a) } else { Err(format!(":{name} takes no argument")) };
    match name {
        "tenants" | "tenant" | "t" => no_arg(Action::Show(ViewKind::Tenants)),
        "jobs" | "job" | "j" => no_arg(Action::Show(ViewKind::Jobs)),
        "runs" | "run" | "batches" | "r" => no_arg(Action::Show(ViewKind::Runs)),
        "logs" | "log" | "l" => no_arg(Action::Logs),
        "history" | "audit" => no_arg(Action::Show(ViewKind::History)),
        "doctor" => no_arg(Action::Show(ViewKind::Doctor)),
        "gc" => no_arg(Action::Gc),
        "ctx" | "context" | "region" => {
            Ok(Action::Context((!arg.is_empty() && arg != "all" && arg != "*").then(|| arg.clone())))
        }
        "theme" => {
            if arg.is_empty() {
                Err(":theme needs a name, e.g. :theme light".into())
            } else {
                Ok(Action::Theme(arg.clone()))
            }
        }
        "cancel" => no_arg(Action::Cancel),
        "terminate" => no_arg(Action::Terminate),
        "retry" => no_arg(Action::Retry),
        "help" | "h" => no_arg(Action::Help),
        "quit" | "q" | "q!" | "qa" | "exit" => no_arg(Action::Quit),
        other => match Intent::ALL.into_iter().find(|i| i.command() == other) {
            Some(intent) => no_arg(Action::Trigger(intent)),
            None => Err(format!(
                "unknown command :{other} (known: {})",
                COMMANDS.iter().map(|(c, _)| format!(":{c}")).collect::<Vec<_>>().join(" ")
            )),
        },
    }
}

/// Completes the command name being typed (the unique command starting with it).
pub fn complete(line: &str) -> Option<String> {
    if line.contains(' ') {
        return None;
    }
    let found: Vec<&str> = COMMANDS.iter().map(|(c, _)| *c).filter(|c| c.starts_with(line)).collect();
    match found.as_slice() {
        [one] => Some(one.to_string()),
        many if !many.is_empty() => {
            // The longest common prefix.
            let first = many[0];
            let len = (line.len()..=first.len()).rev().find(|l| many.iter().all(|c| c.starts_with(&first[..*l])))?;
            Some(first[..len].to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::operation::KnownOperation;

    #[test]
    fn parses_views_actions_and_arguments() {
        assert_eq!(parse("tenants"), Ok(Action::Show(ViewKind::Tenants)));
        assert_eq!(parse(" runs "), Ok(Action::Show(ViewKind::Runs)));
        assert_eq!(parse("upsert"), Ok(Action::Trigger(Intent::Operation(KnownOperation::Upsert))));
        assert_eq!(parse("migrate-out"), Ok(Action::Trigger(Intent::Operation(KnownOperation::MigrateOut))));
        assert_eq!(parse("migrate-in"), Ok(Action::Trigger(Intent::Operation(KnownOperation::MigrateIn))));
        assert_eq!(parse("migrate"), Ok(Action::Trigger(Intent::Migrate)));
        assert_eq!(parse("team"), Ok(Action::Trigger(Intent::Operation(KnownOperation::TeamOperation))));
        assert_eq!(parse("theme light"), Ok(Action::Theme("light".into())));
        assert_eq!(parse("ctx us-east"), Ok(Action::Context(Some("us-east".into()))));
        assert_eq!(parse("ctx"), Ok(Action::Context(None)));
        assert_eq!(parse("q"), Ok(Action::Quit));
        assert!(parse("theme").unwrap_err().contains("needs a name"));
        assert!(parse("jobs x").unwrap_err().contains("takes no argument"));
        let e = parse("upsertt").unwrap_err();
        assert!(e.starts_with("unknown command :upsertt (known: :tenants"), "{e}");
    }

    #[test]
    fn every_trigger_is_a_listed_command() {
        for intent in Intent::ALL {
            assert!(COMMANDS.iter().any(|(c, _)| *c == intent.command()), ":{} is listed", intent.command());
            assert_eq!(parse(intent.command()), Ok(Action::Trigger(intent)));
        }
    }

    #[test]
    fn completes_unique_names_and_common_prefixes() {
        assert_eq!(complete("ten").as_deref(), Some("tenants"));
        assert_eq!(complete("mig").as_deref(), Some("migrate"));
        assert_eq!(complete("migrate-o").as_deref(), Some("migrate-out"));
        assert_eq!(complete("zzz"), None);
        assert_eq!(complete("theme da"), None);
    }
}
