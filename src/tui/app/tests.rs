use crate::contract::names::short_id;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::dialogs::{Dialog, JobChoice, JobPicker, Pending, RegionPicker};
use super::*;
use crate::contract::JobRef;
use crate::contract::operation::KnownOperation;
use crate::lifecycle::engine::migrate::MigrationState;
use crate::lifecycle::run::Phase;
use crate::tui::fixtures::{self, BATCH};
use crate::tui::keys::{DialogKind, Intent};

fn key(app: &mut App, c: char) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
}

fn code(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, c);
    }
}

fn dialog(app: &App) -> &Dialog {
    match &app.mode {
        Mode::Dialog(d) => d,
        other => panic!("no dialog open: {other:?}"),
    }
}

#[test]
fn filter_narrows_the_tenants_and_esc_clears_it() {
    let mut app = fixtures::app(80, 24);
    assert_eq!(app.visible_tenants().len(), 5);
    key(&mut app, '/');
    typed(&mut app, "prod");
    assert_eq!(app.visible_tenants().len(), 4, "filtering as you type");
    code(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(app.tenants_cursor.filter, "prod");
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.visible_tenants().len(), 5, "Esc clears the filter first");
    assert_eq!(app.view, View::Tenants);
}

#[test]
fn commands_switch_views_and_unknown_ones_say_so() {
    let mut app = fixtures::app(80, 24);
    key(&mut app, ':');
    typed(&mut app, "jo");
    code(&mut app, KeyCode::Tab);
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Jobs);
    key(&mut app, ':');
    typed(&mut app, "nope");
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.status.as_ref().map(|s| s.error), Some(true));
    assert!(app.status.as_ref().is_some_and(|s| s.text.starts_with("unknown command :nope")));
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Tenants, "Esc goes back");
    let effects = update(&mut app, Msg::Action(Action::Show(ViewKind::History)));
    assert!(matches!(effects.as_slice(), [Effect::LoadHistory]));
    assert!(matches!(key(&mut app, 'q').as_slice(), [Effect::Quit]));
}

#[test]
fn upsert_goes_through_preview_and_confirmation_to_a_submission() {
    let mut app = fixtures::app(120, 40);
    key(&mut app, 'j'); // globex-prod
    assert!(key(&mut app, 'u').is_empty());
    let Dialog::Preview(p) = dialog(&app) else { panic!("preview expected") };
    let runs: Vec<String> = p.plan.batches[0].branches.iter().map(|b| b.job.job.to_string()).collect();
    assert_eq!(runs, vec!["catalog/catalog-schema", "identity/identity-realm", "lineage/lineage-graph"]);
    assert_eq!(p.plan.batches[0].skipped.len(), 1, "the unsuspended Job is skipped with its reason");
    assert_eq!(p.plan.batches[0].tenant.name, "globex-prod");
    code(&mut app, KeyCode::Enter);
    let Dialog::Confirm(_) = dialog(&app) else { panic!("a single-tenant upsert is a y/n question") };
    assert!(key(&mut app, 'x').is_empty(), "other keys do nothing");
    assert!(matches!(dialog(&app), Dialog::Confirm(_)), "and leave the question open");
    let effects = key(&mut app, 'y');
    let [Effect::Submit(s)] = effects.as_slice() else { panic!("submit expected: {effects:?}") };
    assert_eq!(s.plan.branch_count(), 3);
    assert_eq!(s.request.changeset_yaml, "{}\n");
    let id = s.plan.batches[0].batch_id.clone();
    assert_eq!(app.view, View::Batch(id.clone()), "after submit the console goes to the run");
    assert!(app.files.contains_key(&id) && app.log_interest.contains(&id));
}

