use super::*;

fn plain(input: &str) -> String {
    strip(input.as_bytes())
}

/// The hostile corpus: input and the exact plain text that must come out.
const CORPUS: &[(&str, &str)] = &[
    ("plain text", "plain text"),
    ("\u{1b}[2Jcleared", "cleared"),
    ("\u{1b}[Hhome", "home"),
    ("\u{1b}[10Aup", "up"),
    ("\u{1b}]0;pwned\u{7}title", "title"),
    ("\u{1b}]2;x\u{1b}\\title2", "title2"),
    ("\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}clipboard", "clipboard"),
    ("\u{1b}]8;;https://evil.example/\u{1b}\\click me\u{1b}]8;;\u{1b}\\", "click me"),
    ("\u{1b}P1$r0m\u{1b}\\dcs", "dcs"),
    ("\u{1b}Xsos string\u{1b}\\after", "after"),
    ("\u{1b}^pm\u{1b}\\after", "after"),
    ("\u{1b}_apc\u{1b}\\after", "after"),
    ("status\u{1b}[6n", "status"),
    ("\u{1b}[?1049halt screen", "alt screen"),
    ("\u{1b}(0charset", "charset"),
    ("\u{1b}=keypad\u{1b}>", "keypad"),
    ("\u{1b}cfull reset", "full reset"),
    ("\u{1b}7save\u{1b}8restore", "saverestore"),
    ("\u{9b}2J8-bit csi", "8-bit csi"),
    ("\u{9d}0;title\u{9c}8-bit osc", "8-bit osc"),
    ("\u{90}8-bit dcs\u{9c}after", "after"),
    ("bell\u{7}", "bell"),
    ("rm -rf /\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}ls", "rm -rf /ls"),
    ("progress 10%\rprogress 100%\rERROR: disk full", "progress 10%progress 100%ERROR: disk full"),
    ("null\u{0}byte", "nullbyte"),
    ("del\u{7f}", "del"),
    ("abc\u{202E}fed\u{202C}", "abc\u{FFFD}fed\u{FFFD}"),
    ("a\u{2066}b\u{2069}", "a\u{FFFD}b\u{FFFD}"),
    ("zero\u{200B}width\u{FEFF}", "zerowidth"),
    ("unterminated \u{1b}[", "unterminated "),
    ("unterminated osc \u{1b}]0;never ends", "unterminated osc "),
    ("esc at end \u{1b}", "esc at end "),
    ("\u{1b}[31mred\u{1b}[0m plain", "red plain"),
    ("\u{1b}[38;5;208morange", "orange"),
    ("\u{1b}[38;2;10;20;30mtruecolor", "truecolor"),
    ("\u{1b}[8mhidden?", "hidden?"),
    ("\u{1b}[5mblink", "blink"),
    ("crlf\r", "crlf"),
    ("tab\there", "tab     here"),
    ("12345678\tx", "12345678        x"),
    (
        "\u{1b}[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;23;24;25;26;27;28;29;30;31;32;33;34;35mmany",
        "many",
    ),
    ("\u{1b}[31\u{7}mcontrol inside csi", "control inside csi"),
    ("osc then escape \u{1b}]0;t\u{1b}[2Jafter", "osc then escape after"),
    ("\u{1b}[>0cdevice attributes", "device attributes"),
    ("\u{1b}[=5hmode", "mode"),
];

#[test]
fn hostile_corpus() {
    for (input, expected) in CORPUS {
        assert_eq!(plain(input), *expected, "input {input:?}");
    }
    assert_eq!(strip(b"invalid \xff\xfe utf-8"), "invalid \u{FFFD}\u{FFFD} utf-8");
}

