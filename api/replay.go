package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/replay"
)

func init() { addRoutes(replayRoutes) }

func replayRoutes() []route {
	return []route{{
		Method: http.MethodGet, Pattern: "/v1/replay/{kind}/{id}",
		Summary: "Replay a decision step by step", Tag: "Replay", Auth: true, UseCase: "ReadSchool",
		Response: Reading{Data: replay.Replay{}}, Status: http.StatusOK,
		Handle: (*Server).handleReplay,
	}}
}

// handleReplay answers GET /v1/replay/{kind}/{id} (kind proposal, election
// or loan): every event of the decision in order, with who, when, why and
// the decision's state before and after. as_of (a position or a time)
// stops the replay there; a replay is always as known then, so
// reading=corrected is refused.
func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) error {
	kind := chi.URLParam(r, "kind")
	switch kind {
	case replay.KindProposal, replay.KindElection, replay.KindLoan:
	default:
		return notFound("there is no kind of decision %q to replay (proposal, election or loan)", kind)
	}
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	a, err := AsOfFromRequest(r)
	if err != nil {
		return err
	}
	if a.Corrected {
		return badRequest("a replay shows the decision as it was recorded; reading=corrected does not apply (its corrections are steps of it)")
	}
	ctx := r.Context()
	pos := a.Position
	if !a.Time.IsZero() {
		if pos, err = s.L.Store.PositionAt(ctx, a.Time); err != nil {
			return fmt.Errorf("position at %s: %w", a.Time, err)
		}
		if pos == 0 {
			return notFound("nothing was recorded by %s", a.Time.Format("2006-01-02T15:04:05Z07:00"))
		}
	}
	if err := s.scopeReplay(r, kind, id); err != nil {
		return err
	}
	names, err := s.personNames(ctx, a)
	if err != nil {
		return err
	}
	out, err := s.Replayer(ctx).Replay(ctx, replay.Request{Kind: kind, ID: id, AsOf: pos, Names: names})
	var nf *replay.NotFoundError
	switch {
	case errors.As(err, &nf):
		return notFound("there is no %s %s %s", kind, id, a.Describe())
	case err != nil:
		return err
	}
	env := Reading{Position: out.AsOf, Reading: ReadingLive, Describe: a.Describe(), Data: out}
	if !a.Live() {
		env.Reading = ReadingKnownThen
		env.AsOf = r.URL.Query().Get("as_of")
		if env.AsOf == "" {
			env.AsOf = r.URL.Query().Get("position")
		}
	}
	return reply(w, http.StatusOK, env)
}

// Replayer returns a replayer of this ledger that finds a loan's or an
// election's stream through the live views (the loans and elections
// registers), so a replay reads that stream, not the whole log.
func (s *Server) Replayer(ctx context.Context) *replay.Replayer {
	return &replay.Replayer{Store: s.L.Store, Codec: s.L.Codec, Locate: func(kind string, id uuid.UUID) (string, bool) {
		switch kind {
		case replay.KindElection:
			if c, err := s.electionCommunity(ctx, id); err == nil {
				return governance.CommunityStream(c), true
			}
		case replay.KindLoan:
			if res, err := s.loanResource(ctx, id); err == nil {
				return partnership.ResourceStream(res), true
			}
		}
		return "", false
	}}
}

// scopeReplay checks the caller may read the decision: its school's
// records for a proposal or an election, its partnership's for a loan.
// Decisions that do not exist pass (the replay answers 404).
func (s *Server) scopeReplay(r *http.Request, kind string, id uuid.UUID) error {
	ctx := r.Context()
	notThere := func(err error) bool {
		var p *Problem
		return errors.As(err, &p) && p.Status == http.StatusNotFound
	}
	switch kind {
	case replay.KindProposal:
		t, ok, err := s.App.StreamTarget(ctx, governance.ProposalStream(id))
		if err != nil || !ok {
			return err
		}
		return s.readSchool(r, t.School)
	case replay.KindElection:
		cid, err := s.electionCommunity(ctx, id)
		if notThere(err) {
			return nil
		} else if err != nil {
			return err
		}
		school, err := s.communitySchool(r, cid)
		if err != nil {
			return err
		}
		return s.readSchool(r, school)
	case replay.KindLoan:
		res, err := s.loanResource(ctx, id)
		if notThere(err) {
			return nil
		} else if err != nil {
			return err
		}
		pid, err := s.partnershipOfStream(r, partnership.ResourceStream(res))
		if err != nil {
			return err
		}
		return s.readPartnership(r, pid)
	}
	return nil
}
