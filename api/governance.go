package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

// This file holds what the resource routes of governance_*.go and
// partnership*.go share: the command route builders, path ids, the one
// envelope every read answers with, and lookups of the aggregate a nested
// id belongs to.

// Reading is the envelope of every read: which reading of the ledger the
// data is (live, as known then, or as corrected now), the ledger position
// it reflects, and the data.
type Reading struct {
	// AsOf is the as_of the request asked for ("" for a live read).
	AsOf string `json:"as_of,omitempty"`
	// Position is the ledger position the data reflects.
	Position uint64 `json:"position"`
	// Reading is "live", "as known then" or "as corrected now".
	Reading string `json:"reading"`
	// Describe says the reading in words ("as known at ledger position 12").
	Describe string `json:"describe"`
	// Total is, when Data is a list, how many entries the whole list has;
	// Data is one page of it.
	Total *int `json:"total,omitempty"`
	// Next is, when entries of the list follow this page, the cursor of
	// the next page (also given in a Link header).
	Next *uint64 `json:"next,omitempty"`
	Data any     `json:"data"`
}

// Reading names.
const (
	ReadingLive      = "live"
	ReadingKnownThen = "as known then"
	ReadingCorrected = "as corrected now"
)

// readCtx is what a read's function gets besides the view: the people's
// names read at the same moment, the reading, and the day "now" is for
// overdue flags (the as-of time for a reading in the past).
type readCtx struct {
	Names views.PersonNames
	AsOf  views.AsOf
	Now   time.Time
	// Page is the page of a list the request asks for; a read that builds
	// only that page answers a pagedList.
	Page listPage
	r    *http.Request
}

// readAs answers a GET from view name: fn runs while the view is held and
// returns the data (or a *Problem such as notFound). A live read reflects at
// least every command acknowledged before it started (the projections are
// caught up when they lag). When stream is not "", a live read's ETag is
// that stream's revision, so a client can send it back as If-Match.
func readAs[V projections.Projection](s *Server, w http.ResponseWriter, r *http.Request, name string, stream func() string, fn func(v V, rc readCtx) (any, error)) error {
	out, err := reading(s, w, r, name, stream, fn)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, out)
}

// reading is readAs's answer, paged (pageOf), before it is sent.
func reading[V projections.Projection](s *Server, w http.ResponseWriter, r *http.Request, name string, stream func() string, fn func(v V, rc readCtx) (any, error)) (Reading, error) {
	a, err := AsOfFromRequest(r)
	if err != nil {
		return Reading{}, err
	}
	pg, err := pageQuery(r)
	if err != nil {
		return Reading{}, err
	}
	ctx := r.Context()
	var head uint64
	if a.Live() {
		if head, err = s.L.Store.Head(ctx); err != nil {
			return Reading{}, fmt.Errorf("read the ledger's head: %w", err)
		}
	}
	rc := readCtx{AsOf: a, Now: s.Now().UTC(), Page: pg, r: r}
	if !a.Time.IsZero() {
		rc.Now = a.Time
	}
	var data any
	read := func() (uint64, error) {
		names, err := s.personNames(ctx, a)
		if err != nil {
			return 0, err
		}
		rc.Names = names
		return views.Read(ctx, s.L.Views, name, a, func(v V) error {
			var ferr error
			data, ferr = fn(v, rc)
			return ferr
		})
	}
	pos, err := read()
	if a.Live() && pos < head {
		if serr := s.syncViews(ctx, head, name, views.PeopleView); serr != nil {
			return Reading{}, serr
		}
		pos, err = read()
	}
	if err != nil {
		return Reading{}, err
	}
	out := Reading{Position: pos, Reading: ReadingLive, Describe: a.Describe(), Data: data}
	switch {
	case a.Corrected:
		out.Reading = ReadingCorrected
	case !a.Live():
		out.Reading = ReadingKnownThen
	}
	if q := r.URL.Query(); q.Get("as_of") != "" {
		out.AsOf = q.Get("as_of")
	} else if q.Get("position") != "" {
		out.AsOf = q.Get("position")
	}
	if a.Live() && stream != nil {
		if st := stream(); st != "" {
			rev, err := s.streamRevision(ctx, st)
			if err != nil {
				return Reading{}, err
			}
			w.Header().Set("ETag", etag(rev))
		}
	}
	pageOf(w, r, &out, pg)
	return out, nil
}

