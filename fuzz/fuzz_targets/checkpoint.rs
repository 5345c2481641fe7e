//! C2SP signed notes and checkpoints (`log::checkpoint`): `open` (verifier key, note
//! signature, body), `open_note`, `parse_vkey`, `Checkpoint::parse`.
//!
//! The first byte picks the mode: 0, the rest is a note opened with the fixed key (the seeds
//! are notes it signed); 1, a verifier key; 2, a checkpoint body, which the target also signs
//! with the fixed key and opens again (so mutations of the body get past the signature); 3,
//! a verifier key line, then the note.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use elicence::log::checkpoint::{self, Checkpoint};

const NAME: &str = "registry.test/log";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let key = common::seed_key();
    let vkey = checkpoint::vkey(NAME, &key.verifying_key());
    match mode % 4 {
        0 => {
            if let Ok(opened) = checkpoint::open(text, &vkey) {
                assert_eq!(opened.origin, NAME);
                assert_eq!(Checkpoint::parse(&opened.body()).expect("own body"), opened);
            }
        }
        1 => {
            if let Ok((name, parsed)) = checkpoint::parse_vkey(text) {
                let printed = checkpoint::vkey(&name, &parsed);
                assert_eq!(checkpoint::parse_vkey(&printed).expect("own vkey"), (name, parsed));
            }
        }
        2 => {
            let parsed = Checkpoint::parse(text);
            let note = checkpoint::sign_note(text, NAME, &key);
            if let Ok(opened) = checkpoint::open_note(&note, NAME, &key.verifying_key()) {
                assert_eq!(opened, text);
            }
            match checkpoint::open(&note, &vkey) {
                Ok(opened) => assert_eq!(Ok(opened), parsed),
                Err(_) => {}
            }
        }
        _ => {
            let (vkey, note) = text.split_once('\n').unwrap_or((text, ""));
            let _ = checkpoint::open(note, vkey);
        }
    }
});
