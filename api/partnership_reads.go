package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

func init() { addRoutes(partnershipReadRoutes) }

// partnershipReading returns the reading a partnership read asks for and
// its partnership (partnershipParam, which checks the caller may read it).
func (s *Server) partnershipReading(r *http.Request) (views.AsOf, uuid.UUID, error) {
	a, err := AsOfFromRequest(r)
	if err != nil {
		return a, uuid.Nil, err
	}
	pid, err := s.partnershipParam(r, a)
	return a, pid, err
}

// listPartnership wraps a read of a partnership view: it resolves the
// partnership (partnershipParam) at the request's reading, then calls fn.
func listPartnership[V projections.Projection](s *Server, w http.ResponseWriter, r *http.Request, name string, fn func(v V, pid uuid.UUID, rc readCtx) (any, error)) error {
	_, pid, err := s.partnershipReading(r)
	if err != nil {
		return err
	}
	return readAs(s, w, r, name, nil, func(v V, rc readCtx) (any, error) { return fn(v, pid, rc) })
}

// listPartnershipKept is listPartnership for a read whose answer depends
// only on the partnership, the address, the day, the ledger position and
// the names (rc.Names, which every reader is given alike): a live answer
// is kept, as the bytes sent, in the reader's Memo, and the next reader of
// the same address on the same day gets those bytes while the view and
// the people's view stand at the same position and no personal key was
// destroyed since (views.Reader.Erasures, in the key). An answer that
// depends on the time of day, or on who reads it, must not be kept (what
// is overdue is decided by the day: partnership.Date). The
// timeline of ten years is over a megabyte of JSON; this is what keeps
// its repeated readings cheap.
func listPartnershipKept[V projections.Projection](s *Server, w http.ResponseWriter, r *http.Request, name string, fn func(v V, pid uuid.UUID, rc readCtx) (any, error)) error {
	a, pid, err := s.partnershipReading(r)
	if err != nil {
		return err
	}
	read := func(v V, rc readCtx) (any, error) { return fn(v, pid, rc) }
	memo := s.L.Views.Memo()
	if !a.Live() || memo == nil {
		return readAs(s, w, r, name, nil, read)
	}
	head, err := s.L.Store.Head(r.Context())
	if err != nil {
		return fmt.Errorf("read the ledger's head: %w", err)
	}
	key := keptKey{view: name, pid: pid, path: r.URL.Path, query: r.URL.RawQuery, day: partnership.Date(s.Now())}
	if s.L.Views.Erasures != nil {
		key.erasures = s.L.Views.Erasures() // before any name is opened
	}
	stands := func() bool { return s.L.Views.StandsAt(name, head) && s.L.Views.StandsAt(views.PeopleView, head) }
	if v, ok := memo.Get(key, head); ok && stands() {
		return v.(*keptReply).write(w)
	}
	out, err := reading(s, w, r, name, nil, read)
	if err != nil {
		return err
	}
	body, err := appendAnswer(nil, out)
	if err != nil {
		return fmt.Errorf("encode the reading: %w", err)
	}
	kept := &keptReply{link: w.Header().Get("Link"), body: body}
	if out.Position == head && stands() {
		memo.Put(key, head, kept)
	}
	return kept.write(w)
}

// keptKey is what a kept answer (listPartnershipKept) depends on besides
// the ledger position.
type keptKey struct {
	view, path, query string
	pid               uuid.UUID
	day               time.Time
	erasures          uint64
}

// keptReply is an answer kept as sent: its body (JSON) and its Link
// header; write sends it with its length.
type keptReply struct {
	link string
	body []byte
}

func (k *keptReply) write(w http.ResponseWriter) error {
	h := w.Header()
	if k.link != "" {
		h.Set("Link", k.link)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(k.body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(k.body)
	return err
}

// itemOf reads item id of a partnership view: the aggregate (of kind) says
// which partnership it is in and gives the ETag; find picks the item out of
// the view's list (false: 404).
func itemOf[V projections.Projection](s *Server, w http.ResponseWriter, r *http.Request, name, kind, what string, stream func(uuid.UUID) string,
	find func(v V, pid, id uuid.UUID, rc readCtx) (any, bool, error)) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	t, ok, err := s.App.StreamTarget(r.Context(), stream(id))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("there is no %s %s", what, id)
	}
	pid := t.Partnership
	if err := s.readPartnership(r, pid); err != nil {
		return err
	}
	return readAs(s, w, r, name, streamOf(stream(id)), func(v V, rc readCtx) (any, error) {
		out, ok, err := find(v, pid, id, rc)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFound("there is no %s %s", what, id)
		}
		return out, nil
	})
}