#[test]
fn migrate_out_and_multi_tenant_requests_need_typed_confirmation() {
    let mut app = fixtures::app(120, 40);
    key(&mut app, 'o');
    code(&mut app, KeyCode::Enter);
    let Dialog::TypedConfirm(c) = dialog(&app) else { panic!("typed confirmation expected") };
    assert_eq!(c.expect, "acme-prod");
    assert!(c.confirm.danger);
    typed(&mut app, "acme-pro");
    assert!(code(&mut app, KeyCode::Enter).is_empty(), "a wrong name does not run");
    assert!(matches!(app.mode, Mode::Dialog(_)));
    typed(&mut app, "d");
    let effects = code(&mut app, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [Effect::Submit(_)]));

    let mut app = fixtures::app(120, 40);
    app.view = View::Tenants;
    key(&mut app, ' ');
    key(&mut app, ' ');
    assert_eq!(app.marked.len(), 2);
    key(&mut app, 'u');
    code(&mut app, KeyCode::Enter);
    let Dialog::TypedConfirm(c) = dialog(&app) else { panic!("typed confirmation expected") };
    assert_eq!(c.expect, "2 tenants");
    typed(&mut app, "y?q");
    let Dialog::TypedConfirm(c) = dialog(&app) else { panic!("still open") };
    assert_eq!(c.input.text, "y?q", "keys a typed confirmation does not bind are text");
    code(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(app.marked.len(), 2, "cancelling keeps the selection");
}

#[test]
fn the_changeset_editor_refuses_invalid_yaml_and_replans_with_valid_yaml() {
    let mut app = fixtures::app(120, 40);
    key(&mut app, 'u');
    key(&mut app, 'e');
    assert!(matches!(dialog(&app), Dialog::ChangesetEditor(_)));
    // Clear the "{}" and type a list, which is YAML but not a mapping.
    code(&mut app, KeyCode::End);
    code(&mut app, KeyCode::Backspace);
    code(&mut app, KeyCode::Backspace);
    typed(&mut app, "- a");
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    let Dialog::ChangesetEditor(e) = dialog(&app) else { panic!("editor expected") };
    assert!(e.error.as_deref().is_some_and(|e| e.contains("must be a YAML mapping")), "{:?}", e.error);
    for _ in 0..3 {
        code(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "reason: [unclosed");
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    let Dialog::ChangesetEditor(e) = dialog(&app) else { panic!("editor expected") };
    assert!(e.error.as_deref().is_some_and(|e| e.starts_with("not valid YAML")), "{:?}", e.error);
    for _ in 0.."[unclosed".len() {
        code(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "rotate keys");
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    let Dialog::Preview(p) = dialog(&app) else { panic!("preview expected") };
    assert_eq!(p.request.changeset_yaml, "reason: rotate keys\n");
    assert!(p.plan.batches[0].branches.iter().all(|b| b.changeset_yaml == "reason: rotate keys\n"));
}

#[test]
fn team_operations_pick_their_jobs() {
    let mut app = fixtures::app(120, 40);
    key(&mut app, 't');
    let Dialog::JobPicker(picker) = dialog(&app) else { panic!("job picker expected") };
    assert_eq!(picker.rows.len(), 1);
    code(&mut app, KeyCode::Enter);
    assert!(app.status.as_ref().is_some_and(|s| s.text.starts_with("pick at least one")));
    key(&mut app, ' ');
    code(&mut app, KeyCode::Enter);
    let Dialog::Preview(p) = dialog(&app) else { panic!("preview expected") };
    let runs: Vec<String> = p.plan.batches[0].branches.iter().map(|b| b.job.job.to_string()).collect();
    assert_eq!(runs, vec!["search/search-reindex"]);
}

#[test]
fn migrate_previews_both_halves_and_records_the_migration() {
    let mut app = fixtures::app(120, 40);
    key(&mut app, 'm');
    let Dialog::Preview(p) = dialog(&app) else { panic!("preview expected (one other region)") };
    let migrate_in = p.migrate_in.as_ref().expect("migrate-in half");
    assert_eq!(migrate_in.target, "us-east");
    assert_eq!(migrate_in.plan.batches[0].region, "us-east");
    assert_eq!(migrate_in.plan.batches[0].branches.len(), 2, "catalog and identity handle migrate-in");
    assert_eq!(p.plan.operation.as_str(), "lifecycle.migrate-out");
    code(&mut app, KeyCode::Enter);
    typed(&mut app, "acme-prod");
    let effects = code(&mut app, KeyCode::Enter);
    let [Effect::Submit(s)] = effects.as_slice() else { panic!("submit expected") };
    let [m] = s.migrations.as_slice() else { panic!("one migration per tenant: {:?}", s.migrations) };
    assert_eq!((m.source.as_str(), m.target.as_str()), ("eu-west", "us-east"));
    let out = m.out_batch.clone();
    // Both halves carry the migration on their pods, so other consoles can link them too.
    let link = crate::contract::labels::MigrationLink { id: out.clone(), target: "us-east".into() };
    assert!(s.plan.batches[0].branches.iter().all(|b| b.identity().migration.as_ref() == Some(&link)));
    let in_request = crate::lifecycle::engine::migrate::migrate_in_request(&s.request, "us-east", &out);
    let in_plan = crate::lifecycle::engine::plan(&in_request, &app.jobs);
    assert!(in_plan.batches[0].branches.iter().all(|b| b.identity().migration.as_ref() == Some(&link)));
    let in_id = in_plan.batches[0].batch_id.clone();
    // A console that did not start it sees one migration with its two halves.
    let mut other = fixtures::app(200, 50);
    for branch in s.plan.batches[0].branches.iter().chain(&in_plan.batches[0].branches) {
        update(&mut other, Msg::Data(DataEvent::Run(crate::lifecycle::run::RunEvent::Planned(branch.identity()))));
    }
    let role = |id: &str| migration_role::migration_role(&other, &other.runs.batches[id]).map(|r| r.text);
    assert_eq!(role(&out).as_deref(), Some("migrate-out ▸ us-east"));
    let after = format!("migrate-in ◂ eu-west (after {})", short_id(&out));
    assert_eq!(role(&in_id), Some(after));
    update(&mut app, Msg::Data(DataEvent::MigrationOutDone { id: out.clone(), all_succeeded: false }));
    assert_eq!(app.migrations[0].state, MigrationState::OutRunning, "the reason comes with the stop");
    let why = "migrate-out did not succeed on every branch: migrate-in was not started".to_string();
    update(&mut app, Msg::Data(DataEvent::MigrationStopped { id: out.clone(), why: why.clone() }));
    assert_eq!(app.migrations[0].state, MigrationState::Stopped(why));
    assert!(app.status.as_ref().is_some_and(|s| s.error && s.text.contains("migrate-in was not started")));
}

#[test]
fn read_only_and_rbac_refusals_disable_actions_with_the_reason() {
    let mut app = fixtures::app(120, 40);
    app.read_only = true;
    assert!(key(&mut app, 'u').is_empty());
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.status.as_ref().is_some_and(|s| s.text.contains("read-only mode")));

    let mut app = fixtures::app(120, 40);
    update(
        &mut app,
        Msg::Data(DataEvent::Access {
            region: "eu-west".into(),
            access: Access { create: Some("RBAC does not allow you to create pods in eu-west".into()), delete: None },
        }),
    );
    key(&mut app, 'u');
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.status.as_ref().is_some_and(|s| s.text.contains("RBAC does not allow you to create pods in eu-west")));
    app.view = View::Batch(BATCH.into());
    key(&mut app, 'x');
    assert!(matches!(dialog(&app), Dialog::Confirm(_)), "delete is allowed, so cancel asks");
}

