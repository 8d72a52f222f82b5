use std::fs;
use std::path::Path;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;
use tempfile::TempDir;

use super::file::Patch;
use super::*;

const HELP: &str = r##"(a name like "red" or "light-blue", "#rrggbb", or 0-255)"##;

/// A user theme directory holding `files` (name, text).
fn user_dir(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn builtin(name: &str) -> Theme {
    let loaded = Theme::load(name, None).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    loaded.theme
}

fn load_err(name: &str, dir: &Path) -> String {
    Theme::load(name, Some(dir)).unwrap_err().to_string()
}

fn file(dir: &TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

#[test]
fn builtins_load_without_warnings_and_are_complete() {
    assert_eq!(Theme::builtin_names(), ["dark", "light", "high-contrast", "colorblind"]);
    for Builtin { name, text } in BUILTINS {
        let theme = builtin(name);
        assert_eq!(theme.name(), name);
        assert!(!theme.palette().is_empty());
        let patch = Patch::parse(text, &builtin_path(name)).unwrap();
        assert!(patch.warnings.is_empty(), "{name}: {:?}", patch.warnings);
        assert!(patch.extends.is_none(), "{name}");
        let missing: Vec<_> = StyleKey::ALL.iter().filter(|k| patch.styles[**k as usize].is_none()).collect();
        assert!(missing.is_empty(), "{name}.toml does not set {missing:?}");
        assert!(patch.is_complete(), "{name}.toml has no palette");
    }
}

#[test]
fn builtins_differ() {
    let themes: Vec<Theme> = Theme::builtin_names().iter().map(|name| builtin(name)).collect();
    for (i, a) in themes.iter().enumerate() {
        for b in &themes[i + 1..] {
            assert_ne!(a.styles, b.styles, "{} and {}", a.name(), b.name());
        }
    }
}

#[test]
fn default_theme_is_the_embedded_dark() {
    assert_eq!(DEFAULT_THEME, "dark");
    let theme = Theme::default_theme();
    assert_eq!(theme, builtin("dark"));
    assert_eq!(Theme::default(), theme);
    assert_ne!(theme, Theme::fallback(), "dark.toml should change the fallback");
    assert_eq!(theme.style(StyleKey::BranchFailed), Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD));
    assert_eq!(theme.style(StyleKey::Base), Style::new());
}

#[test]
fn fallback_is_usable() {
    let theme = Theme::fallback();
    assert_eq!(theme.name(), DEFAULT_THEME);
    assert!(theme.style(StyleKey::Selection).add_modifier.contains(Modifier::REVERSED));
    assert_ne!(theme.style(StyleKey::BranchFailed), theme.style(StyleKey::BranchSucceeded));
    assert!(!theme.palette().is_empty());
}

#[test]
fn style_key_names_are_unique_and_round_trip() {
    assert_eq!(StyleKey::ALL.len(), 35);
    for (i, key) in StyleKey::ALL.iter().enumerate() {
        assert_eq!(*key as usize, i);
        assert_eq!(StyleKey::from_name(key.name()), Some(*key));
        assert_eq!(key.to_string(), key.name());
    }
    assert_eq!(StyleKey::BranchFailed.name(), "branch.failed");
    assert_eq!(StyleKey::HeaderRegionOk.name(), "header.region.ok");
    assert_eq!(StyleKey::from_name("branch"), None);
    assert!(StyleKey::is_group("header.region"));
    assert!(StyleKey::is_group("border"));
    assert!(!StyleKey::is_group("branch.failed"));
    assert!(!StyleKey::is_group("head"));
}

#[test]
fn docs_list_every_key() {
    let docs = include_str!("../../../docs/themes.md");
    for key in StyleKey::ALL {
        assert!(docs.contains(&format!("| `{}` |", key.name())), "docs/themes.md does not list {key}");
    }
    assert!(docs.contains("| `palette.branches` |"));
}

#[test]
fn user_patch_changes_only_its_keys() {
    let dir = user_dir(&[("mine.toml", "[branch]\nfailed = { fg = \"magenta\", underline = true }\n")]);
    let loaded = Theme::load("mine", Some(dir.path())).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let (mine, dark) = (loaded.theme, builtin("dark"));
    assert_eq!(mine.name(), "mine");
    // The style given replaces dark's wholly (dark's is bold; this is not).
    assert_eq!(mine.style(StyleKey::BranchFailed), Style::new().fg(Color::Magenta).add_modifier(Modifier::UNDERLINED));
    for key in StyleKey::ALL.iter().filter(|k| **k != StyleKey::BranchFailed) {
        assert_eq!(mine.style(*key), dark.style(*key), "{key}");
    }
    assert_eq!(mine.palette(), dark.palette());
}

#[test]
fn a_table_holds_its_own_style_and_longer_keys() {
    let text = "[border]\nfocused = { fg = 1 }\n[title]\nfg = \"red\"\n[header.region]\ndown = { bg = \"blue\" }\n";
    let dir = user_dir(&[("mine.toml", text)]);
    let mine = Theme::load("mine", Some(dir.path())).unwrap().theme;
    let dark = builtin("dark");
    assert_eq!(mine.style(StyleKey::Border), dark.style(StyleKey::Border), "only border.focused was given");
    assert_eq!(mine.style(StyleKey::BorderFocused), Style::new().fg(Color::Indexed(1)));
    assert_eq!(mine.style(StyleKey::Title), Style::new().fg(Color::Red));
    assert_eq!(mine.style(StyleKey::TitleFocused), dark.style(StyleKey::TitleFocused));
    assert_eq!(mine.style(StyleKey::HeaderRegionDown), Style::new().bg(Color::Blue));
}

#[test]
fn empty_style_is_plain_and_false_turns_a_modifier_off() {
    let text = "[branch]\nfailed = {}\nsucceeded = { bold = false, italic = true }\n";
    let dir = user_dir(&[("mine.toml", text)]);
    let mine = Theme::load("mine", Some(dir.path())).unwrap().theme;
    assert_eq!(mine.style(StyleKey::BranchFailed), Style::new());
    let succeeded = mine.style(StyleKey::BranchSucceeded);
    assert_eq!(succeeded, Style::new().remove_modifier(Modifier::BOLD).add_modifier(Modifier::ITALIC));
    let over_bold = Style::new().add_modifier(Modifier::BOLD).patch(succeeded);
    assert!(!over_bold.add_modifier.contains(Modifier::BOLD));
}

#[test]
fn user_file_named_like_a_builtin_patches_it() {
    let dir = user_dir(&[("light.toml", "selection = { reversed = true }\n[palette]\nbranches = [\"red\"]\n")]);
    let loaded = Theme::load("light", Some(dir.path())).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let (mine, light) = (loaded.theme, builtin("light"));
    assert_eq!(mine.name(), "light");
    assert_eq!(mine.style(StyleKey::Selection), Style::new().add_modifier(Modifier::REVERSED));
    for key in StyleKey::ALL.iter().filter(|k| **k != StyleKey::Selection) {
        assert_eq!(mine.style(*key), light.style(*key), "{key}");
    }
    assert_eq!(mine.palette(), [Color::Red]);
    // The built-in itself is untouched without the user directory.
    assert_ne!(light.style(StyleKey::Selection), mine.style(StyleKey::Selection));
}

#[test]
fn extends_in_a_file_named_like_a_builtin_is_ignored_with_a_warning() {
    let dir = user_dir(&[("dark.toml", "extends = \"light\"\n")]);
    let loaded = Theme::load("dark", Some(dir.path())).unwrap();
    assert_eq!(loaded.theme, builtin("dark"));
    assert_eq!(
        loaded.warnings,
        [format!(
            "{}: extends = \"light\" is ignored: a file named like the built-in theme \"dark\" always patches over it",
            file(&dir, "dark.toml")
        )]
    );
}

#[test]
fn extends_picks_the_builtin_patched_over() {
    let dir = user_dir(&[("mine.toml", "extends = \"high-contrast\"\nmuted = { dim = true }\n"), ("plain.toml", "")]);
    let mine = Theme::load("mine", Some(dir.path())).unwrap().theme;
    let high_contrast = builtin("high-contrast");
    assert_eq!(mine.style(StyleKey::Muted), Style::new().add_modifier(Modifier::DIM));
    for key in StyleKey::ALL.iter().filter(|k| **k != StyleKey::Muted) {
        assert_eq!(mine.style(*key), high_contrast.style(*key), "{key}");
    }
    assert_eq!(mine.palette(), high_contrast.palette());
    // Without `extends`, a user theme patches over dark.
    let plain = Theme::load("plain", Some(dir.path())).unwrap().theme;
    assert_eq!(plain.styles, builtin("dark").styles);
    assert_eq!(plain.name(), "plain");
}

#[test]
fn extends_an_unknown_theme_is_an_error_listing_the_builtins() {
    let dir = user_dir(&[("mine.toml", "extends = \"solarized\"\n"), ("other.toml", "")]);
    assert_eq!(
        load_err("mine", dir.path()),
        format!(
            "{}: extends = \"solarized\": there is no built-in theme of that name \
             (built-ins: dark, light, high-contrast, colorblind)",
            file(&dir, "mine.toml")
        )
    );
    // Only built-ins can be extended, not other user themes.
    let dir = user_dir(&[("mine.toml", "extends = \"other\"\n"), ("other.toml", "")]);
    assert!(load_err("mine", dir.path()).contains("extends = \"other\": there is no built-in theme"));
    let dir = user_dir(&[("mine.toml", "extends = 3\n")]);
    assert_eq!(
        load_err("mine", dir.path()),
        format!("{}: extends: expected the name of a built-in theme, found 3", file(&dir, "mine.toml"))
    );
}

#[test]
fn unknown_keys_are_warnings_naming_file_and_key() {
    let text = "nonsense = 1\n[brnch]\nfailed = {}\n[branch]\nfaild = { fg = \"red\" }\n\
                failed = { fg = \"red\", blink = true }\n[header]\nfg = \"red\"\n[palette]\ncolours = []\n";
    let dir = user_dir(&[("mine.toml", text)]);
    let loaded = Theme::load("mine", Some(dir.path())).unwrap();
    let path = file(&dir, "mine.toml");
    let mut expected: Vec<String> =
        ["branch.faild", "branch.failed.blink", "brnch", "header.fg", "nonsense", "palette.colours"]
            .iter()
            .map(|key| format!("{path}: unknown key \"{key}\" (ignored)"))
            .collect();
    let mut warnings = loaded.warnings;
    warnings.sort();
    expected.sort();
    assert_eq!(warnings, expected);
    // The known parts still apply.
    assert_eq!(loaded.theme.style(StyleKey::BranchFailed), Style::new().fg(Color::Red));
}

#[test]
fn unknown_key_warning_text() {
    let path = Path::new("themes/mine.toml");
    let patch = Patch::parse("[branch]\nfaild = { fg = \"red\" }\n", path).unwrap();
    assert_eq!(patch.warnings, ["themes/mine.toml: unknown key \"branch.faild\" (ignored)"]);
}

#[test]
fn bad_colour_is_an_error_naming_file_key_and_value() {
    let path = Path::new("/home/x/.config/tlc/themes/mine.toml");
    let err = Patch::parse("[branch]\nfailed = { fg = \"redd\" }\n", path).unwrap_err();
    assert_eq!(
        err.to_string(),
        r##"/home/x/.config/tlc/themes/mine.toml: branch.failed.fg: "redd" is not a colour (a name like "red" or "light-blue", "#rrggbb", or 0-255)"##
    );
    let dir = user_dir(&[("mine.toml", "selection = { bg = 256 }\n")]);
    assert_eq!(
        load_err("mine", dir.path()),
        format!("{}: selection.bg: 256 is not a colour {HELP}", file(&dir, "mine.toml"))
    );
    let err = Patch::parse("[header.region]\nok.fg = true\n", path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("/home/x/.config/tlc/themes/mine.toml: header.region.ok.fg: true is not a colour {HELP}")
    );
}

#[test]
fn non_boolean_modifier_is_an_error() {
    let dir = user_dir(&[("mine.toml", "[branch]\nfailed = { fg = \"red\", bold = \"yes\" }\n")]);
    assert_eq!(
        load_err("mine", dir.path()),
        format!("{}: branch.failed.bold: expected true or false, found \"yes\"", file(&dir, "mine.toml"))
    );
    let err = Patch::parse("[title.focused]\nunderline = 1\n", Path::new("t.toml")).unwrap_err();
    assert_eq!(err.to_string(), "t.toml: title.focused.underline: expected true or false, found 1");
}

#[test]
fn a_style_must_be_a_table() {
    let err = Patch::parse("[branch]\nfailed = \"red\"\n", Path::new("t.toml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"t.toml: branch.failed: expected a style like { fg = "red", bold = true }, found "red""#
    );
    let err = Patch::parse("header = 1\n", Path::new("t.toml")).unwrap_err();
    assert_eq!(err.to_string(), "t.toml: header: expected a table of styles, found 1");
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    let dir = user_dir(&[("mine.toml", "[branch]\nfailed = { fg = \"red\" bold = true }\nrunning = {}\n")]);
    let err = Theme::load("mine", Some(dir.path())).unwrap_err();
    let ThemeError::Syntax { line, column, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*line, *column), (2, 23), "{err}");
    let prefix = format!("{}: line 2, column 23: invalid TOML: ", file(&dir, "mine.toml"));
    assert!(err.to_string().starts_with(&prefix), "{err}");
    assert!(!err.to_string().contains('\n'), "{err}");

    let err = Patch::parse("a = 1\na = 2\n", Path::new("t.toml")).unwrap_err();
    assert!(err.to_string().starts_with("t.toml: line 2, column 1: invalid TOML: "), "{err}");
}

#[test]
fn line_column_counts_characters() {
    use super::error::line_column;
    assert_eq!(line_column("abc", 0), (1, 1));
    assert_eq!(line_column("ab\ncd", 4), (2, 2));
    assert_eq!(line_column("é\nxé", 6), (2, 3));
    assert_eq!(line_column("é\nxé", 5), (2, 2), "inside a character: its start");
    assert_eq!(line_column("ab", 99), (1, 3));
}

#[test]
fn unknown_theme_lists_the_available_names() {
    let dir = user_dir(&[("mine.toml", ""), ("dark.toml", ""), ("notes.txt", "")]);
    assert_eq!(
        load_err("nope", dir.path()),
        "no theme named \"nope\" (available: colorblind, dark, high-contrast, light, mine)"
    );
    assert_eq!(
        Theme::load("nope", None).unwrap_err().to_string(),
        "no theme named \"nope\" (available: colorblind, dark, high-contrast, light)"
    );
    // A path is not a theme name.
    let nested = dir.path().join("sub");
    fs::create_dir(&nested).unwrap();
    assert!(load_err("../mine", &nested).starts_with("no theme named \"../mine\""));
    assert!(load_err("", dir.path()).starts_with("no theme named \"\""));
}

#[test]
fn available_is_sorted_and_deduplicated() {
    let dir = user_dir(&[("zebra.toml", ""), ("dark.toml", ""), ("alpha.toml", ""), ("readme.md", ""), (".toml", "")]);
    fs::create_dir(dir.path().join("folder.toml")).unwrap();
    assert_eq!(Theme::available(Some(dir.path())), ["alpha", "colorblind", "dark", "high-contrast", "light", "zebra"]);
    assert_eq!(Theme::available(None), ["colorblind", "dark", "high-contrast", "light"]);
}

#[test]
fn missing_user_dir_means_no_user_themes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("does-not-exist");
    assert_eq!(Theme::available(Some(&missing)), Theme::available(None));
    let loaded = Theme::load("colorblind", Some(&missing)).unwrap();
    assert_eq!(loaded.theme, builtin("colorblind"));
    assert!(load_err("mine", &missing).starts_with("no theme named \"mine\""));
}