// yearErr turns a view's error about a malformed year into a 422.
func yearErr(err error) error {
	if err == nil {
		return nil
	}
	return invalidField("year", "%v", err)
}

// CelebrationsData is what GET /v1/celebrations answers.
type CelebrationsData struct {
	Recognitions []views.CelebrationInfo `json:"recognitions"`
	Tallies      views.Tallies           `json:"tallies"`
}

// TimelineData is what GET /v1/timeline answers. Done is one page of the
// items done (limit, cursor; the reading's total and next count them):
// ten years of a partnership's timelines are thousands of items.
type TimelineData struct {
	Next        []views.TimelineEntry `json:"next"`
	Outstanding []views.TimelineEntry `json:"outstanding"`
	Done        []views.TimelineEntry `json:"done"`
}

// CPDData is what GET /v1/cpd answers. Events is one page of the events
// (limit, cursor; the reading's total and next count them); Schools and
// Totals cover every event of the year asked for.
type CPDData struct {
	Events  []views.CPDEventInfo `json:"events"`
	Schools []views.CPDSchool    `json:"schools"`
	Totals  views.CPDTotals      `json:"totals"`
}

// ResourceData is one resource with its calendar.
type ResourceData struct {
	views.ResourceInfo
	Calendar []views.Booking `json:"calendar"`
}

