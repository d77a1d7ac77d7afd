//! The physical limit every ledger number is compared with: a plain append-only file written by
//! one writer thread with group commit (write + fdatasync per group), no framing, no hashing, no
//! indexes. Run in the same process and the same run as the ledger benchmark, so the two numbers
//! share the machine's state.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

/// One queued append: the bytes and where to send the acknowledgement.
type Request = (Vec<u8>, oneshot::Sender<std::io::Result<()>>);

/// A group-committing writer over a plain file.
#[derive(Debug)]
pub struct PlainFileLog {
    sender: Option<mpsc::Sender<Request>>,
    writer: Option<thread::JoinHandle<()>>,
}

impl PlainFileLog {
    /// Creates `dir/baseline.log` and starts its writer thread.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(dir.join("baseline.log"))?;
        let (sender, receiver) = mpsc::channel::<Request>();
        let writer = thread::Builder::new()
            .name("baseline-writer".into())
            .spawn(move || run_writer(file, &receiver))?;
        Ok(Self {
            sender: Some(sender),
            writer: Some(writer),
        })
    }

    /// Appends `bytes` and resolves once they are durable.
    ///
    /// # Errors
    /// The write or sync error of the group, or a closed writer.
    pub async fn append(&self, bytes: Vec<u8>) -> std::io::Result<()> {
        let (reply, answer) = oneshot::channel();
        let closed = || std::io::Error::other("baseline writer stopped");
        self.sender
            .as_ref()
            .ok_or_else(closed)?
            .send((bytes, reply))
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

impl Drop for PlainFileLog {
    fn drop(&mut self) {
        self.sender.take();
        if let Some(writer) = self.writer.take() {
            // The writer only ends when the channel closes; a panic there is already reported.
            let _ = writer.join();
        }
    }
}

fn run_writer(mut file: File, receiver: &mpsc::Receiver<Request>) {
    let mut buffer = Vec::with_capacity(1 << 20);
    let mut waiting = Vec::new();
    while let Ok(first) = receiver.recv() {
        buffer.clear();
        buffer.extend_from_slice(&first.0);
        waiting.push(first.1);
        while let Ok((bytes, reply)) = receiver.try_recv() {
            buffer.extend_from_slice(&bytes);
            waiting.push(reply);
        }
        let outcome = file.write_all(&buffer).and_then(|()| file.sync_data());
        for reply in waiting.drain(..) {
            let answer = match &outcome {
                Ok(()) => Ok(()),
                Err(error) => Err(std::io::Error::new(error.kind(), error.to_string())),
            };
            // A dropped receiver means the caller gave up waiting; nothing to do.
            let _ = reply.send(answer);
        }
    }
}

/// Writes `groups` groups of `group_records` records of `record_bytes` each, one write and one
/// fdatasync per group, and returns the bytes written. Used as the bulk-import limit.
///
/// # Errors
/// IO errors from the file.
pub fn bulk(
    dir: &Path,
    record_bytes: usize,
    group_records: usize,
    groups: usize,
) -> std::io::Result<u64> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(dir.join("baseline-bulk.log"))?;
    let group = vec![0x5a_u8; record_bytes * group_records];
    for _ in 0..groups {
        file.write_all(&group)?;
        file.sync_data()?;
    }
    Ok((group.len() * groups) as u64)
}
