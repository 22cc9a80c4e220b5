package api

import (
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/eventstore/transparency"
)

// The transparency routes are public: outsiders and witnesses verify the
// ledger without a token, and a cosignature authenticates itself by its
// signature. Their bodies are exactly what eventstore/transparency's
// Client (used by concord verify --url and concord witness) reads.
func init() { addRoutes(proofRoutes) }

func proofRoutes() []route {
	return []route{
		{Method: http.MethodGet, Pattern: "/v1/publickey", Summary: "Read the checkpoint public key", Tag: "transparency",
			Response: PublicKey{}, Handle: (*Server).publicKey},
		{Method: http.MethodGet, Pattern: "/v1/checkpoints", Summary: "List the signed checkpoints", Tag: "transparency",
			Response: CheckpointList{}, Handle: (*Server).listCheckpoints},
		{Method: http.MethodGet, Pattern: "/v1/checkpoints/latest", Summary: "Read the latest signed checkpoint", Tag: "transparency",
			Response: CheckpointPage{}, Handle: (*Server).latestCheckpoint},
		{Method: http.MethodGet, Pattern: "/v1/checkpoints/{size}", Summary: "Read the checkpoint signed at a tree size", Tag: "transparency",
			Response: CheckpointPage{}, Handle: (*Server).checkpointAt},
		{Method: http.MethodPost, Pattern: "/v1/checkpoints/{size}/cosignatures", Summary: "Cosign a checkpoint as a witness", Tag: "transparency",
			Request: transparency.CosignatureRequest{}, Response: []transparency.Cosigner{}, Handle: (*Server).cosign},
		{Method: http.MethodGet, Pattern: "/v1/proofs/inclusion", Summary: "Prove an event is in the log", Tag: "transparency",
			Response: transparency.InclusionProof{}, Handle: (*Server).inclusionProof},
		{Method: http.MethodGet, Pattern: "/v1/proofs/consistency", Summary: "Prove the log only grew between two sizes", Tag: "transparency",
			Response: transparency.ConsistencyProof{}, Handle: (*Server).consistencyProof},
	}
}

// PublicKey is the ledger's checkpoint verifier key (the content of its
// checkpoint.pub). ?format=text answers the key line alone, to save as a
// file for concord verify --pubkey.
type PublicKey struct {
	Origin string `json:"origin"`
	Key    string `json:"key"`
}

// CheckpointList lists the tree sizes at which checkpoints were signed.
type CheckpointList struct {
	Sizes  []uint64 `json:"sizes"`
	Latest uint64   `json:"latest"`
}

// CheckpointPage is a signed checkpoint and the witnesses who cosigned
// it. Its first fields are transparency.Checkpoint's JSON form.
type CheckpointPage struct {
	Origin    string                  `json:"origin"`
	TreeSize  uint64                  `json:"tree_size"`
	RootHex   string                  `json:"root_hex"`
	Note      string                  `json:"note"`
	Position  uint64                  `json:"position"`
	Cosigners []transparency.Cosigner `json:"cosigners"`
}

// transparencyLog returns the ledger's transparency log, or the problem
// saying it is off.
func (s *Server) transparencyLog() (*transparency.Log, error) {
	if s.L.Log == nil {
		return nil, notFound("verifiable history is off on this ledger (it runs without the Merkle log), so there are no checkpoints or proofs")
	}
	return s.L.Log, nil
}

func (s *Server) publicKey(w http.ResponseWriter, r *http.Request) error {
	l, err := s.transparencyLog()
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := w.Write([]byte(l.PublicKey() + "\n"))
		return err
	}
	return reply(w, http.StatusOK, PublicKey{Origin: l.Origin(), Key: l.PublicKey()})
}

func (s *Server) listCheckpoints(w http.ResponseWriter, r *http.Request) error {
	l, err := s.transparencyLog()
	if err != nil {
		return err
	}
	out := CheckpointList{Sizes: l.Checkpoints()}
	if out.Sizes == nil {
		out.Sizes = []uint64{}
	}
	if n := len(out.Sizes); n > 0 {
		out.Latest = out.Sizes[n-1]
	}
	return reply(w, http.StatusOK, out)
}