#[test]
fn colours_survive_as_structure() {
    let mut st = Style::default();
    let line = sanitize_line(b"\x1b[1;31mred bold\x1b[0m then \x1b[38;5;208morange\x1b[39m", &mut st);
    assert_eq!(line.spans.len(), 3);
    assert_eq!(line.spans[0].style, Style { bold: true, fg: Some(Color::Indexed(1)), ..Default::default() });
    assert_eq!(line.spans[1], Span { text: " then ".into(), style: Style::default() });
    assert_eq!(line.spans[2].style.fg, Some(Color::Indexed(208)));
    assert_eq!(st, Style::default(), "39 reset the foreground");
    let mut st = Style::default();
    let rgb = sanitize_line(b"\x1b[48;2;1;2;3mbg\x1b[38:2::4:5:6mfg\x1b[38:5:9mx", &mut st);
    assert_eq!(rgb.spans[0].style.bg, Some(Color::Rgb(1, 2, 3)));
    assert_eq!(rgb.spans[1].style.fg, Some(Color::Rgb(4, 5, 6)));
    assert_eq!(rgb.spans[2].style.fg, Some(Color::Indexed(9)));
    let mut st = Style::default();
    let hidden = sanitize_line(b"\x1b[8;5msecret", &mut st);
    assert_eq!(hidden.spans[0].style, Style::default(), "conceal and blink are ignored");
}

#[test]
fn style_carries_across_lines_of_a_stream() {
    let mut st = Style::default();
    sanitize_line(b"\x1b[32mstart of a green block", &mut st);
    let next = sanitize_line(b"still green", &mut st);
    assert_eq!(next.spans[0].style.fg, Some(Color::Indexed(2)));
    assert_eq!(next.to_ansi(), "\u{1b}[0;38;5;2mstill green\u{1b}[0m");
}

#[test]
fn to_ansi_only_emits_our_sgr() {
    let mut st = Style::default();
    let line = sanitize_line(b"\x1b[1mbold\x1b[22m plain \x1b]0;x\x07\x1b[4munder", &mut st);
    assert_eq!(line.to_ansi(), "\u{1b}[0;1mbold\u{1b}[0m plain \u{1b}[0;4munder\u{1b}[0m");
    assert_eq!(SafeLine::default().to_ansi(), "");
}

#[test]
fn limits() {
    let long = "x".repeat(100_000);
    let out = plain(&long);
    assert!(out.len() <= MAX_LINE_BYTES + 3 && out.ends_with('…'), "{}", out.len());
    let big_csi = format!("\u{1b}[{}mtext", "1;".repeat(1000));
    assert_eq!(plain(&big_csi), "text");
    assert_eq!(sanitize_line("界x".as_bytes(), &mut Style::default()).width(), 3);
}

/// xorshift64*: a dependency-free source of varied bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Whether terminal output is safe: no control character except ESC starting `ESC [ digits; m`.
fn safe_for_terminal(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() != Some('[') {
                return false;
            }
            loop {
                match chars.next() {
                    Some('0'..='9' | ';') => {}
                    Some('m') => break,
                    _ => return false,
                }
            }
        } else if c.is_control() {
            return false;
        }
    }
    true
}

#[test]
fn random_input_never_produces_unsafe_output() {
    const ALPHABET: &[&[u8]] = &[
        b"\x1b",
        b"[",
        b"]",
        b"P",
        b"\\",
        b";",
        b":",
        b"m",
        b"0",
        b"1",
        b"3",
        b"8",
        b"5",
        b"2",
        b"?",
        b"\x07",
        b"\x08",
        b"\r",
        b"\t",
        b"\x00",
        b"\x7f",
        "\u{9b}".as_bytes(),
        "\u{9d}".as_bytes(),
        "\u{9c}".as_bytes(),
        "\u{202e}".as_bytes(),
        "é".as_bytes(),
        "界".as_bytes(),
        b"a",
        b"Z",
        b" ",
        b"\xff",
        b"\xc3",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut style = Style::default();
    for _ in 0..100_000 {
        let len = (rng.next() % 40) as usize;
        let mut input = Vec::new();
        for _ in 0..len {
            input.extend_from_slice(ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize]);
        }
        let line = sanitize_line(&input, &mut style);
        let ansi = line.to_ansi();
        assert!(safe_for_terminal(&ansi), "unsafe output {ansi:?} for {input:?}");
        assert!(!line.plain().chars().any(char::is_control), "control in plain text for {input:?}");
    }
}