#[test]
fn cancel_and_retry_are_confirmed_and_only_offered_when_they_mean_something() {
    let mut app = fixtures::app(120, 40);
    app.view = View::Batch(BATCH.into());
    key(&mut app, 'r');
    assert!(app.status.as_ref().is_some_and(|s| s.text.contains("still running")), "{:?}", app.status);
    key(&mut app, 'x');
    let Dialog::Confirm(c) = dialog(&app) else { panic!("confirm expected") };
    assert!(matches!(c.pending, Pending::Cancel(..)) && c.prompt.contains("1 unfinished"));
    assert!(key(&mut app, 'n').is_empty());
    key(&mut app, 'x');
    let effects = key(&mut app, 'y');
    assert!(matches!(effects.as_slice(), [Effect::Cancel { .. }]));
    // Once the running branch ends, retry reruns the failed one.
    update(
        &mut app,
        Msg::Data(DataEvent::Run(RunEvent::Pod(fixtures::branch_pod(
            "identity",
            "identity-realm",
            "Succeeded",
            Some(0),
        )))),
    );
    key(&mut app, 'r');
    let effects = key(&mut app, 'y');
    let [Effect::Retry { batch, .. }] = effects.as_slice() else { panic!("retry expected: {effects:?}") };
    assert_eq!(batch.failed_jobs(), vec![crate::contract::JobRef::new("lineage", "lineage-graph")]);
}

