//! Colour themes for the console.
//!
//! Styles are semantic: code asks for `theme.style(StyleKey::BranchFailed)`, never for a colour,
//! so a theme restyles the whole console. Four themes are built into the binary (`dark`, the
//! default, `light`, `high-contrast` and `colorblind`, from `themes/*.toml` in the repository);
//! users add or adjust themes with TOML files in their config directory (`…/tlc/themes/NAME.toml`).
//!
//! Every theme file is a *patch*: only the styles it gives change. `dark.toml` gives them all; the
//! other built-ins are patches over `dark` that also give them all (so each is complete on its
//! own). A user file named like a built-in patches over that built-in; any other user file patches
//! over the built-in named by its top-level `extends` (default `dark`). A style given replaces that
//! style wholly. Unknown keys are warnings; bad values are errors naming the file and the key.
//! The format is documented for users in `docs/themes.md`.

mod colour;
mod error;
mod file;
mod key;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

pub use colour::parse_colour;
pub use error::{Result, ThemeError};
pub use key::StyleKey;

use file::Patch;

/// The theme used when neither the configuration nor the user picks one.
pub const DEFAULT_THEME: &str = "dark";

/// A built-in theme, embedded so the binary needs no files at run time.
struct Builtin {
    /// Its name.
    name: &'static str,
    /// Its file's text.
    text: &'static str,
}

/// The built-in themes, in the order shown to users.
const BUILTINS: [Builtin; 4] = [
    Builtin { name: "dark", text: include_str!("../../../themes/dark.toml") },
    Builtin { name: "light", text: include_str!("../../../themes/light.toml") },
    Builtin { name: "high-contrast", text: include_str!("../../../themes/high-contrast.toml") },
    Builtin { name: "colorblind", text: include_str!("../../../themes/colorblind.toml") },
];

/// The built-in theme names, in the order shown to users.
const BUILTIN_NAMES: [&str; 4] = [BUILTINS[0].name, BUILTINS[1].name, BUILTINS[2].name, BUILTINS[3].name];

/// A complete set of styles for the console: one [`Style`] per [`StyleKey`] plus the colours
/// given to branches in merged logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// The name it was loaded by (`dark`, or a user file's name).
    name: String,
    /// Indexed by `StyleKey as usize`.
    styles: [Style; StyleKey::COUNT],
    /// `palette.branches`; never empty.
    palette: Vec<Color>,
}

/// A loaded theme with the warnings its files produced (unknown keys), for the caller to show
/// once; a theme with warnings is still usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The theme.
    pub theme: Theme,
    /// One line per problem, each naming the file and key, e.g.
    /// `themes/mine.toml: unknown key "branch.faild" (ignored)`.
    pub warnings: Vec<String>,
}