// personNames returns the names of people for a read at a, each opened
// when first shown (views.Reader.Names): reading a list of loans then
// costs a few names, not the whole register's.
func (s *Server) personNames(ctx context.Context, a views.AsOf) (views.PersonNames, error) {
	return s.L.Views.Names(ctx, a), nil
}

// streamRevision returns stream's revision (-1 when it has no events).
func (s *Server) streamRevision(ctx context.Context, stream string) (int64, error) {
	recs, err := s.L.Store.ReadStream(ctx, stream, eventstore.LastRevision, eventstore.Backward, 1)
	if err != nil {
		return 0, fmt.Errorf("read the revision of %s: %w", stream, err)
	}
	if len(recs) == 0 {
		return -1, nil
	}
	return int64(recs[0].Revision), nil
}

// streamOf returns a constant stream name for readAs.
func streamOf(name string) func() string { return func() string { return name } }

// schoolRead is a read of a school's own records: its handler asks the
// application layer ("ReadSchool") for the school it reads.
func schoolRead(pattern, summary, tag string, resp any, h func(s *Server, w http.ResponseWriter, r *http.Request) error) route {
	return route{Method: http.MethodGet, Pattern: pattern, Summary: summary, Tag: tag, Auth: true, UseCase: "ReadSchool",
		Response: Reading{Data: resp}, Status: http.StatusOK, Handle: h}
}

// partnershipRead is a read of a partnership's records: its handler asks
// the application layer ("ReadPartnership") for the partnership it reads.
func partnershipRead(pattern, summary, tag string, resp any, h func(s *Server, w http.ResponseWriter, r *http.Request) error) route {
	return route{Method: http.MethodGet, Pattern: pattern, Summary: summary, Tag: tag, Auth: true, UseCase: "ReadPartnership",
		Response: Reading{Data: resp}, Status: http.StatusOK, Handle: h}
}

// setPathID sets *field to the path parameter name; a body that gave
// another value is refused (422).
func setPathID(r *http.Request, name string, field *uuid.UUID, jsonName string) error {
	id, err := pathUUID(r, name)
	if err != nil {
		return err
	}
	if *field != uuid.Nil && *field != id {
		return invalidField(jsonName, "%s in the body (%s) differs from the one in the path (%s)", jsonName, *field, id)
	}
	*field = id
	return nil
}

// lookup runs find, catching the projections up once if it finds nothing
// (the thing may have been created a moment ago), and answers 404 with
// what when it still finds nothing.
func (s *Server) lookup(ctx context.Context, what string, id uuid.UUID, find func() (uuid.UUID, bool, error)) (uuid.UUID, error) {
	got, ok, err := find()
	if err != nil {
		return uuid.Nil, err
	}
	if !ok {
		head, err := s.L.Store.Head(ctx)
		if err != nil {
			return uuid.Nil, fmt.Errorf("read the ledger's head: %w", err)
		}
		if err := s.syncViews(ctx, head); err != nil {
			return uuid.Nil, err
		}
		if got, ok, err = find(); err != nil {
			return uuid.Nil, err
		}
	}
	if !ok {
		return uuid.Nil, notFound("there is no %s %s", what, id)
	}
	return got, nil
}

// syncWait bounds how long a read waits for the projections to reach the
// head it saw when it started.
const syncWait = 250 * time.Millisecond