#[test]
fn log_lines_feed_the_scrollback_and_the_branch_table() {
    let app = fixtures::app(120, 40);
    let batch = &app.runs.batches[BATCH];
    let lineage = &batch.branches[&crate::contract::JobRef::new("lineage", "lineage-graph")];
    assert_eq!(lineage.phase(), Phase::Failed);
    assert_eq!(lineage.last_line.as_deref(), Some("title attack"), "the hostile line arrives inert");
    let logs = &app.logs[BATCH];
    assert_eq!(logs.scrollback.total(), 8);
    assert!(logs.scrollback.branch_lines(1).all(|l| !l.text.contains('\u{1b}')));
}

#[test]
fn log_view_follows_pauses_jumps_and_filters() {
    let mut app = fixtures::app(120, 40);
    app.view = View::Batch(BATCH.into());
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Logs(BATCH.into()));
    assert_eq!(app.log_view.anchor, None, "following by default");
    key(&mut app, 'k');
    assert!(app.log_view.anchor.is_some(), "scrolling up pauses");
    key(&mut app, 'G');
    assert_eq!(app.log_view.anchor, None, "G follows again");
    key(&mut app, 'e');
    let error_line = app.log_view.mark.and_then(|s| app.logs[BATCH].scrollback.get(s)).map(|l| l.text.to_string());
    assert_eq!(error_line.as_deref(), Some("Error: lineage graph over quota"));
    key(&mut app, ']');
    let first_failed = app.log_view.mark.and_then(|s| app.logs[BATCH].scrollback.get(s)).map(|l| l.text.to_string());
    assert_eq!(first_failed.as_deref(), Some("Pre-flight: counting lineage nodes..."));
    key(&mut app, '/');
    typed(&mut app, "keycloak");
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.logs[BATCH].scrollback.count(crate::logs::scrollback::Sequence::Matches), 2);
    key(&mut app, '/');
    typed(&mut app, "(");
    assert!(app.status.as_ref().is_some_and(|s| s.error && s.text.starts_with("not a regular expression")));
    code(&mut app, KeyCode::Esc);
    key(&mut app, 'v');
    assert!(app.log_view.split);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.log_view.focus, 1);
    key(&mut app, ']');
    assert_eq!(app.log_view.focus, 2, "split: ] focuses the failed branch's pane");
    let effects = key(&mut app, 's');
    assert!(matches!(effects.as_slice(), [Effect::SaveBundle { batch_id }] if batch_id == BATCH));
}

#[test]
fn connection_state_and_region_scope() {
    let mut app = fixtures::app(120, 40);
    update(
        &mut app,
        Msg::Data(DataEvent::Connection {
            region: "us-east".into(),
            state: Connection::Down("connection refused".into()),
        }),
    );
    assert_eq!(app.regions[1].connection, Connection::Down("connection refused".into()));
    assert_eq!(app.visible_tenants().len(), 5, "the other region's data stays");
    update(&mut app, Msg::Action(Action::Context(Some("eu-west".into()))));
    assert_eq!(app.visible_tenants().len(), 3);
    update(&mut app, Msg::Action(Action::Context(Some("mars".into()))));
    assert!(app.status.as_ref().is_some_and(|s| s.error && s.text.contains("no region \"mars\"")));
    update(&mut app, Msg::Action(Action::Context(None)));
    assert_eq!(app.visible_tenants().len(), 5);
    assert!(update(&mut app, Msg::Action(Action::Trigger(Intent::Operation(KnownOperation::Upsert)))).is_empty());
}

#[test]
fn notices_give_way_to_a_down_region_after_a_key_or_ten_seconds() {
    let mut app = fixtures::app(120, 40);
    let start = app.now;
    app.notice("theme light", false);
    update(&mut app, Msg::Tick(start + jiff::SignedDuration::from_secs(9)));
    assert!(app.status.is_some(), "still shown after 9 s");
    update(&mut app, Msg::Tick(start + jiff::SignedDuration::from_secs(10)));
    assert!(app.status.is_none(), "information fades after 10 s");
    app.notice("could not save the incident bundle", true);
    update(&mut app, Msg::Tick(start + jiff::SignedDuration::from_secs(60)));
    assert!(app.status.as_ref().is_some_and(|s| s.error), "an error stays until a key is pressed");
    key(&mut app, 'j');
    assert!(app.status.is_none(), "a key press puts the notice away");
}

