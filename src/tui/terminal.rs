//! The terminal: one type owns it, puts it in raw mode on the alternate screen, and restores it in
//! `Drop` — on a normal exit, an error, SIGTERM/SIGHUP (the loop ends and this drops) and a panic
//! (the hook restores before the message is printed). Ctrl-Z suspends: restore, stop the process
//! with SIGTSTP, and take the terminal back when `fg` resumes it.

use std::io::{Stdout, Write, stdout};

use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The console's terminal.
pub struct Tui {
    /// The ratatui terminal.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

/// Puts the terminal back as the shell expects it (best effort: every step is tried).
pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let mut out = stdout();
    let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
    let _ = out.flush();
}

fn enter() -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    execute!(stdout(), terminal::EnterAlternateScreen, cursor::Hide)
}

/// Installs a panic hook that restores the terminal before the default hook prints the panic.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

impl Tui {
    /// Takes over the terminal.
    pub fn new() -> std::io::Result<Self> {
        install_panic_hook();
        enter()?;
        let terminal = match Terminal::new(CrosstermBackend::new(stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(Tui { terminal })
    }

    /// Ctrl-Z: gives the terminal back, stops the process, and takes it again on `fg`.
    pub fn suspend(&mut self) -> std::io::Result<()> {
        restore();
        #[cfg(unix)]
        {
            signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
        }
        // Execution continues here after SIGCONT.
        enter()?;
        self.redraw_all()
    }

    /// Clears the screen and makes the next frame draw every cell (Ctrl-L, resuming). Unlike
    /// ratatui's `clear`, it does not ask the terminal where the cursor is, which waits two seconds
    /// on a terminal that does not answer.
    pub fn redraw_all(&mut self) -> std::io::Result<()> {
        let size = self.terminal.size()?;
        self.terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}
