package transparency

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// maxResponse bounds what the client reads from a ledger.
const maxResponse = 4 << 20

// Client reads checkpoints and proofs from a ledger's HTTP API and posts
// cosignatures to it. It trusts nothing it receives: Update verifies
// signatures and consistency itself.
type Client struct {
	// URL is the ledger's base URL, e.g. "https://ledger.school.example".
	URL string
	// HTTP is the client used (default http.DefaultClient).
	HTTP *http.Client
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.URL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var problem struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &problem) == nil && (problem.Detail != "" || problem.Title != "") {
			msg = strings.TrimSpace(problem.Title + ": " + problem.Detail)
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	return nil
}

// LatestCheckpoint fetches GET /v1/checkpoints/latest. The result is not
// verified; Update does that.
func (c *Client) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	var cp Checkpoint
	err := c.do(ctx, http.MethodGet, "/v1/checkpoints/latest", nil, &cp)
	return cp, err
}

// ConsistencyProof fetches GET /v1/proofs/consistency?from=A&to=B.
func (c *Client) ConsistencyProof(ctx context.Context, from, to uint64) (ConsistencyProof, error) {
	var p ConsistencyProof
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	err := c.do(ctx, http.MethodGet, "/v1/proofs/consistency?"+q.Encode(), nil, &p)
	return p, err
}

// InclusionProof fetches GET /v1/proofs/inclusion?position=P&tree_size=N
// (tree_size 0 leaves it to the server: its latest checkpoint).
func (c *Client) InclusionProof(ctx context.Context, position, treeSize uint64) (InclusionProof, error) {
	var p InclusionProof
	q := url.Values{"position": {strconv.FormatUint(position, 10)}}
	if treeSize > 0 {
		q.Set("tree_size", strconv.FormatUint(treeSize, 10))
	}
	err := c.do(ctx, http.MethodGet, "/v1/proofs/inclusion?"+q.Encode(), nil, &p)
	return p, err
}

// CosignatureRequest is the body of POST /v1/checkpoints/{size}/cosignatures.
type CosignatureRequest struct {
	Note string `json:"note"`
}

// PostCosignature posts a cosigned checkpoint note to
// POST /v1/checkpoints/{size}/cosignatures and returns the cosigners the
// ledger now lists for that checkpoint.
func (c *Client) PostCosignature(ctx context.Context, size uint64, msg []byte) ([]Cosigner, error) {
	var out []Cosigner
	err := c.do(ctx, http.MethodPost, "/v1/checkpoints/"+strconv.FormatUint(size, 10)+"/cosignatures", CosignatureRequest{Note: string(msg)}, &out)
	return out, err
}

// Update fetches the ledger's latest checkpoint, verifies its signature
// with v and, when prev (a checkpoint verified earlier) is not nil, proves
// it consistent with prev. It returns the verified new checkpoint; an
// error wrapping ErrBadSignature, ErrMalformedCheckpoint or
// ErrInconsistent means the ledger cannot be trusted (or the key is
// wrong).
func (c *Client) Update(ctx context.Context, v note.Verifier, prev *Checkpoint) (Checkpoint, error) {
	got, err := c.LatestCheckpoint(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	next, err := ParseCheckpoint([]byte(got.Note), v)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("latest checkpoint: %w", err)
	}
	if prev == nil {
		return next, nil
	}
	if next.Size < prev.Size {
		return Checkpoint{}, fmt.Errorf("%w: the ledger's latest checkpoint (size %d) is older than the one saved (size %d)", ErrInconsistent, next.Size, prev.Size)
	}
	p := ConsistencyProof{From: prev.Size, To: next.Size, PathHex: []string{}}
	if next.Size > prev.Size && prev.Size > 0 {
		if p, err = c.ConsistencyProof(ctx, prev.Size, next.Size); err != nil {
			return Checkpoint{}, err
		}
	}
	if err := CheckConsistent(*prev, next, p); err != nil {
		return Checkpoint{}, err
	}
	return next, nil
}
