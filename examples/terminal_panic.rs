//! Takes the terminal over exactly as the console does, then panics: the end-to-end tests run it
//! in a pseudo-terminal to prove the panic hook hands the terminal back (alternate screen left,
//! cursor shown, raw mode off) before the panic message is printed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

fn main() {
    let tui = tlc::tui::terminal::Tui::new().expect("take over the terminal");
    println!("the console has the terminal");
    let _keep = tui;
    panic!("a bug in the console");
}