#[test]
fn unreadable_user_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("mine.toml"), [0xff, 0xfe, b'\n']).unwrap();
    let err = Theme::load("mine", Some(dir.path())).unwrap_err();
    assert!(matches!(err, ThemeError::Read { .. }), "{err:?}");
    let prefix = format!("{}: cannot read the theme file: ", file(&dir, "mine.toml"));
    assert!(err.to_string().starts_with(&prefix), "{err}");
}

#[test]
fn palette_wraps() {
    let dir = user_dir(&[("mine.toml", "[palette]\nbranches = [\"red\", 42, \"#010203\"]\n")]);
    let theme = Theme::load("mine", Some(dir.path())).unwrap().theme;
    let colours: Vec<Color> = (0..7).map(|i| theme.branch_colour(i)).collect();
    let (a, b, c) = (Color::Red, Color::Indexed(42), Color::Rgb(1, 2, 3));
    assert_eq!(colours, [a, b, c, a, b, c, a]);
    let dark = builtin("dark");
    assert_eq!(dark.branch_colour(dark.palette().len()), dark.branch_colour(0));
    assert_eq!(dark.branch_colour(usize::MAX), dark.palette()[usize::MAX % dark.palette().len()]);
}

#[test]
fn palette_errors() {
    let path = Path::new("t.toml");
    let err = |text: &str| Patch::parse(text, path).unwrap_err().to_string();
    assert_eq!(err("[palette]\nbranches = []\n"), "t.toml: palette.branches: needs at least one colour");
    assert_eq!(
        err("[palette]\nbranches = [\"red\", \"blue\", \"pink\"]\n"),
        format!("t.toml: palette.branches[2]: \"pink\" is not a colour {HELP}")
    );
    assert_eq!(
        err("[palette]\nbranches = \"red\"\n"),
        "t.toml: palette.branches: expected a list of colours, found \"red\""
    );
    assert_eq!(err("palette = [1]\n"), "t.toml: palette: expected a table, found a list");
}

