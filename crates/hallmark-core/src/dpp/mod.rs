//! EN 18222 ("DPP — Application programming interfaces") documents on Hallmark's passport
//! model: the compressed `DigitalProductPassport` (header members plus one member per content
//! section) and its `representation=full` expansion into `DataElement`s. Pure: no I/O, no
//! clock; the caller passes the passport (or the view of it an audience may see).

pub mod compressed;
pub mod full;