func (s *Server) checkpointPage(l *transparency.Log, cp transparency.Checkpoint) CheckpointPage {
	p := CheckpointPage{Origin: cp.Origin, TreeSize: cp.Size, RootHex: hex.EncodeToString(cp.Root), Note: cp.Note, Position: cp.Position,
		Cosigners: l.Cosigners(cp.Size)}
	if p.Cosigners == nil {
		p.Cosigners = []transparency.Cosigner{}
	}
	return p
}

func (s *Server) latestCheckpoint(w http.ResponseWriter, r *http.Request) error {
	l, err := s.transparencyLog()
	if err != nil {
		return err
	}
	cp, err := l.LatestCheckpoint()
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s.checkpointPage(l, cp))
}

func pathSize(r *http.Request) (uint64, error) {
	v := chi.URLParam(r, "size")
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, badRequest("size %q is not a tree size (a whole number)", v)
	}
	return n, nil
}

func (s *Server) checkpointAt(w http.ResponseWriter, r *http.Request) error {
	l, err := s.transparencyLog()
	if err != nil {
		return err
	}
	size, err := pathSize(r)
	if err != nil {
		return err
	}
	cp, err := l.Checkpoint(size)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s.checkpointPage(l, cp))
}

func (s *Server) cosign(w http.ResponseWriter, r *http.Request) error {
	l, err := s.transparencyLog()
	if err != nil {
		return err
	}
	size, err := pathSize(r)
	if err != nil {
		return err
	}
	var req transparency.CosignatureRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Note == "" {
		return invalidField("note", "give the checkpoint note with your cosignature added")
	}
	cosigners, err := l.AddCosignature(r.Context(), size, []byte(req.Note))
	if err != nil {
		return err
	}
	if cosigners == nil {
		cosigners = []transparency.Cosigner{}
	}
	return reply(w, http.StatusOK, cosigners)
}

func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request) error {
	l, err := s.transparencyLog()
	if err != nil {
		return err
	}
	if r.URL.Query().Get("position") == "" {
		return badRequest("give the event's position: /v1/proofs/inclusion?position=N[&tree_size=M]")
	}
	pos, err := queryUint(r, "position", 0)
	if err != nil {
		return err
	}
	size, err := queryUint(r, "tree_size", 0)
	if err != nil {
		return err
	}
	p, err := l.InclusionProof(r.Context(), pos, size)
	if err != nil {
		return err
	}
	// The leaf (the event's bytes) only to a caller who may read the
	// event; anyone else gets the leaf hash and the path, and checks an
	// event they hold by hashing it.
	if ok, err := s.mayReadPosition(r, pos); err != nil {
		return err
	} else if !ok {
		p.LeafHex = ""
	}
	return reply(w, http.StatusOK, p)
}

func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request) error {
	l, err := s.transparencyLog()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("from") == "" || q.Get("to") == "" {
		return badRequest("give both tree sizes: /v1/proofs/consistency?from=A&to=B")
	}
	from, err := queryUint(r, "from", 0)
	if err != nil {
		return err
	}
	to, err := queryUint(r, "to", 0)
	if err != nil {
		return err
	}
	p, err := l.ConsistencyProof(from, to)
	if err != nil {
		return err
	}
	if p.PathHex == nil {
		p.PathHex = []string{}
	}
	return reply(w, http.StatusOK, p)
}

// mayReadPosition reports whether the request's caller (if it carries a
// valid token) may read the event at pos.
func (s *Server) mayReadPosition(r *http.Request, pos uint64) (bool, error) {
	if r.Header.Get("Authorization") == "" {
		return false, nil
	}
	actor, err := s.Authenticate(r)
	if err != nil {
		return false, nil
	}
	evs, err := s.L.Store.ReadAll(r.Context(), pos, 1)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	er, err := s.newEventReader(r.Context(), actor)
	if err != nil {
		return false, err
	}
	return er.visible(evs[0])
}