#[test]
fn colour_parsing_accepts_every_form() {
    let names = [
        ("black", Color::Black),
        ("red", Color::Red),
        ("green", Color::Green),
        ("yellow", Color::Yellow),
        ("blue", Color::Blue),
        ("magenta", Color::Magenta),
        ("cyan", Color::Cyan),
        ("gray", Color::Gray),
        ("dark-gray", Color::DarkGray),
        ("light-red", Color::LightRed),
        ("light-green", Color::LightGreen),
        ("light-yellow", Color::LightYellow),
        ("light-blue", Color::LightBlue),
        ("light-magenta", Color::LightMagenta),
        ("light-cyan", Color::LightCyan),
        ("white", Color::White),
        ("reset", Color::Reset),
    ];
    for (name, colour) in names {
        assert_eq!(parse_colour(name), Some(colour), "{name}");
        assert_eq!(parse_colour(&name.replace('-', "_")), Some(colour), "{name}");
        assert_eq!(parse_colour(&name.replace('-', "")), Some(colour), "{name}");
        assert_eq!(parse_colour(&name.to_uppercase()), Some(colour), "{name}");
    }
    assert_eq!(parse_colour("LightBlue"), Some(Color::LightBlue));
    assert_eq!(parse_colour("dark_grey"), Some(Color::DarkGray));
    assert_eq!(parse_colour("grey"), Some(Color::Gray));
    assert_eq!(parse_colour("#5fAFff"), Some(Color::Rgb(0x5f, 0xaf, 0xff)));
    assert_eq!(parse_colour("#000000"), Some(Color::Rgb(0, 0, 0)));
    assert_eq!(parse_colour("0"), Some(Color::Indexed(0)));
    assert_eq!(parse_colour("255"), Some(Color::Indexed(255)));
    assert_eq!(parse_colour("007"), Some(Color::Indexed(7)));
    for bad in ["", "redd", "light", "#12345", "#1234567", "#gggggg", "#", "256", "-1", "1.5", "rgb(1,2,3)", "#ééé"]
    {
        assert_eq!(parse_colour(bad), None, "{bad:?}");
    }
}