#[test]
fn batch_actions_without_a_batch_say_why() {
    let mut app = fixtures::app(120, 40);
    assert!(update(&mut app, Msg::Action(Action::Cancel)).is_empty());
    assert!(app.status.as_ref().is_some_and(|s| s.text == "no batch selected: pick one in :runs"));
    app.view = View::Batch("019a0000-0000-7000-8000-0000000000ff".into());
    for k in ['x', 'r', 's'] {
        assert!(key(&mut app, k).is_empty(), "{k}: nothing to do yet");
        let status = app.status.as_ref().map(|s| s.text.clone());
        assert_eq!(status.as_deref(), Some("batch 000000ff has no branch pod yet"), "{k}");
    }
}

/// The console with `scope`'s dialog, line input or the help open, in a state where each of its
/// bindings shows: cursors mid-list, something picked, the right text typed, the help scrolled.
fn opened(scope: Scope) -> App {
    let mut app = fixtures::app(120, 40);
    let acme = app.tenants["eu-west"][0].clone();
    match scope {
        Scope::Command => {
            key(&mut app, ':');
            typed(&mut app, "job");
        }
        Scope::Filter => {
            key(&mut app, '/');
            typed(&mut app, "prod");
        }
        Scope::Help => {
            key(&mut app, '?');
            key(&mut app, 'j');
        }
        Scope::Dialog(DialogKind::JobPicker) => {
            let choice = |ns: &str, name: &str, picked| JobChoice {
                region: "eu-west".into(),
                job: JobRef::new(ns, name),
                picked,
            };
            let jobs = vec![choice("search", "search-reindex", true), choice("x", "y", false), choice("z", "w", false)];
            app.open_dialog(JobPicker { tenants: vec![acme], rows: jobs, cursor: 1 });
        }
        Scope::Dialog(DialogKind::RegionPicker) => {
            let regions = vec!["ap-south".to_string(), "us-east".to_string(), "sa-east".to_string()];
            app.open_dialog(RegionPicker { tenants: vec![acme], rows: regions, cursor: 1 });
        }
        Scope::Dialog(DialogKind::Preview) => {
            key(&mut app, 'u');
            let Mode::Dialog(d) = &mut app.mode else { panic!("no dialog") };
            let Dialog::Preview(p) = d.as_mut() else { panic!("no preview") };
            (p.cursor, p.scroll) = (1, 5);
        }
        Scope::Dialog(DialogKind::ChangesetEditor) => {
            key(&mut app, 'u');
            key(&mut app, 'e');
        }
        Scope::Dialog(DialogKind::Confirm) => {
            key(&mut app, 'u');
            code(&mut app, KeyCode::Enter);
        }
        Scope::Dialog(DialogKind::TypedConfirm) => {
            key(&mut app, 'o');
            code(&mut app, KeyCode::Enter);
            typed(&mut app, "acme-prod");
        }
        view => panic!("{view:?} is a view: its keys are tested with the views"),
    }
    assert_eq!(open_scope(&app), Some(scope), "opened");
    app
}

/// The scope of the dialog or line input open, if any.
fn open_scope(app: &App) -> Option<Scope> {
    match &app.mode {
        Mode::Command(_) => Some(Scope::Command),
        Mode::Filter(_) => Some(Scope::Filter),
        Mode::Help { over: None, .. } => Some(Scope::Help),
        Mode::Dialog(d) => Some(Scope::Dialog(d.kind())),
        Mode::Normal | Mode::Help { .. } => None,
    }
}

fn status(app: &App) -> &str {
    app.status.as_ref().map_or("", |s| s.text.as_str())
}