// syncViews makes the views named (every view when none is named) reflect
// the ledger up to head: it waits for the projections that follow the log
// (Ledger.Run) with Engine.WaitFor, and catches them up itself when they
// stall or no one runs them (tests, the command line), so that a read
// reflects every command acknowledged before it started. Catching up
// writes checkpoints, so it is the fallback, not the rule.
func (s *Server) syncViews(ctx context.Context, head uint64, names ...string) error {
	lowest := func() (uint64, error) {
		low := ^uint64(0)
		if len(names) == 0 {
			for _, st := range s.L.Engine.Status(ctx) {
				if st.Failure == nil {
					low = min(low, st.Position)
				}
			}
			return low, nil
		}
		for _, n := range names {
			pos, err := s.L.Engine.View(views.Canonical(n), func(projections.Projection) error { return nil })
			if err != nil {
				return 0, err
			}
			low = min(low, pos)
		}
		return low, nil
	}
	pos, err := lowest()
	if err != nil || pos >= head {
		return err
	}
	// Woken by the engine as it feeds events (no timers); caught up here
	// when no one follows the log or it stalls for syncWait.
	wctx, cancel := context.WithTimeout(ctx, syncWait)
	defer cancel()
	if err := s.L.Engine.WaitFor(wctx, head); err == nil || ctx.Err() != nil {
		return ctx.Err()
	}
	return s.L.CatchUp(ctx)
}

// electionCommunity returns the ISLC an election belongs to.
func (s *Server) electionCommunity(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	return s.lookup(ctx, "election", id, func() (c uuid.UUID, ok bool, err error) {
		_, err = views.Read(ctx, s.L.Views, views.ElectionsView, views.AsOf{}, func(v *views.Elections) error {
			e, found := v.Election(id, nil)
			c, ok = e.Community.ID, found
			return nil
		})
		return c, ok, err
	})
}

// confidenceVoteCommunity returns the ISLC a confidence vote belongs to.
func (s *Server) confidenceVoteCommunity(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	return s.lookup(ctx, "confidence vote", id, func() (c uuid.UUID, ok bool, err error) {
		_, err = views.Read(ctx, s.L.Views, views.ElectionsView, views.AsOf{}, func(v *views.Elections) error {
			e, found := v.ConfidenceVote(id, nil)
			c, ok = e.Community.ID, found
			return nil
		})
		return c, ok, err
	})
}

// partnershipIDs lists every partnership the live view knows.
func (s *Server) partnershipIDs(ctx context.Context, a views.AsOf) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	_, err := views.Read(ctx, s.L.Views, "partnerships", a, func(v *views.Partnerships) error {
		for _, p := range v.List(nil) {
			ids = append(ids, p.ID)
		}
		return nil
	})
	return ids, err
}

// partnershipParam returns the partnership a list read is about, once the
// caller may read it: the partnership query parameter, else the only
// partnership the caller reads.
func (s *Server) partnershipParam(r *http.Request, a views.AsOf) (uuid.UUID, error) {
	id, err := queryUUID(r, "partnership")
	if err != nil {
		return uuid.Nil, err
	}
	if id != uuid.Nil {
		return id, s.readPartnership(r, id)
	}
	// The partnerships the caller reads are found in the partnerships
	// view: it reflects every command acknowledged before the request, or
	// a partnership just formed (or a ledger just opened) is refused.
	head, err := s.L.Store.Head(r.Context())
	if err != nil {
		return uuid.Nil, fmt.Errorf("read the ledger's head: %w", err)
	}
	if err := s.syncViews(r.Context(), head, "partnerships"); err != nil {
		return uuid.Nil, err
	}
	vis, err := s.visibility(r)
	if err != nil {
		return uuid.Nil, err
	}
	var mine []uuid.UUID
	for pid := range vis.Partnerships {
		mine = append(mine, pid)
	}
	switch len(mine) {
	case 1:
		return mine[0], nil
	case 0:
		return uuid.Nil, s.readPartnership(r, uuid.Nil)
	}
	return uuid.Nil, invalidField("partnership", "name the partnership: ?partnership=<id> (you read %d)", len(mine))
}

// yearParam returns the year query parameter ("" for all years).
func yearParam(r *http.Request) string { return r.URL.Query().Get("year") }