#[test]
fn colours_in_toml_may_be_integers_or_strings() {
    let text = "[branch]\nfailed = { fg = 208, bg = \"17\" }\nrunning = { fg = \"Light_Blue\", bg = \"#0a0B0c\" }\n";
    let patch = Patch::parse(text, Path::new("t.toml")).unwrap();
    assert_eq!(
        patch.styles[StyleKey::BranchFailed as usize],
        Some(Style::new().fg(Color::Indexed(208)).bg(Color::Indexed(17)))
    );
    assert_eq!(
        patch.styles[StyleKey::BranchRunning as usize],
        Some(Style::new().fg(Color::LightBlue).bg(Color::Rgb(10, 11, 12)))
    );
    let err = Patch::parse("input = { fg = -1 }\n", Path::new("t.toml")).unwrap_err();
    assert_eq!(err.to_string(), format!("t.toml: input.fg: -1 is not a colour {HELP}"));
}

#[test]
fn dotted_and_nested_spellings_agree() {
    let spellings = [
        "[branch]\nfailed = { fg = \"red\", bold = true }\n",
        "[branch.failed]\nfg = \"red\"\nbold = true\n",
        "branch.failed = { fg = \"red\", bold = true }\n",
        "branch = { failed = { fg = \"red\", bold = true } }\n",
    ];
    let expected = Some(Style::new().fg(Color::Red).add_modifier(Modifier::BOLD));
    for text in spellings {
        let patch = Patch::parse(text, Path::new("t.toml")).unwrap();
        assert_eq!(patch.styles[StyleKey::BranchFailed as usize], expected, "{text}");
        assert_eq!(patch.styles.iter().flatten().count(), 1, "{text}");
    }
}

