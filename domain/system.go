package domain

// The ledger's own facts about itself: signed checkpoints of its Merkle
// log and the cosignatures of partner schools that witness them. They are
// recorded by eventstore/transparency, not by a command, and live in the
// stream CheckpointStream. docs/verification.md explains how an auditor
// uses them.

// CheckpointStream is the stream holding every CheckpointSigned and
// CheckpointCosigned event.
const CheckpointStream = "checkpoints"

// CheckpointSigned records that the ledger signed a checkpoint of its
// Merkle log: the log's first TreeSize events hash to RootHash. The event
// itself is recorded after those events, so a checkpoint never covers the
// event that records it.
type CheckpointSigned struct {
	Origin   string `json:"origin" doc:"The log's name: the first line of the checkpoint and the signer's key name."`
	TreeSize uint64 `json:"tree_size" doc:"How many events (positions 1 to tree_size) the checkpoint covers."`
	RootHash string `json:"root_hash" doc:"RFC 6962 Merkle root of those events, in lowercase hex."`
	Note     string `json:"note" doc:"The signed checkpoint in C2SP tlog-checkpoint form: origin, size and base64 root, then an Ed25519 note signature."`
}

// EventType implements Event.
func (CheckpointSigned) EventType() string { return "CheckpointSigned" }

// CheckpointCosigned records that a witness (a partner school running
// "concord witness") checked a checkpoint against the ones it saw before
// and cosigned it: the log had not been rewritten as far as it can tell.
type CheckpointCosigned struct {
	Witness    string `json:"witness" doc:"The witness's name, as in its signature line."`
	WitnessKey string `json:"witness_key" doc:"The witness's note verifier key, which the ledger trusts and checked the signature with."`
	TreeSize   uint64 `json:"tree_size" doc:"Size of the cosigned checkpoint."`
	Note       string `json:"note" doc:"The checkpoint note carrying the witness's signature."`
}

// EventType implements Event.
func (CheckpointCosigned) EventType() string { return "CheckpointCosigned" }

func init() {
	MustRegister[CheckpointSigned](Spec{
		Type: "CheckpointSigned", Schema: 1, Group: "system",
		Doc:       "The ledger signed a checkpoint of its Merkle log: its first tree_size events hash to root_hash. Recorded in the stream `checkpoints`, after the events it covers.",
		EmittedBy: []string{"the transparency log (every 1000 events or 10 seconds, and on shutdown)"},
	})
	MustRegister[CheckpointCosigned](Spec{
		Type: "CheckpointCosigned", Schema: 1, Group: "system",
		Doc:       "A witness (a partner school) checked a signed checkpoint against those it saw before and cosigned it. Recorded in the stream `checkpoints`.",
		EmittedBy: []string{"the transparency log, on a witness's POST /v1/checkpoints/{size}/cosignatures"},
	})
}
