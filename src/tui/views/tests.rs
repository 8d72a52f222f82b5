//! Snapshots of every view at 80×24 and 200×50, drawn with ratatui's TestBackend from the fixture
//! estate (text only: what an operator reads).

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::contract::operation::KnownOperation;
use crate::tui::app::{App, Msg, View, update};
use crate::tui::fixtures::{self, BATCH};
use crate::tui::keys::Action;
use crate::tui::keys::{Intent, ViewKind};
use crate::tui::theme::Theme;

fn screen(app: &App) -> String {
    let (w, h) = (app.size.width, app.size.height);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| super::draw(f, app, &Theme::default_theme())).expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    // A previewed plan has fresh (random) batch ids: replace them with a fixed one of the same width.
    if let crate::tui::app::Mode::Dialog(d) = &app.mode
        && let crate::tui::app::dialogs::Dialog::Preview(p) = d.as_ref()
    {
        const FIXED: &str = "01234567-89ab-7cde-8f01-23456789abcd";
        for b in &p.plan.batches {
            out = out.replace(&b.batch_id, FIXED);
        }
        // An id cut off by the dialog's edge: its leading digits are a timestamp too.
        let cut = regex::Regex::new(r"batch ([0-9a-f][0-9a-f-]{3,})").expect("regex");
        out = cut.replace_all(&out, |c: &regex::Captures| format!("batch {}", &FIXED[..c[1].len()])).into_owned();
    }
    out
}

fn at_both_sizes(name: &str, setup: impl Fn(&mut App)) {
    for (width, height) in [(80, 24), (200, 50)] {
        let mut app = fixtures::app(width, height);
        setup(&mut app);
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), screen(&app));
    }
}

#[test]
fn tenants_view() {
    at_both_sizes("tenants", |app| {
        update(app, Msg::Action(Action::ToggleMark));
    });
}

#[test]
fn jobs_view() {
    at_both_sizes("jobs", |app| {
        update(app, Msg::Action(Action::Show(ViewKind::Jobs)));
        update(app, Msg::Action(Action::Down));
        update(app, Msg::Action(Action::Down));
        update(app, Msg::Action(Action::Down));
    });
}

#[test]
fn runs_view() {
    at_both_sizes("runs", |app| {
        update(app, Msg::Action(Action::Show(ViewKind::Runs)));
    });
}

#[test]
fn batch_view() {
    at_both_sizes("batch", |app| {
        app.view = View::Batch(BATCH.into());
    });
}

#[test]
fn a_tenant_id_reads_the_same_in_the_tenants_view_and_in_its_batch_header() {
    let mut app = fixtures::app(200, 50);
    let tenant_id = app.runs.batches.get(BATCH).expect("fixture batch").tenant_id.clone();
    let short = crate::contract::names::short_tenant_id(&tenant_id).to_string();
    let tenants = screen(&app);
    let row = tenants.lines().find(|l| l.contains("acme-prod ")).expect("acme-prod's row");
    assert!(row.contains(&short), "tenants row {row:?} lacks {short}");
    app.view = View::Batch(BATCH.into());
    let batch = screen(&app);
    assert!(batch.contains(&format!("for acme-prod ({short})")), "batch header lacks ({short}):\n{batch}");
}

#[test]
fn logs_merged_view() {
    at_both_sizes("logs_merged", |app| {
        app.open_logs(BATCH);
        update(app, Msg::Action(Action::ToggleTimestamps));
    });
}

#[test]
fn logs_split_view() {
    at_both_sizes("logs_split", |app| {
        app.open_logs(BATCH);
        update(app, Msg::Action(Action::ToggleSplit));
    });
}

#[test]
fn logs_split_view_filtered() {
    at_both_sizes("logs_split_filtered", |app| {
        app.open_logs(BATCH);
        update(app, Msg::Action(Action::ToggleSplit));
        update(app, Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('/'))));
        for c in "lineage|keycloak".chars() {
            update(app, Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c))));
        }
        update(app, Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter)));
    });
}

