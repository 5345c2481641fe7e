//! SQLite out of space under submissions: the data directory on a small tmpfs that
//! `bench db-faults --fault disk-full` fills up for a few seconds and then frees. Every answer
//! must be a receipt or a 503 `insufficient_storage` with `Retry-After`, every acknowledged
//! envelope must still be in the log afterwards (a failed batch once left the writer's
//! connection committing nothing while receipts went out), the service must take envelopes
//! again without a restart, and `PRAGMA integrity_check` must answer `ok`.
//!
//! Mounting needs root: elsewhere the test says so and does nothing.

use std::process::Command;

#[test]
fn sqlite_disk_full_costs_503s_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("mount point");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48m", "tmpfs"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let run = Command::new(env!("CARGO_BIN_EXE_elicence"))
        .args(["bench", "db-faults", "--fault", "disk-full", "--down", "3s"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("the harness runs");
    let _ = Command::new("umount").arg(dir.path()).status();
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.contains("insufficient_storage"), "{out}");
    assert!(out.contains("none lost"), "{out}");
    assert!(out.contains("PRAGMA integrity_check: ok"), "{out}");
}