/// Checks that `action`, bound in `scope`, did what its hint says.
fn did_what_it_says(scope: Scope, action: &Action, app: &App, effects: &[Effect]) {
    use DialogKind as D;
    let dialog = match &app.mode {
        Mode::Dialog(d) => Some(d.as_ref()),
        _ => None,
    };
    let closed = matches!(app.mode, Mode::Normal) && effects.is_empty();
    match (scope, action) {
        (Scope::Command, Action::Confirm) => {
            assert!(matches!(app.mode, Mode::Normal) && app.view == View::Jobs, "runs :job")
        }
        (Scope::Command, Action::Complete) => assert!(matches!(&app.mode, Mode::Command(i) if i.text == "jobs")),
        (Scope::Command, Action::Dismiss) => assert!(closed && app.view == View::Tenants, "nothing run"),
        (Scope::Filter, Action::Confirm) => {
            assert!(matches!(app.mode, Mode::Normal) && app.tenants_cursor.filter == "prod")
        }
        (Scope::Filter, Action::Dismiss) => assert!(closed && app.tenants_cursor.filter.is_empty()),
        (Scope::Help, Action::Down) => assert!(matches!(app.mode, Mode::Help { scroll: 2, .. }), "scrolled down"),
        (Scope::Help, Action::Up) => assert!(matches!(app.mode, Mode::Help { scroll: 0, .. }), "scrolled up"),
        (Scope::Help, Action::Quit) => assert!(matches!(effects, [Effect::Quit]), "quits: {effects:?}"),
        (Scope::Dialog(kind), Action::Help) => {
            assert!(matches!(&app.mode, Mode::Help { over: Some(d), .. } if d.kind() == kind), "help over the dialog")
        }
        (Scope::Dialog(D::ChangesetEditor), Action::Dismiss) => {
            assert!(matches!(dialog, Some(Dialog::Preview(_))) && status(app) == "changeset edit discarded")
        }
        (Scope::Dialog(_), Action::Dismiss) => {
            assert!(closed && status(app).starts_with("cancelled"), "{:?}", app.status)
        }
        (Scope::Dialog(D::JobPicker | D::RegionPicker), Action::Confirm | Action::Choose) => {
            let Some(Dialog::Preview(p)) = dialog else { panic!("a preview: {:?}", app.mode) };
            match scope {
                Scope::Dialog(D::JobPicker) => {
                    assert_eq!(
                        p.request.only_jobs,
                        Some(vec![JobRef::new("search", "search-reindex")]),
                        "the picked Job"
                    )
                }
                _ => assert_eq!(p.migrate_in.as_ref().map(|m| m.target.as_str()), Some("us-east"), "the chosen region"),
            }
        }
        (Scope::Dialog(D::JobPicker), _) => {
            let Some(Dialog::JobPicker(p)) = dialog else { panic!("the picker stays: {:?}", app.mode) };
            let picked: Vec<bool> = p.rows.iter().map(|c| c.picked).collect();
            match action {
                Action::Down => assert_eq!(p.cursor, 2),
                Action::Up => assert_eq!(p.cursor, 0),
                Action::Pick => assert_eq!((picked.as_slice(), p.cursor), ([true, true, false].as_slice(), 2)),
                Action::PickAll => assert_eq!(picked, [true, true, true]),
                other => panic!("job picker: no check for {other:?}"),
            }
        }
        (Scope::Dialog(D::RegionPicker), Action::Down | Action::Up) => {
            let Some(Dialog::RegionPicker(p)) = dialog else { panic!("the picker stays: {:?}", app.mode) };
            assert_eq!(p.cursor, if *action == Action::Down { 2 } else { 0 });
        }
        (Scope::Dialog(D::Preview), _) => match (dialog, action) {
            (Some(Dialog::Preview(p)), Action::Down) => assert_eq!((p.cursor, p.scroll), (2, 0)),
            (Some(Dialog::Preview(p)), Action::Up) => assert_eq!((p.cursor, p.scroll), (0, 0)),
            (Some(Dialog::Preview(p)), Action::ScrollDown) => assert_eq!((p.cursor, p.scroll), (1, 10)),
            (Some(Dialog::Preview(p)), Action::ScrollUp) => assert_eq!((p.cursor, p.scroll), (1, 0)),
            (Some(Dialog::ChangesetEditor(_)), Action::Edit) => {}
            (Some(Dialog::Preview(p)), Action::SwitchEngine) => {
                assert_eq!(
                    (p.request.engine, p.plan.engine),
                    (crate::contract::Engine::Argo, crate::contract::Engine::Argo)
                )
            }
            (Some(Dialog::Confirm(c)), Action::Confirm) => assert!(c.prompt.ends_with("Run it? [y/N]")),
            (other, action) => panic!("preview: {action:?} left {other:?}"),
        },
        (Scope::Dialog(D::ChangesetEditor), Action::Save) => {
            assert!(matches!(dialog, Some(Dialog::Preview(_))) && status(app) == "changeset saved", "{:?}", app.status)
        }
        (Scope::Dialog(D::Confirm | D::TypedConfirm), Action::Confirm) => {
            assert!(matches!(effects, [Effect::Submit(_)]), "submitted: {effects:?}")
        }
        (scope, action) => panic!("{scope:?}: no check for {action:?}: say what it should do"),
    }
}