#[test]
fn preview_dialog() {
    at_both_sizes("preview", |app| {
        update(app, Msg::Action(Action::Trigger(Intent::Operation(KnownOperation::Upsert))));
    });
}

#[test]
fn confirm_dialog() {
    at_both_sizes("confirm_migrate_out", |app| {
        update(app, Msg::Action(Action::Trigger(Intent::Operation(KnownOperation::MigrateOut))));
        update(app, Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter)));
    });
}

#[test]
fn help_overlay() {
    at_both_sizes("help", |app| {
        update(app, Msg::Action(Action::Help));
    });
}

#[test]
fn history_view_and_read_only_header() {
    at_both_sizes("history_read_only", |app| {
        app.read_only = true;
        update(app, Msg::Action(Action::Show(ViewKind::History)));
        update(
            app,
            Msg::Data(crate::tui::data::DataEvent::Connection {
                region: "us-east".into(),
                state: crate::tui::data::Connection::Down("connection refused".into()),
            }),
        );
    });
}

#[test]
fn hostile_log_text_never_reaches_the_buffer_as_control_characters() {
    let mut app = fixtures::app(200, 50);
    app.open_logs(BATCH);
    let text = screen(&app);
    assert!(text.contains("title attack"));
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
}

/// The operator guide's screens are the 80×24 snapshots, in this order: a view that changes
/// without its screen in `docs/operator-guide.md` fails here (regenerate the block from the
/// snapshot).
#[test]
fn the_operator_guide_shows_the_views_as_they_are() {
    let order = [
        "tenants",
        "jobs",
        "runs",
        "batch",
        "logs_merged",
        "logs_split",
        "preview",
        "confirm_migrate_out",
        "help",
        "history_read_only",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("docs/operator-guide.md")).expect("the operator guide");
    let blocks: Vec<&str> =
        guide.split("```text\n").skip(1).map(|b| b.split("```").next().unwrap_or_default()).collect();
    assert_eq!(blocks.len(), order.len(), "one screen per view in the guide");
    for (name, block) in order.iter().zip(blocks) {
        let path = root.join(format!("src/tui/views/snapshots/tlc__tui__views__tests__{name}_80x24.snap"));
        let snapshot = std::fs::read_to_string(&path).expect("the snapshot");
        let screen = snapshot.splitn(3, "---\n").nth(2).expect("a snapshot body");
        assert_eq!(block.trim_end(), screen.trim_end(), "the guide's {name} screen differs from {}", path.display());
    }
}

#[test]
fn a_long_error_wraps_onto_more_status_rows_instead_of_being_cut_off() {
    let mut app = fixtures::app(80, 24);
    let text = "8 branch(es) could not run — billing/billing-account: eu-west: forbidden: cannot create pods in \
                namespace billing (pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\")";
    app.notice(text, true);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().collect();
    assert_eq!(rows.len(), 24);
    assert!(rows[20].starts_with("8 branch(es) could not run"), "three rows for it:\n{s}");
    assert!(rows[22].trim_end().ends_with("\"restricted:latest\")"), "the end of the message is shown:\n{s}");
    assert!(rows[23].contains("q quit") || rows[23].contains(": cmd"), "the footer stays on the last row:\n{s}");
}