impl Theme {
    /// The built-in theme names (`dark`, `light`, `high-contrast`, `colorblind`), for help texts
    /// and completion.
    pub fn builtin_names() -> &'static [&'static str] {
        &BUILTIN_NAMES
    }

    /// Every theme that can be loaded: the built-ins and the `*.toml` files in `user_dir`, sorted
    /// and deduplicated (a user `dark.toml` is still just `dark`). A missing or unreadable
    /// directory contributes nothing.
    pub fn available(user_dir: Option<&Path>) -> Vec<String> {
        let mut names: Vec<String> = BUILTIN_NAMES.iter().map(|name| (*name).to_owned()).collect();
        if let Some(entries) = user_dir.and_then(|dir| fs::read_dir(dir).ok()) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|ext| ext == "toml")
                    && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                    && is_plain_name(stem)
                    && !path.is_dir()
                {
                    names.push(stem.to_owned());
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// Loads the theme `name`: the user's `user_dir/NAME.toml` if there is one (patched over the
    /// built-in of the same name, or the one its `extends` names, else `dark`), else the built-in.
    /// `user_dir` is the user's theme directory; `None` or a missing directory means no user
    /// themes.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Loaded> {
        let Some(path) = user_dir.and_then(|dir| user_file(dir, name)) else {
            return match builtin_text(name) {
                Some(_) => load_builtin(name),
                None => Err(ThemeError::UnknownTheme {
                    name: name.to_owned(),
                    available: Theme::available(user_dir).join(", "),
                }),
            };
        };
        let text = fs::read_to_string(&path).map_err(|source| ThemeError::Read { path: path.clone(), source })?;
        let mut patch = Patch::parse(&text, &path)?;
        let base = if builtin_text(name).is_some() {
            if let Some(extends) = &patch.extends {
                let message = format!(
                    "extends = {extends:?} is ignored: a file named like the built-in theme {name:?} always patches over it"
                );
                patch.warn(&message);
            }
            name
        } else {
            match patch.extends.as_deref() {
                None => DEFAULT_THEME,
                Some(base) if builtin_text(base).is_some() => base,
                Some(base) => {
                    return Err(ThemeError::UnknownBase {
                        path,
                        name: base.to_owned(),
                        builtins: BUILTIN_NAMES.join(", "),
                    });
                }
            }
        };
        let Loaded { mut theme, mut warnings } = load_builtin(base)?;
        theme.apply(&patch);
        theme.name = name.to_owned();
        warnings.append(&mut patch.warnings);
        Ok(Loaded { theme, warnings })
    }

    /// The embedded `dark` theme, for start-up before any configuration is read. Never panics: if
    /// the embedded file could not be parsed (a test makes sure it can) it falls back to a minimal
    /// built-in style set.
    pub fn default_theme() -> Theme {
        load_builtin(DEFAULT_THEME).map_or_else(|_| Theme::fallback(), |loaded| loaded.theme)
    }

    /// The name the theme was loaded by, for the status line and `:theme` without arguments.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The style for `key`. It is not merged with [`StyleKey::Base`]: the caller decides what a
    /// style is drawn over (usually `Block::style(theme.style(StyleKey::Base))` on the frame).
    pub fn style(&self, key: StyleKey) -> Style {
        self.styles[key as usize]
    }

    /// The colour of the `index`th branch's prefix in merged logs; the palette repeats.
    pub fn branch_colour(&self, index: usize) -> Color {
        // The palette is never empty (parsing rejects an empty one); `Reset` keeps this total.
        self.palette.get(index % self.palette.len().max(1)).copied().unwrap_or(Color::Reset)
    }

    /// The branch prefix colours (`palette.branches`), never empty.
    pub fn palette(&self) -> &[Color] {
        &self.palette
    }

    /// A bordered pane titled `title` (no title when empty), its border and title styled by
    /// whether it has the focus, so every pane looks alike.
    pub fn block(&self, title: &str, focused: bool) -> Block<'static> {
        let (border, title_style) = if focused {
            (StyleKey::BorderFocused, StyleKey::TitleFocused)
        } else {
            (StyleKey::Border, StyleKey::Title)
        };
        let block = Block::bordered().border_style(self.style(border));
        if title.is_empty() {
            block
        } else {
            block.title(Line::from(Span::styled(title.to_owned(), self.style(title_style))))
        }
    }

    /// The style of a list or table row: `selection` under the cursor, `marked` when marked for a
    /// batch action, both together when both (the selection's colours over the mark), and no style
    /// (the row inherits) otherwise.
    pub fn item(&self, selected: bool, marked: bool) -> Style {
        match (selected, marked) {
            (false, false) => Style::new(),
            (true, false) => self.style(StyleKey::Selection),
            (false, true) => self.style(StyleKey::Marked),
            (true, true) => self.style(StyleKey::Marked).patch(self.style(StyleKey::Selection)),
        }
    }

    /// Overwrites the styles and palette `patch` gives.
    fn apply(&mut self, patch: &Patch) {
        for (style, given) in self.styles.iter_mut().zip(&patch.styles) {
            if let Some(given) = given {
                *style = *given;
            }
        }
        if let Some(palette) = &patch.palette {
            self.palette.clone_from(palette);
        }
    }

    /// A minimal theme that needs no parsing: modifiers and the basic ANSI colours only. It is
    /// what `dark.toml` patches over, so a key the file somehow lacked would still be usable.
    fn fallback() -> Theme {
        let mut styles = [Style::new(); StyleKey::COUNT];
        let bold = Style::new().add_modifier(Modifier::BOLD);
        for (key, style) in [
            (StyleKey::BorderFocused, bold),
            (StyleKey::TitleFocused, bold),
            (StyleKey::TableHeader, bold),
            (StyleKey::Selection, Style::new().add_modifier(Modifier::REVERSED)),
            (StyleKey::Marked, bold.fg(Color::Yellow)),
            (StyleKey::Muted, Style::new().add_modifier(Modifier::DIM)),
            (StyleKey::Problem, Style::new().fg(Color::Red)),
            (StyleKey::Match, Style::new().add_modifier(Modifier::UNDERLINED)),
            (StyleKey::StatusError, bold.fg(Color::Red)),
            (StyleKey::HeaderBar, Style::new().add_modifier(Modifier::REVERSED)),
            (StyleKey::HeaderRegionDown, bold.fg(Color::Red)),
            (StyleKey::HeaderReadonly, bold.fg(Color::Yellow)),
            (StyleKey::FooterKey, bold),
            (StyleKey::BranchPending, Style::new().add_modifier(Modifier::DIM)),
            (StyleKey::BranchRunning, Style::new().fg(Color::Blue)),
            (StyleKey::BranchSucceeded, Style::new().fg(Color::Green)),
            (StyleKey::BranchFailed, bold.fg(Color::Red)),
            (StyleKey::BranchCancelled, Style::new().fg(Color::Yellow)),
            (StyleKey::GaugeSucceeded, Style::new().fg(Color::Green)),
            (StyleKey::GaugeFailed, Style::new().fg(Color::Red)),
            (StyleKey::GaugeRunning, Style::new().fg(Color::Blue)),
            (StyleKey::LogTimestamp, Style::new().add_modifier(Modifier::DIM)),
            (StyleKey::LogError, Style::new().fg(Color::Red)),
            (StyleKey::DialogDanger, bold.fg(Color::Red)),
        ] {
            styles[key as usize] = style;
        }
        Theme {
            name: DEFAULT_THEME.to_owned(),
            styles,
            palette: vec![Color::Cyan, Color::Magenta, Color::Yellow, Color::Blue],
        }
    }
}

