//! The log view's state: which sequence is shown (merged, filtered, one branch per pane), whether
//! it follows the end or is paused at a line, wrap and timestamps, the focused pane and its page,
//! and the jumps (next failed branch, next error line, next match).

use std::collections::HashMap;

use super::App;
use crate::contract::JobRef;
use crate::lifecycle::run::Phase;
use crate::logs::scrollback::{Scrollback, Sequence};
use crate::tui::keys::Action;

/// A batch's log: the scrollback and which branch index each Job has in it.
#[derive(Clone, Debug)]
pub struct BatchLogs {
    /// The lines.
    pub scrollback: Scrollback,
    /// Jobs in order of first line.
    pub jobs: Vec<JobRef>,
    index: HashMap<JobRef, u32>,
}

impl BatchLogs {
    /// Empty, keeping `capacity` lines.
    pub fn new(capacity: usize) -> Self {
        BatchLogs { scrollback: Scrollback::new(capacity), jobs: Vec::new(), index: HashMap::new() }
    }

    /// The scrollback index of a Job (assigned on first use).
    pub fn branch_index(&mut self, job: &JobRef) -> u32 {
        if let Some(i) = self.index.get(job) {
            return *i;
        }
        let i = self.jobs.len() as u32;
        self.jobs.push(job.clone());
        self.index.insert(job.clone(), i);
        i
    }

    /// The index of a Job, if it logged anything.
    pub fn index_of(&self, job: &JobRef) -> Option<u32> {
        self.index.get(job).copied()
    }
}

/// How the logs are shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogView {
    /// One pane per branch instead of the merged stream.
    pub split: bool,
    /// Paused at this line (its sequence number is the last shown); `None` follows the end.
    pub anchor: Option<u64>,
    /// Wrap long lines.
    pub wrap: bool,
    /// Show timestamps.
    pub timestamps: bool,
    /// The focused pane (index into the batch's branches).
    pub focus: usize,
    /// The filter (regex text).
    pub filter: Option<String>,
    /// A line to highlight (the last jump target).
    pub mark: Option<u64>,
}

/// Panes that fit: (columns, rows) of the grid for a body of `width`×`height`.
pub fn pane_grid(width: u16, height: u16, panes: usize) -> (usize, usize) {
    let cols = ((width as usize) / 50).clamp(1, 4);
    let rows = ((height as usize) / 8).clamp(1, 6);
    let per_page = cols * rows;
    if panes >= per_page {
        return (cols, rows);
    }
    // Fewer panes than fit: use as few rows as needed, then as few columns.
    let rows_needed = panes.div_ceil(cols).max(1);
    let cols_needed = panes.div_ceil(rows_needed).max(1);
    (cols_needed, rows_needed)
}

/// Which sequence the merged view shows.
pub fn merged_sequence(app: &App) -> Sequence {
    if app.log_view.filter.is_some() { Sequence::Matches } else { Sequence::All }
}

/// Which sequence a split pane of branch `b` shows: its lines, or only its matches while filtering.
pub fn pane_sequence(app: &App, b: u32) -> Sequence {
    if app.log_view.filter.is_some() { Sequence::BranchMatches(b) } else { Sequence::Branch(b) }
}

/// A split pane: one branch of the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pane {
    /// The branch's Job.
    pub job: JobRef,
    /// Its phase.
    pub phase: Phase,
}

/// The branches of a batch in pane order.
pub fn panes(app: &App, batch_id: &str) -> Vec<Pane> {
    app.runs
        .batches
        .get(batch_id)
        .map(|b| b.branches.values().map(|br| Pane { job: br.job.clone(), phase: br.phase() }).collect())
        .unwrap_or_default()
}

/// Lines in a page of the log view: the screen minus header, status line and footer, minus the
/// view's borders.
fn page_lines(app: &App) -> usize {
    (app.size.height.saturating_sub(3) as usize).saturating_sub(2).max(1)
}