/// Every dialog's key line on screen is its binding table's hints, and the footer under it offers
/// the help where the dialog binds it.
#[test]
fn every_dialog_shows_the_keys_of_its_binding_table() {
    use crate::tui::app::dialogs::RegionPicker;
    use crate::tui::keys::{self, DialogKind};
    let press = |app: &mut App, keys: &str| {
        for c in keys.chars() {
            let code = if c == '\r' { crossterm::event::KeyCode::Enter } else { crossterm::event::KeyCode::Char(c) };
            update(app, Msg::Key(crossterm::event::KeyEvent::from(code)));
        }
    };
    for kind in DialogKind::ALL {
        let mut app = fixtures::app(120, 40);
        match kind {
            DialogKind::JobPicker => press(&mut app, "t"),
            DialogKind::RegionPicker => {
                let tenants = vec![app.tenants["eu-west"][0].clone()];
                app.open_dialog(RegionPicker { tenants, rows: vec!["us-east".into(), "ap-south".into()], cursor: 0 });
            }
            DialogKind::Preview => press(&mut app, "u"),
            DialogKind::ChangesetEditor => press(&mut app, "ue"),
            DialogKind::Confirm => press(&mut app, "u\r"),
            DialogKind::TypedConfirm => press(&mut app, "o\r"),
        }
        assert!(matches!(&app.mode, crate::tui::app::Mode::Dialog(d) if d.kind() == kind), "{kind:?} is open");
        let s = screen(&app);
        for hint in keys::dialog_hints(kind) {
            let shown = format!("{} {}", hint.keys, hint.what);
            assert!(s.lines().any(|l| l.contains(&shown)), "{kind:?}: {shown:?} is on screen:\n{s}");
        }
        let footer = s.lines().last().unwrap_or_default();
        let offered: Vec<String> = keys::dialog_footer(kind).iter().map(|h| format!("{} {}", h.keys, h.what)).collect();
        assert_eq!(footer.trim(), offered.join("  "), "{kind:?}: the footer");
    }
}

#[test]
fn help_over_a_dialog_lists_the_dialogs_keys() {
    let mut app = fixtures::app(120, 40);
    update(&mut app, Msg::Action(Action::Trigger(Intent::Operation(KnownOperation::Upsert))));
    update(&mut app, Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('?'))));
    let s = screen(&app);
    assert!(s.contains("This dialog") && s.contains("edit the changeset every branch gets (YAML)"), "{s}");
    assert!(!s.contains("Everywhere") && !s.contains("Commands"), "only the dialog's keys apply:\n{s}");
    assert!(s.contains("┌ Preview — "), "the dialog stays drawn under the help:\n{s}");
}

#[test]
fn empty_lists_say_what_was_searched_and_point_at_the_doctor() {
    let mut app = fixtures::app(300, 30);
    app.jobs_searched = "carry tlc.dev/lifecycle in every namespace".into();
    for jobs in app.jobs.values_mut() {
        jobs.clear();
    }
    update(&mut app, Msg::Action(Action::Show(ViewKind::Jobs)));
    let text = screen(&app).replace('\n', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    let regions = app.jobs.keys().cloned().collect::<Vec<_>>().join(", ");
    assert!(
        text.contains(&format!("no lifecycle Jobs carry tlc.dev/lifecycle in every namespace of {regions}: :doctor shows which annotation keys the suspended Jobs carry")),
        "{text}"
    );
    for tenants in app.tenants.values_mut() {
        tenants.clear();
    }
    update(&mut app, Msg::Action(Action::Show(ViewKind::Tenants)));
    let text = screen(&app).replace('\n', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("no tenants in ConfigMaps labelled tlc.dev/tenant=true in namespace tenants of"), "{text}");
    assert!(text.contains(":doctor checks the tenant source"), "{text}");
}

#[test]
fn the_doctor_view_says_it_is_running_then_shows_the_report() {
    let mut app = fixtures::app(100, 24);
    update(&mut app, Msg::Action(Action::Show(ViewKind::Doctor)));
    assert!(screen(&app).contains("Doctor (running…)"), "{}", screen(&app));
    let lines = vec![
        "tlc doctor: engine direct, lifecycle annotation tlc.dev/lifecycle".to_string(),
        String::new(),
        "eu-west (context eu-west): NOT ready to trigger".to_string(),
        "  FAIL  lifecycle Jobs  no Job carries tlc.dev/lifecycle in every namespace".to_string(),
        String::new(),
        "not ready to trigger in eu-west: fix what says FAIL above".to_string(),
    ];
    update(&mut app, Msg::Data(crate::tui::data::DataEvent::Doctor(lines)));
    let text = screen(&app);
    assert!(text.contains("Doctor: NOT ready to trigger (r: again)"), "{text}");
    assert!(text.contains("  FAIL  lifecycle Jobs  no Job carries tlc.dev/lifecycle in every namespace"), "{text}");
}
