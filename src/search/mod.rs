//! The search index: its home on disk. The database is the source of truth; everything kept
//! here is a projection that can be rebuilt from it.

mod admitted;
pub mod analyzer;
mod facets;
mod forms;
pub mod glossary;
pub mod index;
pub mod matching;
mod pool;
pub mod query;
pub mod stats;

pub use forms::FormPostings;
pub use index::{Progress, SearchIndex};

use std::path::{Path, PathBuf};

/// The folder that holds the on-disk index.
#[derive(Debug, Clone)]
pub struct IndexDir {
    path: PathBuf,
}

impl IndexDir {
    /// Creates the folder if it does not exist.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| anyhow::anyhow!("cannot create index folder {}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Proves the folder is writable by creating, syncing and removing a probe file.
    pub fn check_writable(&self) -> std::io::Result<()> {
        use std::io::Write as _;
        let probe = self
            .path
            .join(format!(".ready-probe-{}", uuid::Uuid::new_v4()));
        let result = std::fs::File::create(&probe).and_then(|mut f| {
            f.write_all(b"ok")?;
            f.sync_all()
        });
        let removed = std::fs::remove_file(&probe);
        result.and(removed)
    }
}
