//! Stored documents (`log::packed::unpack`) from bytes a damaged row could hold: a Zstandard
//! frame after `0x02` (form 2), raw DEFLATE after `0x01` (form 1), or text. Never a panic, never
//! an allocation past the unpack limit (libFuzzer's -malloc_limit_mb), and whatever unpacks
//! packs again, as form 2, to bytes that unpack to the same text.
#![no_main]
use libfuzzer_sys::fuzz_target;

use elicence::log::packed::{unpack, Packed};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = unpack(data.to_vec()) {
        let again = Packed::pack(text.as_bytes());
        assert_eq!(again.as_bytes()[0], 0x02);
        assert_eq!(unpack(again.as_bytes().to_vec()).ok(), Some(text));
    }
});
