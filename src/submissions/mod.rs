//! The write path above storage: [`intake`] checks a submission envelope and its items against
//! the registry's facts (the envelope's own proof first, then each item), and [`sequencer`]
//! group-commits accepted envelopes into the transparency log through the store, one writer
//! per instance, [`checks`] runs the checks below the writer's priority, and [`gate`] bounds the unauthenticated work in flight; [`repeat`] answers an envelope sent again with its original receipt. All use the pure log
//! model in [`crate::log`].

pub mod checks;
pub mod gate;
pub mod intake;
pub mod repeat;
pub mod sequencer;
