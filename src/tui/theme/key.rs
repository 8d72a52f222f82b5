//! The semantic style keys: what a piece of the console *is* (a failed branch, the read-only badge),
//! never what colour it is. A theme maps each key to a style.

use std::fmt;

/// Declares [`StyleKey`] with its dotted names in one place, so the enum, [`StyleKey::ALL`] and
/// [`StyleKey::name`] cannot drift apart.
macro_rules! style_keys {
    ($( $(#[doc = $doc:expr])* $variant:ident => $name:literal, )*) => {
        /// A semantic style: the console asks the theme for `StyleKey::BranchFailed`, never for a
        /// colour, so every theme (and every user patch) restyles the whole console consistently.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum StyleKey {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl StyleKey {
            /// Every key, in declaration order (`ALL[k as usize] == k`), for iterating and for
            /// checking that a theme sets them all.
            pub const ALL: &'static [StyleKey] = &[ $( StyleKey::$variant, )* ];

            /// The dotted name used in theme files and docs, e.g. `branch.failed`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( StyleKey::$variant => $name, )*
                }
            }
        }
    };
}

style_keys! {
    /// The default text and background of the whole screen.
    Base => "base",
    /// The border of an unfocused pane.
    Border => "border",
    /// The border of the focused pane.
    BorderFocused => "border.focused",
    /// The title of an unfocused pane.
    Title => "title",
    /// The title of the focused pane.
    TitleFocused => "title.focused",
    /// The header row of a table.
    TableHeader => "table.header",
    /// The row under the cursor.
    Selection => "selection",
    /// A row marked for a batch action.
    Marked => "marked",
    /// Secondary text: hints, placeholders, inactive items.
    Muted => "muted",
    /// Something wrong with an item (invalid tenant, missing data) shown inline.
    Problem => "problem",
    /// The part of a text that matches the filter.
    Match => "match",
    /// An informational message in the status line.
    StatusInfo => "status.info",
    /// An error message in the status line.
    StatusError => "status.error",
    /// The header bar across the top.
    HeaderBar => "header.bar",
    /// A region whose cluster is reachable.
    HeaderRegionOk => "header.region.ok",
    /// A region whose cluster is being connected to.
    HeaderRegionConnecting => "header.region.connecting",
    /// A region whose cluster is unreachable.
    HeaderRegionDown => "header.region.down",
    /// The run engine badge (direct / argo).
    HeaderEngine => "header.engine",
    /// The read-only badge.
    HeaderReadonly => "header.readonly",
    /// A key in the footer's key hints.
    FooterKey => "footer.key",
    /// The description next to a key in the footer.
    FooterText => "footer.text",
    /// A branch that has not started.
    BranchPending => "branch.pending",
    /// A branch that is running.
    BranchRunning => "branch.running",
    /// A branch that succeeded.
    BranchSucceeded => "branch.succeeded",
    /// A branch that failed.
    BranchFailed => "branch.failed",
    /// A branch that was cancelled.
    BranchCancelled => "branch.cancelled",
    /// The succeeded part of a progress gauge.
    GaugeSucceeded => "gauge.succeeded",
    /// The failed part of a progress gauge.
    GaugeFailed => "gauge.failed",
    /// The running part of a progress gauge.
    GaugeRunning => "gauge.running",
    /// The pending part of a progress gauge.
    GaugePending => "gauge.pending",
    /// The timestamp at the start of a log line.
    LogTimestamp => "log.timestamp",
    /// A log line that looks like an error.
    LogError => "log.error",
    /// The border of a dialog.
    DialogBorder => "dialog.border",
    /// A destructive confirmation dialog (its border, title and the dangerous choice).
    DialogDanger => "dialog.danger",
    /// A text input: the filter box and the command line.
    Input => "input",
}

impl StyleKey {
    /// How many keys there are: the size of a theme's style table.
    pub const COUNT: usize = Self::ALL.len();

    /// The key with this dotted name, for reading theme files.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|key| key.name() == name)
    }

    /// Whether `path` is a proper prefix of some key (`header.region` of `header.region.ok`): a
    /// table in a theme file that groups keys rather than being one.
    pub(super) fn is_group(path: &str) -> bool {
        Self::ALL.iter().any(|key| key.name().strip_prefix(path).is_some_and(|rest| rest.starts_with('.')))
    }
}

impl fmt::Display for StyleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