impl Default for Theme {
    /// [`Theme::default_theme`].
    fn default() -> Self {
        Theme::default_theme()
    }
}

/// The embedded text of the built-in theme `name`.
fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|b| b.name == name).map(|b| b.text)
}

/// The path built-in theme files are named by in messages (their place in the repository).
fn builtin_path(name: &str) -> PathBuf {
    PathBuf::from(format!("themes/{name}.toml"))
}

/// Parses the built-in theme `name`: `dark` over [`Theme::fallback`], the others over `dark`.
fn load_builtin(name: &str) -> Result<Loaded> {
    let available = || Theme::available(None).join(", ");
    let text =
        builtin_text(name).ok_or_else(|| ThemeError::UnknownTheme { name: name.to_owned(), available: available() })?;
    let mut patch = Patch::parse(text, &builtin_path(name))?;
    if let Some(extends) = &patch.extends {
        let message = format!("extends = {extends:?} is ignored in a built-in theme");
        patch.warn(&message);
    }
    let (mut theme, mut warnings) = if name == DEFAULT_THEME {
        (Theme::fallback(), Vec::new())
    } else {
        let Loaded { theme, warnings } = load_builtin(DEFAULT_THEME)?;
        (theme, warnings)
    };
    theme.apply(&patch);
    theme.name = name.to_owned();
    warnings.append(&mut patch.warnings);
    Ok(Loaded { theme, warnings })
}

/// `dir/NAME.toml` when it exists (as anything but a directory) and `name` is a plain name, not a
/// path.
fn user_file(dir: &Path, name: &str) -> Option<PathBuf> {
    if !is_plain_name(name) {
        return None;
    }
    let path = dir.join(format!("{name}.toml"));
    match fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_dir() => Some(path),
        _ => None,
    }
}

/// Whether `name` can be a theme name: non-empty, not hidden, no path separators.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}