func partnershipReadRoutes() []route {
	const (
		tPart   = "Partnerships"
		tRes    = "Resources"
		tSec    = "Secondments"
		tCPD    = "CPD"
		tReview = "Peer reviews"
		tAcc    = "Accountability"
		tTime   = "Improvement timeline"
		tProg   = "Progress"
		tCelebr = "Celebrating"
		tCosts  = "Costs"
	)
	return []route{
		partnershipRead("/v1/partnerships", "List the partnerships", tPart, []views.PartnershipInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				vis, err := s.visibility(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, "partnerships", nil, func(v *views.Partnerships, rc readCtx) (any, error) {
					out := []views.PartnershipInfo{}
					for _, p := range v.List(rc.Names) {
						if vis.Admin || vis.ReadsPartnership(p.ID) {
							out = append(out, p)
						}
					}
					return out, nil
				})
			}),
		partnershipRead("/v1/partnerships/{id}", "Show a partnership", tPart, views.PartnershipInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				if err := s.readPartnership(r, id); err != nil {
					return err
				}
				return readAs(s, w, r, "partnerships", streamOf(partnership.PartnershipStream(id)), func(v *views.Partnerships, rc readCtx) (any, error) {
					p, ok := v.Get(id, rc.Names)
					if !ok {
						return nil, notFound("there is no partnership %s", id)
					}
					return p, nil
				})
			}),
		partnershipRead("/v1/partnerships/{id}/membership", "Count a partnership's members per year", tPart, []views.YearMembership{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				if err := s.readPartnership(r, id); err != nil {
					return err
				}
				return readAs(s, w, r, "partnerships", nil, func(v *views.Partnerships, rc readCtx) (any, error) {
					if _, ok := v.Get(id, nil); !ok {
						return nil, notFound("there is no partnership %s", id)
					}
					return nonNil(v.MembershipByYear(id, r.URL.Query().Get("through"))), nil
				})
			}),

		partnershipRead("/v1/resources", "List shared resources", tRes, []views.ResourceInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnershipKept(s, w, r, "resources", func(v *views.Resources, pid uuid.UUID, rc readCtx) (any, error) {
					return nonNil(v.List(pid)), nil
				})
			}),
		partnershipRead("/v1/resources/utilisation", "Show resource utilisation in a year", tRes, views.Utilisation{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnershipKept(s, w, r, "resources", func(v *views.Resources, pid uuid.UUID, rc readCtx) (any, error) {
					u, err := v.Utilisation(pid, yearParam(r))
					return u, yearErr(err)
				})
			}),
		partnershipRead("/v1/resources/{id}", "Show a resource with its calendar", tRes, ResourceData{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return itemOf(s, w, r, "resources", partnership.KindResource, "resource", partnership.ResourceStream,
					func(v *views.Resources, pid, id uuid.UUID, rc readCtx) (any, bool, error) {
						for _, res := range v.List(pid) {
							if res.ID == id {
								return ResourceData{ResourceInfo: res, Calendar: nonNil(v.Calendar(id))}, true, nil
							}
						}
						return nil, false, nil
					})
			}),
		partnershipRead("/v1/loans", "List loans (overdue=true: those overdue)", tRes, []views.LoanEntry{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				overdue := r.URL.Query().Get("overdue")
				if overdue != "" && overdue != "true" && overdue != "false" {
					return invalidField("overdue", "overdue is true or false, not %q", overdue)
				}
				return listPartnership(s, w, r, "loans", func(v *views.Loans, pid uuid.UUID, rc readCtx) (any, error) {
					if overdue == "true" {
						return nonNil(v.Overdue(pid, rc.Now)), nil
					}
					p, err := views.YearPeriod(yearParam(r))
					if err != nil {
						return nil, yearErr(err)
					}
					page, total := v.RegisterPage(pid, p, rc.Now, rc.Page.cursor, rc.Page.limit)
					return pagedList{page: page, total: total}, nil
				})
			}),
		partnershipRead("/v1/loans/{id}", "Show a loan", tRes, views.LoanEntry{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				res, err := s.loanResource(r.Context(), id)
				if err != nil {
					return err
				}
				pid, err := s.partnershipOfStream(r, partnership.ResourceStream(res))
				if err != nil {
					return err
				}
				if err := s.readPartnership(r, pid); err != nil {
					return err
				}
				return readAs(s, w, r, "loans", streamOf(partnership.ResourceStream(res)), func(v *views.Loans, rc readCtx) (any, error) {
					if l, ok := v.Loan(res, id, rc.Now); ok {
						return l, nil
					}
					return nil, notFound("there is no loan %s", id)
				})
			}),

		partnershipRead("/v1/secondments", "List secondments", tSec, []views.SecondmentEntry{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnership(s, w, r, "secondments", func(v *views.Secondments, pid uuid.UUID, rc readCtx) (any, error) {
					if r.URL.Query().Get("by") == "teacher" {
						l, err := v.ByTeacher(pid, yearParam(r), rc.Names)
						return nonNil(l), yearErr(err)
					}
					l, err := v.List(pid, yearParam(r), rc.Names)
					return nonNil(l), yearErr(err)
				})
			}),
		partnershipRead("/v1/secondments/fte", "Show the FTE each school lent and received", tSec, []views.SchoolFTE{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				year := yearParam(r)
				if year == "" {
					return invalidField("year", "name the academic year: ?year=2025-26")
				}
				return listPartnership(s, w, r, "secondments", func(v *views.Secondments, pid uuid.UUID, rc readCtx) (any, error) {
					l, err := v.BySchool(pid, year, rc.Now)
					return nonNil(l), yearErr(err)
				})
			}),
		partnershipRead("/v1/secondments/{id}", "Show a secondment", tSec, views.SecondmentEntry{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				teacher, err := s.secondmentTeacher(r.Context(), id)
				if err != nil {
					return err
				}
				pids, err := s.partnershipIDs(r.Context(), views.AsOf{})
				if err != nil {
					return err
				}
				return readAs(s, w, r, "secondments", streamOf(partnership.SecondmentsStream(teacher)), func(v *views.Secondments, rc readCtx) (any, error) {
					for _, pid := range pids {
						l, err := v.List(pid, "", rc.Names)
						if err != nil {
							return nil, err
						}
						for _, e := range l {
							if e.ID == id {
								if err := s.readPartnership(r, pid); err != nil {
									return nil, err
								}
								return e, nil
							}
						}
					}
					return nil, notFound("there is no secondment %s", id)
				})
			}),

		partnershipRead("/v1/cpd", "List CPD events with take-up and costs (events in pages; schools and totals for the whole year)", tCPD, CPDData{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnership(s, w, r, "cpd", func(v *views.CPD, pid uuid.UUID, rc readCtx) (any, error) {
					y := yearParam(r)
					events, total := v.EventsPage(pid, y, rc.Page.cursor, rc.Page.limit)
					return pagedList{page: CPDData{Events: events, Schools: nonNil(v.BySchool(pid, y)), Totals: v.Totals(pid, y)}, total: total}, nil
				})
			}),
		partnershipRead("/v1/cpd/{id}", "Show a CPD event", tCPD, views.CPDEventInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return itemOf(s, w, r, "cpd", partnership.KindCPD, "CPD event", partnership.CPDStream,
					func(v *views.CPD, pid, id uuid.UUID, rc readCtx) (any, bool, error) {
						e, ok := v.Event(pid, id)
						return e, ok, nil
					})
			}),

		partnershipRead("/v1/reviews", "List peer reviews", tReview, []views.ReviewInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnershipKept(s, w, r, "reviews", func(v *views.Reviews, pid uuid.UUID, rc readCtx) (any, error) {
					page, total := v.LogPage(pid, yearParam(r), rc.Now, rc.Names, rc.Page.cursor, rc.Page.limit)
					return pagedList{page: nonNil(page), total: total}, nil
				})
			}),
		partnershipRead("/v1/reviews/follow-ups", "List follow-up actions done and open (actions in pages)", tReview, views.FollowUps{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnershipKept(s, w, r, "reviews", func(v *views.Reviews, pid uuid.UUID, rc readCtx) (any, error) {
					fu, total := v.FollowUpsPage(pid, yearParam(r), rc.Now, rc.Names, rc.Page.cursor, rc.Page.limit)
					return pagedList{page: fu, total: total}, nil
				})
			}),
		partnershipRead("/v1/reviews/{id}", "Show a peer review", tReview, views.ReviewInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return itemOf(s, w, r, "reviews", partnership.KindReview, "review", partnership.ReviewStream,
					func(v *views.Reviews, pid, id uuid.UUID, rc readCtx) (any, bool, error) {
						ri, ok := v.Review(pid, id, rc.Now, rc.Names)
						return ri, ok, nil
					})
			}),

		partnershipRead("/v1/progress", "Show the RAG board", tProg, []views.BoardCell{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnershipKept(s, w, r, "progress", func(v *views.Progress, pid uuid.UUID, rc readCtx) (any, error) {
					if r.URL.Query().Get("by") == "area" {
						return nonNil(v.ByArea(pid, yearParam(r))), nil
					}
					page, total := v.BoardPage(pid, yearParam(r), rc.Page.cursor, rc.Page.limit)
					return pagedList{page: nonNil(page), total: total}, nil
				})
			}),

		partnershipRead("/v1/commitments", "List commitments (group=owner|status)", tAcc, []views.CommitmentInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				group := r.URL.Query().Get("group")
				if group != "" && group != "owner" && group != "status" {
					return invalidField("group", "group is owner or status, not %q", group)
				}
				return listPartnershipKept(s, w, r, "commitments", func(v *views.Commitments, pid uuid.UUID, rc readCtx) (any, error) {
					y := yearParam(r)
					switch group {
					case "owner":
						return nonNil(v.ByOwner(pid, y, rc.Now, rc.Names)), nil
					case "status":
						return nonNil(v.ByStatus(pid, y, rc.Now, rc.Names)), nil
					}
					page, total := v.ListPage(pid, y, rc.Now, rc.Names, rc.Page.cursor, rc.Page.limit)
					return pagedList{page: nonNil(page), total: total}, nil
				})
			}),
		partnershipRead("/v1/commitments/{id}", "Show a commitment", tAcc, views.CommitmentInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return itemOf(s, w, r, "commitments", partnership.KindCommitment, "commitment", partnership.CommitmentStream,
					func(v *views.Commitments, pid, id uuid.UUID, rc readCtx) (any, bool, error) {
						c, ok := v.Commitment(pid, id, rc.Now, rc.Names)
						return c, ok, nil
					})
			}),

		partnershipRead("/v1/celebrations", "List recognised contributions", tCelebr, CelebrationsData{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnershipKept(s, w, r, "celebrations", func(v *views.Celebrations, pid uuid.UUID, rc readCtx) (any, error) {
					y := yearParam(r)
					return CelebrationsData{Recognitions: nonNil(v.List(pid, y, rc.Names)), Tallies: v.Tallies(pid, y, rc.Names)}, nil
				})
			}),

		partnershipRead("/v1/timeline", "Show the improvement timeline: what comes next, outstanding and done (done in pages)", tTime, TimelineData{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				n, err := queryUint(r, "next", 0)
				if err != nil {
					return err
				}
				return listPartnershipKept(s, w, r, "timeline", func(v *views.Timelines, pid uuid.UUID, rc readCtx) (any, error) {
					y := yearParam(r)
					done, total := v.DonePage(pid, y, rc.Page.cursor, rc.Page.limit)
					return pagedList{page: TimelineData{Next: nonNil(v.Next(pid, y, rc.Now, int(min(n, 1<<20)))),
						Outstanding: nonNil(v.Outstanding(pid, y, rc.Now)), Done: done}, total: total}, nil
				})
			}),

		partnershipRead("/v1/costs", "Show transaction costs (by=year: per year)", tCosts, views.CostSummary{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return listPartnershipKept(s, w, r, "costs", func(v *views.Costs, pid uuid.UUID, rc readCtx) (any, error) {
					if r.URL.Query().Get("by") == "year" {
						return nonNil(v.ByYear(pid)), nil
					}
					sum, err := v.Summary(pid, yearParam(r))
					return sum, yearErr(err)
				})
			}),
	}
}

// partnershipOfStream returns the partnership a partnership record belongs
// to (404 when the record does not exist).
func (s *Server) partnershipOfStream(r *http.Request, stream string) (uuid.UUID, error) {
	t, ok, err := s.App.StreamTarget(r.Context(), stream)
	if err != nil {
		return uuid.Nil, err
	}
	if !ok {
		return uuid.Nil, notFound("there is no %s", stream)
	}
	return t.Partnership, nil
}
