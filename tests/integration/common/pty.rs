//! The real `tlc` binary in a pseudo-terminal, read back through a terminal emulator (vt100), as
//! an operator would see it. Every wait re-reads the screen each time the console writes (the
//! reader thread signals a condition variable) until a condition holds on a whole frame — the
//! output ends where ratatui ends a frame (hiding the cursor, or showing and placing it), or has
//! paused — or a deadline passes, and can say when the output that satisfied it arrived: precise
//! enough to time frames. Shared by the end-to-end tests and the console's first-frame benchmark.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// How long any wait on the screen may take.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// Default terminal height.
pub const ROWS: u16 = 40;
/// Default terminal width.
pub const COLS: u16 = 140;

/// How long output must pause for a screen to count as a whole frame when it does not end like one.
const SETTLE: Duration = Duration::from_millis(10);

/// What the reader thread has taken from the console so far.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// Chunks of output read (and fed to the screen) so far.
    pub chunks: u64,
    /// When the last one was fed to the screen.
    pub at: Instant,
    /// Whether the output so far ends where a frame ends.
    pub frame_end: bool,
}

/// Whether `tail` (the last bytes written) ends a ratatui frame: each frame ends by hiding the
/// cursor (`ESC[?25l`) or by showing it and moving it (`ESC[?25h ESC[row;colH`).
fn ends_frame(tail: &[u8]) -> bool {
    if tail.ends_with(b"\x1b[?25l") {
        return true;
    }
    let shown = b"\x1b[?25h\x1b[";
    tail.windows(shown.len()).rposition(|w| w == shown).is_some_and(|at| {
        let rest = &tail[at + shown.len()..];
        rest.split_last().is_some_and(|(last, position)| {
            *last == b'H' && !position.is_empty() && position.iter().all(|b| b.is_ascii_digit() || *b == b';')
        })
    })
}

/// A running console in a pseudo-terminal.
pub struct Console {
    /// The emulated screen.
    pub screen: Arc<Mutex<vt100::Parser>>,
    /// Output so far, signalled after every chunk the screen took (lock after `screen`, if both).
    pub output: Arc<(Mutex<Output>, Condvar)>,
    /// When the `tlc` process was spawned.
    pub spawned: Instant,
    /// Every byte the console wrote.
    pub raw: Arc<Mutex<Vec<u8>>>,
    /// Keystrokes go here.
    pub writer: Box<dyn Write + Send>,
    /// The `tlc` process.
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    /// The terminal's master side (to resize it).
    pub master: Box<dyn portable_pty::MasterPty + Send>,
    /// Its HOME (config under `config/`, data under `data/`).
    pub home: tempfile::TempDir,
    /// Whether the terminal answers cursor-position queries (`ESC [ 6 n`) as a real one does;
    /// off unless [`Console::answer_cursor_queries`] turns it on.
    pub answers_cursor_queries: Arc<AtomicBool>,
    /// Set when the terminal's output has ended (every process holding it has exited) and all of
    /// it has reached the emulator.
    pub output_closed: Arc<AtomicBool>,
}

/// The terminal's input, shared by the keystrokes and the answers to queries.
struct SharedWriter(Arc<Mutex<Box<dyn Write + Send>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("writer").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().expect("writer").flush()
    }
}

/// The cursor-position query (DSR 6) a program writes to learn where the cursor is.
const CURSOR_QUERY: &[u8] = b"\x1b[6n";

impl Console {
    /// Starts `tlc ARGS` in a ROWS×COLS terminal with a fresh home, config and data directory.
    pub fn start(args: &[&str]) -> Console {
        Console::start_with(args, &[], (ROWS, COLS))
    }

    /// Starts `tlc ARGS` with extra environment variables in a terminal of `size` (rows, cols).
    pub fn start_with(args: &[&str], envs: &[(&str, &str)], size: (u16, u16)) -> Console {
        Console::spawn(CommandBuilder::new(env!("CARGO_BIN_EXE_tlc")), args, envs, size)
    }

