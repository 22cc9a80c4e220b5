// Package transparency owns Concord's tamper-evidence: an RFC 6962 Merkle
// tree over the canonical encodings of the log's events (leaf index =
// position-1), kept in step with any eventstore.Store by a Follower;
// Ed25519-signed checkpoints in the C2SP tlog-checkpoint note format,
// recorded in the ledger itself; inclusion and consistency proofs;
// witness cosignatures; and the Checker that re-verifies a log from its
// events alone.
//
// Hashing, proofs and proof verification come from
// github.com/transparency-dev/merkle; notes and signatures from
// golang.org/x/mod/sumdb/note. docs/verification.md describes the formats
// and how an auditor uses them.
package transparency