#[test]
fn every_key_of_every_dialog_line_input_and_the_help_does_what_its_hint_says() {
    // Every scope but the views' (their keys are the views' flows, tested above).
    let scopes = Scope::ALL.into_iter().filter(|s| !s.with_global() && *s != Scope::Global);
    for scope in scopes {
        let table = keys::bindings(scope);
        assert!(!table.is_empty(), "{scope:?} has bindings");
        for binding in table {
            for k in &binding.keys {
                let mut app = opened(scope);
                let effects = update(&mut app, Msg::Key(k.event()));
                let what = format!("{scope:?}: {} ({:?}, hint {:?})", k.label(), binding.action, binding.hint);
                let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    did_what_it_says(scope, &binding.action, &app, &effects)
                }));
                assert!(checked.is_ok(), "{what} did not do what it says");
            }
        }
    }
}

#[test]
fn help_opened_over_a_dialog_closes_back_to_it() {
    let mut app = fixtures::app(120, 40);
    key(&mut app, 'u');
    key(&mut app, '?');
    assert!(matches!(&app.mode, Mode::Help { over: Some(d), .. } if d.kind() == DialogKind::Preview));
    key(&mut app, 'j');
    assert!(matches!(&app.mode, Mode::Help { scroll: 1, .. }), "j scrolls the help");
    key(&mut app, 'x');
    assert!(matches!(dialog(&app), Dialog::Preview(_)), "any other key closes the help, the preview is back");
    key(&mut app, '?');
    code(&mut app, KeyCode::Esc);
    code(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal), "Esc closes the help, then the preview");
}

#[test]
fn doctor_examines_the_regions_shows_the_report_and_examines_again_on_r() {
    let mut app = fixtures::app(120, 40);
    key(&mut app, ':');
    typed(&mut app, "doctor");
    let effects = code(&mut app, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [Effect::RunDoctor]), "{effects:?}");
    assert_eq!(app.view, View::Doctor);
    assert_eq!(app.doctor, None, "running: no report yet");
    let report: Vec<String> = (0..60).map(|i| format!("line {i}")).collect();
    update(&mut app, Msg::Data(crate::tui::data::DataEvent::Doctor(report.clone())));
    assert_eq!(app.doctor.as_ref(), Some(&report));
    key(&mut app, 'G');
    assert_eq!(app.doctor_cursor.selected, 59, "the report scrolls like a list");
    let effects = key(&mut app, 'r');
    assert!(matches!(effects.as_slice(), [Effect::RunDoctor]), "r examines again: {effects:?}");
    assert_eq!(app.doctor, None);
    assert_eq!(app.doctor_cursor.selected, 0);
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Tenants, "one Esc leaves the doctor however often it ran");
}

#[test]
fn a_tenants_last_batch_follows_records_arriving_changing_and_going() {
    let mut app = fixtures::app(120, 40);
    let batch = |id: &str, day: i8| crate::lifecycle::run::Batch {
        id: id.into(),
        region: "eu-west".into(),
        tenant_id: "t-last".into(),
        tenant_name: "last-co".into(),
        operation: "lifecycle.upsert".into(),
        engine: None,
        started: Some(jiff::civil::date(2026, 11, day).at(9, 0, 0, 0).in_tz("UTC").expect("a time").timestamp()),
        migration: None,
        branches: Default::default(),
        workflow: None,
        from_record: true,
    };
    let last = |app: &App| app.last_batch_of("eu-west", "t-last").map(|b| b.id.clone());
    assert_eq!(last(&app), None);
    update(&mut app, Msg::Data(DataEvent::RecordBatches(vec![batch("x", 10), batch("w", 5)])));
    assert_eq!(last(&app).as_deref(), Some("x"));
    update(&mut app, Msg::Data(DataEvent::RecordBatches(vec![batch("y", 20)])));
    assert_eq!(last(&app).as_deref(), Some("y"), "a later batch takes over");
    // The latest goes and an older one comes, the number of batches unchanged: the next latest.
    update(&mut app, Msg::Data(DataEvent::RecordGone { batch_id: "y".into() }));
    update(&mut app, Msg::Data(DataEvent::RecordBatches(vec![batch("v", 1)])));
    assert_eq!(last(&app).as_deref(), Some("x"));
    // A record rewritten with a later start (its batch retried) moves it to the front.
    update(&mut app, Msg::Data(DataEvent::RecordBatches(vec![batch("w", 25)])));
    assert_eq!(last(&app).as_deref(), Some("w"));
}