#[test]
fn colorblind_never_tells_failure_from_success_by_red_and_green() {
    let theme = builtin("colorblind");
    let red_green = [Color::Red, Color::Green, Color::LightRed, Color::LightGreen];
    for key in StyleKey::ALL {
        let style = theme.style(*key);
        for colour in [style.fg, style.bg].into_iter().flatten() {
            assert!(!red_green.contains(&colour), "{key} uses {colour:?}");
        }
    }
    for (failed, succeeded) in [
        (StyleKey::BranchFailed, StyleKey::BranchSucceeded),
        (StyleKey::HeaderRegionDown, StyleKey::HeaderRegionOk),
        (StyleKey::StatusError, StyleKey::StatusInfo),
    ] {
        let (f, s) = (theme.style(failed), theme.style(succeeded));
        assert!(
            f.add_modifier.contains(Modifier::BOLD | Modifier::UNDERLINED) && !s.add_modifier.contains(Modifier::BOLD),
            "{failed} vs {succeeded}"
        );
    }
    // Gauges show only colour: the failed one must be much darker than the succeeded one.
    let luma = |c: Option<Color>| match c {
        Some(Color::Rgb(r, g, b)) => 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b),
        other => panic!("{other:?}"),
    };
    let (failed, succeeded) = (theme.style(StyleKey::GaugeFailed).fg, theme.style(StyleKey::GaugeSucceeded).fg);
    assert!(luma(succeeded) > luma(failed) + 20_000, "{succeeded:?} vs {failed:?}");
}

