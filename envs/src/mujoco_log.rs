//! MuJoCo's warnings, each distinct text printed at most once per process.
//!
//! MuJoCo's model compiler warns every time it compiles a model that uses a
//! deprecated attribute (dm_control's `cheetah.xml` sets `settotalmass`), and
//! ctrlbench compiles one model per environment, so `ctrlbench bench env`
//! printed the same warning 19 times. [`print_warnings_once`] puts a log
//! handler in front of MuJoCo's active one (`mju_setLogHandler`) that drops a
//! warning whose text it has already passed on, and passes every other
//! message on unchanged. MuJoCo's own handler still prints what gets through,
//! so its format, the console/file settings of `mju_setLogConfig`, its
//! filtering of info topics, a legacy `mju_user_warning` callback and the
//! fatal path of errors are all as before.
//!
//! Contract:
//! * After the first call (every [`crate::Physics`] loader makes it before
//!   compiling a model), a warning reaches MuJoCo's handler only if its text
//!   has not reached it before in this process. The first
//!   [`MAX_REMEMBERED`] distinct texts are remembered; texts after those all
//!   pass. Errors, info and debug messages are never held back.
//! * Only printing changes. Simulation is unaffected: physics errors come from
//!   the warning counters in `mjData` (see [`crate::Physics::step`]), which
//!   MuJoCo updates whether or not a message is printed.
//! * If MuJoCo reports no active handler to pass messages on to, nothing is
//!   installed and MuJoCo keeps printing every message.
//!
//! Thread safety: environments step, and so may warn, on several threads at
//! once. The handler keeps the texts it has seen behind a [`Mutex`], held
//! only to check and record a text and never while MuJoCo's handler runs, so
//! concurrent messages are no more serialised than MuJoCo's own handler makes
//! them. The handler pointer is a plain MuJoCo global: it is written once,
//! inside a [`Once`], and every thread that compiles a ctrlbench model passes
//! that `Once` first, so its writes happen before any read by a thread using
//! a ctrlbench model. (Code that emits MuJoCo messages without a ctrlbench
//! model, concurrently with the first model load, would race with that one
//! write; ctrlbench has none. A binary can also call [`print_warnings_once`]
//! at start-up, before it starts threads.)

use std::ffi::{c_char, c_int};
use std::sync::{Mutex, Once, OnceLock, PoisonError};

use mujoco_rs::mujoco_c::{mjLogMessage, mjfLogHandler, mjtLogLevel, mju_setLogHandler};

/// Distinct warning texts remembered; once this many are, new texts all pass.
pub const MAX_REMEMBERED: usize = 256;

/// The leading fields of MuJoCo's `mjLogMessage` (`mjtype.h`: `int level;
/// int topic; char subject[1024]; ...`). mujoco-rs keeps the fields private
/// and its `subject()` panics on text that is not UTF-8, so the handler reads
/// them through this mirror of the C layout.
#[repr(C)]
struct MessageHead {
    level: c_int,
    _topic: c_int,
    subject: [c_char; 1024],
}

// The mirror is a prefix of the real message.
const _: () = assert!(
    size_of::<MessageHead>() <= size_of::<mjLogMessage>()
        && align_of::<MessageHead>() <= align_of::<mjLogMessage>()
);

/// Guards the one write of MuJoCo's handler pointer.
static INSTALL: Once = Once::new();
/// The handler that was active before ours (MuJoCo's default one).
static PREVIOUS: OnceLock<mjfLogHandler> = OnceLock::new();
/// The warning texts passed on so far.
static SEEN: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Installs the handler that passes each distinct MuJoCo warning on once
/// (see the module documentation); later calls do nothing.
pub fn print_warnings_once() {
    INSTALL.call_once(|| {
        // SAFETY: `print_once` is a valid handler for the whole program (it
        // only reads the message, never calls `mju_error`, and cannot unwind
        // into MuJoCo). Concurrent readers of the handler global: see the
        // module documentation.
        let previous = unsafe { mju_setLogHandler(Some(print_once)) };
        if previous.is_none() {
            // Nothing to pass messages on to: restore MuJoCo's default.
            // SAFETY: as above; `None` restores MuJoCo's default handler.
            unsafe { mju_setLogHandler(None) };
            return;
        }
        let _ = PREVIOUS.set(previous);
    });
}

/// The log handler: drops a warning seen before, passes the rest on.
///
/// # Safety
/// `message` points to a valid `mjLogMessage` for the whole call (MuJoCo's
/// handler contract).
unsafe extern "C" fn print_once(message: *const mjLogMessage) {
    // SAFETY: the caller passes a valid message, and its first fields are
    // laid out as `MessageHead` (the same C declaration, checked above).
    let head = unsafe { &*message.cast::<MessageHead>() };
    if head.level == mjtLogLevel::mjLOG_WARNING as c_int && !first_time(&head.subject) {
        return;
    }
    if let Some(&Some(previous)) = PREVIOUS.get() {
        // SAFETY: `previous` was MuJoCo's active handler, which accepts every
        // message MuJoCo emits; `message` is valid for this call.
        unsafe { previous(message) };
    }
}

/// Whether the NUL-terminated `subject` has not been seen before; records it
/// (while fewer than [`MAX_REMEMBERED`] texts are recorded).
fn first_time(subject: &[c_char]) -> bool {
    let text: Vec<u8> = subject
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    if seen.contains(&text) {
        return false;
    }
    if seen.len() < MAX_REMEMBERED {
        seen.push(text);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(text: &str) -> [c_char; 1024] {
        let mut s = [0; 1024];
        for (d, b) in s.iter_mut().zip(text.bytes()) {
            *d = b as c_char;
        }
        s
    }

    #[test]
    fn a_text_passes_once() {
        let a = subject("ctrlbench test warning A");
        let b = subject("ctrlbench test warning B");
        assert!(first_time(&a));
        assert!(!first_time(&a));
        assert!(first_time(&b));
        assert!(!first_time(&b));
        assert!(!first_time(&a));
    }
}