/// Scrolling: moves the paused position (and pauses); Bottom resumes following.
pub fn scroll(app: &mut App, batch_id: &str, action: &Action) {
    let page = page_lines(app);
    let Some(logs) = app.logs.get(batch_id) else { return };
    let sb = &logs.scrollback;
    let seq = if app.log_view.split {
        let panes = panes(app, batch_id);
        match panes.get(app.log_view.focus).and_then(|p| logs.index_of(&p.job)) {
            Some(b) => pane_sequence(app, b),
            None => return,
        }
    } else {
        merged_sequence(app)
    };
    let count = sb.count(seq);
    if count == 0 {
        return;
    }
    let current = match app.log_view.anchor {
        Some(a) => sb.position_of(seq, a),
        None => count - 1,
    };
    let target = match action {
        Action::Up => current.saturating_sub(1),
        Action::Down => current + 1,
        Action::PageUp => current.saturating_sub(page),
        Action::PageDown => current + page,
        Action::Top => page.min(count) - 1,
        _ => count,
    };
    if target >= count - 1 || matches!(action, Action::Bottom) {
        app.log_view.anchor = None;
    } else {
        app.log_view.anchor = sb.seq_at(seq, target);
    }
}

/// Puts line `seq` in view (paused there) and marks it.
fn show_line(app: &mut App, seq: u64) {
    app.log_view.mark = Some(seq);
    app.log_view.anchor = Some(seq);
}

/// The log-only actions.
pub fn act(app: &mut App, batch_id: &str, action: &Action) {
    let v = &mut app.log_view;
    match action {
        Action::ToggleFollow => {
            if v.anchor.is_some() {
                v.anchor = None;
                app.notice("following", false);
            } else {
                let last = app.logs.get(batch_id).and_then(|l| {
                    let sb = &l.scrollback;
                    let seq = merged_sequence(app);
                    sb.count(seq).checked_sub(1).and_then(|i| sb.seq_at(seq, i))
                });
                app.log_view.anchor = last;
                app.notice("paused (f follows again)", false);
            }
        }
        Action::ToggleWrap => v.wrap = !v.wrap,
        Action::ToggleTimestamps => v.timestamps = !v.timestamps,
        Action::ToggleSplit => {
            v.split = !v.split;
            v.anchor = None;
        }
        Action::NextPane => {
            let n = panes(app, batch_id).len().max(1);
            app.log_view.focus = (app.log_view.focus + 1) % n;
            app.log_view.anchor = None;
        }
        Action::NextFailed => {
            let panes = panes(app, batch_id);
            let n = panes.len();
            let start = if app.log_view.split { app.log_view.focus + 1 } else { app.log_view.focus };
            let found = (0..n).map(|i| (start + i) % n.max(1)).find(|i| panes[*i].phase == Phase::Failed);
            match found {
                None => app.notice("no failed branch", false),
                Some(i) => {
                    app.log_view.focus = i;
                    if app.log_view.split {
                        app.log_view.anchor = None;
                    } else {
                        let first = app
                            .logs
                            .get(batch_id)
                            .and_then(|l| l.index_of(&panes[i].job).and_then(|b| l.scrollback.first_of_branch(b)));
                        app.log_view.focus = i + 1;
                        match first {
                            Some(seq) => show_line(app, seq),
                            None => app.notice(format!("{} failed and has no log lines", panes[i].job), false),
                        }
                    }
                }
            }
        }
        Action::NextError => {
            let branch = if app.log_view.split {
                let panes = panes(app, batch_id);
                let job = panes.get(app.log_view.focus).map(|p| p.job.clone());
                job.and_then(|j| app.logs.get(batch_id).and_then(|l| l.index_of(&j)))
            } else {
                None
            };
            let after = app.log_view.mark;
            match app.logs.get(batch_id).and_then(|l| l.scrollback.next_error(after, branch)) {
                Some(seq) => show_line(app, seq),
                None => app.notice("no error line", false),
            }
        }
        Action::NextMatch | Action::PrevMatch => {
            if app.log_view.filter.is_none() {
                app.notice("no filter: / sets one", false);
                return;
            }
            let after = app.log_view.mark;
            let backwards = matches!(action, Action::PrevMatch);
            match app.logs.get(batch_id).and_then(|l| l.scrollback.next_match(after, backwards)) {
                Some(seq) => show_line(app, seq),
                None => app.notice("no match", false),
            }
        }
        _ => {}
    }
}