#[test]
fn gc_previews_then_removes_only_on_yes_and_read_only_or_nothing_to_do_says_so() {
    use crate::lifecycle::retention::{Doomed, GcPlan, Previews, RecordState};
    let previews = |pods: usize| Previews {
        plans: vec![GcPlan {
            region: "eu-west".into(),
            batches: (0..pods.min(1))
                .map(|_| Doomed {
                    batch_id: "old-batch".into(),
                    tenant: "acme-prod".into(),
                    operation: "lifecycle.upsert".into(),
                    ended: None,
                    pods: (0..pods).map(|i| format!("team/pod-{i}")).collect(),
                    record: RecordState::Missing,
                })
                .collect(),
            kept: 3,
            running: 1,
            records: Vec::new(),
            requests: 2,
            ended: Default::default(),
        }],
        rules: vec!["eu-west: branch pods of batches ended over 7d ago".into()],
        took: std::time::Duration::from_millis(12),
    };
    let mut app = fixtures::app(120, 40);
    key(&mut app, ':');
    typed(&mut app, "gc");
    let effects = code(&mut app, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [Effect::PreviewGc]), "{effects:?}");

    // Something to remove: asked, in the danger style, with what goes and the rules.
    update(&mut app, Msg::Data(DataEvent::GcPreview(Ok(previews(8)))));
    let Dialog::Confirm(c) = dialog(&app) else { panic!("a confirmation") };
    assert!(c.danger);
    assert!(
        c.prompt.starts_with("Remove 8 branch pods and 0 records?\n• eu-west: the branch pods of 1 batch go (8 pods;"),
        "{}",
        c.prompt
    );
    assert!(c.prompt.contains("\nRules: eu-west: branch pods of batches ended over 7d ago.\n"), "{}", c.prompt);
    assert!(c.prompt.contains("1 not ended (never touched)"), "{}", c.prompt);
    // No: nothing happens.
    let effects = key(&mut app, 'n');
    assert!(effects.is_empty() && matches!(app.mode, Mode::Normal), "{effects:?}");
    assert_eq!(status(&app), "cancelled: nothing was changed");
    // Yes: exactly the previewed plans are removed.
    update(&mut app, Msg::Data(DataEvent::GcPreview(Ok(previews(8)))));
    let effects = key(&mut app, 'y');
    let [Effect::RunGc(plans)] = effects.as_slice() else { panic!("removal: {effects:?}") };
    assert_eq!(plans.iter().map(GcPlan::pods).sum::<usize>(), 8);
    assert_eq!(plans[0].batches[0].batch_id, "old-batch");

    // Nothing to remove: said, with the rules and what was kept.
    update(&mut app, Msg::Data(DataEvent::GcPreview(Ok(previews(0)))));
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(
        status(&app),
        "gc: nothing to remove (eu-west: branch pods of batches ended over 7d ago); 3 finished batches kept, 1 not ended; preview took 12 ms, 2 API requests"
    );
    // A preview that failed says why.
    update(&mut app, Msg::Data(DataEvent::GcPreview(Err("eu-west: forbidden: cannot list pods".into()))));
    assert_eq!(status(&app), "gc: eu-west: forbidden: cannot list pods");
    // Read-only: refused, nothing asked.
    app.read_only = true;
    update(&mut app, Msg::Data(DataEvent::GcPreview(Ok(previews(8)))));
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(status(&app), "read-only mode: gc would remove 8 branch pods and 0 records; nothing was removed");
}