    /// Spawns `cmd ARGS` in a fresh terminal and home; the reader thread feeds the emulator.
    fn spawn(mut cmd: CommandBuilder, args: &[&str], envs: &[(&str, &str)], size: (u16, u16)) -> Console {
        let (rows, cols) = size;
        let home = tempfile::tempdir().expect("tempdir");
        let pty = native_pty_system();
        let pair = pty.openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("pty");
        cmd.args(args);
        cmd.cwd(home.path());
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("TLC_DATA_DIR", home.path().join("data"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("USER", "e2e");
        cmd.env_remove("TLC_CONFIG");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let spawned = Instant::now();
        let child = pair.slave.spawn_command(cmd).expect("spawn tlc");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer: Arc<Mutex<Box<dyn Write + Send>>> =
            Arc::new(Mutex::new(pair.master.take_writer().expect("writer")));
        let answers_cursor_queries = Arc::new(AtomicBool::new(false));
        let output_closed = Arc::new(AtomicBool::new(false));
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).expect("rows"),
            std::num::NonZeroU16::new(cols).expect("cols"),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let output = Arc::new((Mutex::new(Output { chunks: 0, at: spawned, frame_end: false }), Condvar::new()));
        {
            let screen = screen.clone();
            let raw = raw.clone();
            let writer = writer.clone();
            let answers = answers_cursor_queries.clone();
            let closed = output_closed.clone();
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let mut tail: Vec<u8> = Vec::new();
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            closed.store(true, Ordering::SeqCst);
                            return;
                        }
                        Ok(n) => {
                            let mut rest = &buf[..n];
                            // A query is answered with the cursor where it is when the query
                            // comes (a query split across two reads goes unanswered).
                            while answers.load(Ordering::SeqCst)
                                && let Some(at) = rest.windows(CURSOR_QUERY.len()).position(|w| w == CURSOR_QUERY)
                            {
                                let (upto, after) = rest.split_at(at + CURSOR_QUERY.len());
                                let (row, col) = {
                                    let mut screen = screen.lock().expect("screen");
                                    screen.process(upto);
                                    screen.screen().cursor_position()
                                };
                                raw.lock().expect("raw").extend_from_slice(upto);
                                let mut input = writer.lock().expect("writer");
                                let _ = write!(input, "\x1b[{};{}R", row + 1, col + 1);
                                let _ = input.flush();
                                rest = after;
                            }
                            raw.lock().expect("raw").extend_from_slice(rest);
                            tail.extend_from_slice(&buf[..n]);
                            tail.drain(..tail.len().saturating_sub(32));
                            let mut parser = screen.lock().expect("screen");
                            parser.process(rest);
                            let (state, signal) = &*output;
                            let mut out = state.lock().expect("output");
                            out.chunks += 1;
                            out.at = Instant::now();
                            out.frame_end = ends_frame(&tail);
                            signal.notify_all();
                        }
                    }
                }
            });
        }
        // The master lives as long as the console (dropping it hangs up the child).
        Console {
            screen,
            output,
            spawned,
            raw,
            writer: Box::new(SharedWriter(writer)),
            child,
            master: pair.master,
            home,
            answers_cursor_queries,
            output_closed,
        }
    }

    /// Starts another program (a shell, say) with ARGS in a terminal of `size` (rows, cols), with
    /// the same fresh home, config and data directory and environment as [`Console::start_with`]
    /// plus `envs`; the program is the session leader of the terminal.
    pub fn start_program(program: &str, args: &[&str], envs: &[(&str, &str)], size: (u16, u16)) -> Console {
        Console::spawn(CommandBuilder::new(program), args, envs, size)
    }

    /// From now on the terminal answers cursor-position queries (`ESC [ 6 n`, which crossterm's
    /// `cursor::position` and so ratatui's `Terminal::clear` send) with `ESC [ ROW ; COL R`, as
    /// every real terminal does; vt100 alone does not answer.
    pub fn answer_cursor_queries(&self) {
        self.answers_cursor_queries.store(true, Ordering::SeqCst);
    }

    /// Resizes the terminal (the child gets SIGWINCH) and the emulator with it.
    pub fn resize(&self, rows: u16, cols: u16) {
        self.master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("resize");
        self.screen
            .lock()
            .expect("screen")
            .screen_mut()
            .set_size(std::num::NonZeroU16::new(rows).expect("rows"), std::num::NonZeroU16::new(cols).expect("cols"));
    }

    pub fn contents(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    /// The screen's text and when the last output it shows arrived.
    fn snapshot(&self) -> (String, Output) {
        let parser = self.screen.lock().expect("screen");
        let out = *self.output.0.lock().expect("output");
        (parser.screen().contents(), out)
    }

    /// Waits until the screen satisfies `check`, failing with the screen at the deadline.
    pub fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_timed(what, check).0
    }

    /// Waits until a whole frame on screen satisfies `check` (re-checked as soon as the console
    /// writes), failing with the screen at the deadline. Returns the screen and when the output
    /// that completed that frame was read from the terminal.
    pub fn wait_timed(&self, what: &str, check: impl Fn(&str) -> bool) -> (String, Instant) {
        let start = Instant::now();
        loop {
            let (text, seen) = self.snapshot();
            let holds = check(&text);
            if holds && seen.frame_end {
                return (text, seen.at);
            }
            let waited = start.elapsed();
            assert!(waited < DEADLINE, "timed out waiting for {what}; screen:\n{text}");
            // Until the next chunk of output: briefly when the screen may hold a frame still being
            // written (if none comes, the frame is whole), else a while, to re-check the deadline.
            let pause = if holds { SETTLE } else { Duration::from_millis(100) };
            let (state, signal) = &*self.output;
            let guard = state.lock().expect("output");
            let (_output, timeout) = signal
                .wait_timeout_while(guard, (DEADLINE - waited).min(pause), |o| o.chunks == seen.chunks)
                .expect("output");
            if holds && timeout.timed_out() {
                return (text, seen.at);
            }
        }
    }

    pub fn wait_for(&self, needle: &str) -> String {
        self.wait(&format!("{needle:?}"), |s| s.contains(needle))
    }

    pub fn keys(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush");
    }

    /// The screen row that contains `needle`.
    pub fn row(&self, needle: &str) -> String {
        self.contents().lines().find(|l| l.contains(needle)).unwrap_or_default().to_string()
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the last bytes reach the emulator before anyone reads the screen.
                let drained = Instant::now();
                while !self.output_closed.load(Ordering::SeqCst) && drained.elapsed() < Duration::from_secs(5) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return status;
            }
            assert!(start.elapsed() < DEADLINE, "tlc did not exit; screen:\n{}", self.contents());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the terminal was handed back: alternate screen left, cursor shown, after the last
    /// time it was entered.
    pub fn restored(&self) -> bool {
        let raw = self.raw.lock().expect("raw");
        let text = String::from_utf8_lossy(&raw);
        let entered = text.rfind("\u{1b}[?1049h");
        let left = text.rfind("\u{1b}[?1049l");
        let shown = text.rfind("\u{1b}[?25h");
        matches!((entered, left, shown), (Some(e), Some(l), Some(s)) if l > e && s > e)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