#[test]
fn block_styles_border_and_title_by_focus() {
    let theme = builtin("dark");
    for focused in [false, true] {
        let (border, title) = if focused {
            (StyleKey::BorderFocused, StyleKey::TitleFocused)
        } else {
            (StyleKey::Border, StyleKey::Title)
        };
        let mut buffer = Buffer::empty(Rect::new(0, 0, 12, 3));
        theme.block("Jobs", focused).render(buffer.area, &mut buffer);
        let corner = &buffer[(0, 0)];
        assert_eq!(corner.symbol(), "┌");
        assert_eq!(corner.fg, theme.style(border).fg.unwrap());
        let t = &buffer[(1, 0)];
        assert_eq!(t.symbol(), "J");
        assert_eq!(t.fg, theme.style(title).fg.unwrap());
        assert_eq!(t.modifier.contains(Modifier::BOLD), focused);
        assert_eq!(buffer[(0, 1)].symbol(), "│");
    }
    let mut buffer = Buffer::empty(Rect::new(0, 0, 6, 3));
    theme.block("", true).render(buffer.area, &mut buffer);
    assert_eq!(buffer[(1, 0)].symbol(), "─");
}

#[test]
fn item_combines_selection_and_mark() {
    let dir = user_dir(&[("mine.toml", "selection = { bg = \"blue\" }\nmarked = { fg = \"yellow\", bold = true }\n")]);
    let theme = Theme::load("mine", Some(dir.path())).unwrap().theme;
    assert_eq!(theme.item(false, false), Style::new());
    assert_eq!(theme.item(true, false), Style::new().bg(Color::Blue));
    assert_eq!(theme.item(false, true), Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD));
    assert_eq!(theme.item(true, true), Style::new().fg(Color::Yellow).bg(Color::Blue).add_modifier(Modifier::BOLD));
}
