package api

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/views"
)

func init() { addRoutes(governanceReadRoutes) }

// schoolParam returns the school a list read is about, once the caller may
// read it: the school query parameter, else the only school whose records
// the caller reads.
func (s *Server) schoolParam(r *http.Request) (uuid.UUID, error) {
	id, err := queryUUID(r, "school")
	if err != nil {
		return uuid.Nil, err
	}
	if id != uuid.Nil {
		return id, s.readSchool(r, id)
	}
	vis, err := s.visibility(r)
	if err != nil {
		return uuid.Nil, err
	}
	var mine []uuid.UUID
	for sc := range vis.Schools {
		mine = append(mine, sc)
	}
	switch len(mine) {
	case 1:
		return mine[0], nil
	case 0:
		return uuid.Nil, s.readSchool(r, uuid.Nil)
	}
	return uuid.Nil, invalidField("school", "name the school: ?school=<id> (you read %d)", len(mine))
}

// schoolPath reads the {id} of a school route and checks the caller may
// read that school.
func (s *Server) schoolPath(r *http.Request) (uuid.UUID, error) {
	id, err := pathUUID(r, "id")
	if err != nil {
		return uuid.Nil, err
	}
	return id, s.readSchool(r, id)
}

func governanceReadRoutes() []route {
	const (
		tSchools   = "Schools"
		tPeople    = "People"
		tComm      = "Communities"
		tElections = "Elections"
		tProposals = "Proposals"
	)
	return []route{
		{Method: http.MethodGet, Pattern: "/v1/schools", Summary: "List the schools you read (the administrator: every school)", Tag: tSchools,
			Auth: true, UseCase: "ReadSchool", Response: Reading{Data: []views.SchoolSummary{}}, Status: http.StatusOK,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				vis, err := s.visibility(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.SchoolsView, nil, func(v *views.Schools, rc readCtx) (any, error) {
					all := v.Schools(rc.Names)
					if vis.Admin {
						return all, nil
					}
					out := all[:0:0]
					for _, x := range all {
						if vis.ReadsSchool(x.ID) {
							out = append(out, x)
						}
					}
					return out, nil
				})
			}},
		schoolRead("/v1/schools/{id}", "Show a school with its staff", tSchools, views.School{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := s.schoolPath(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.SchoolsView, streamOf(governance.SchoolStream(id)), func(v *views.Schools, rc readCtx) (any, error) {
					sc, ok := v.School(id, rc.Names)
					if !ok {
						return nil, notFound("there is no school %s", id)
					}
					return sc, nil
				})
			}),
		schoolRead("/v1/schools/{id}/leadership-team", "Show a school's Leadership Team", tSchools, views.Team{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := s.schoolPath(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.LeadershipTeamView, nil, func(v *views.LeadershipTeams, rc readCtx) (any, error) {
					year := yearParam(r)
					if year == "" {
						if ys := v.Years(id); len(ys) > 0 {
							year = ys[len(ys)-1]
						}
					}
					t, ok := v.Team(id, year, rc.Names)
					if !ok {
						return nil, notFound("there is no school %s", id)
					}
					return t, nil
				})
			}),
		schoolRead("/v1/schools/{id}/unassigned-staff", "List the staff in no ISLC for a year", tSchools, []views.Assignment{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := s.schoolPath(r)
				if err != nil {
					return err
				}
				year := yearParam(r)
				if year == "" {
					return invalidField("year", "name the academic year: ?year=2025-26")
				}
				return readAs(s, w, r, views.SchoolsView, nil, func(v *views.Schools, rc readCtx) (any, error) {
					if _, ok := v.School(id, nil); !ok {
						return nil, notFound("there is no school %s", id)
					}
					return nonNil(v.Unassigned(id, year, rc.Names)), nil
				})
			}),
		schoolRead("/v1/schools/{id}/staff-assignment", "List the staff with their ISLCs for a year", tSchools, []views.Assignment{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := s.schoolPath(r)
				if err != nil {
					return err
				}
				year := yearParam(r)
				if year == "" {
					return invalidField("year", "name the academic year: ?year=2025-26")
				}
				return readAs(s, w, r, views.SchoolsView, nil, func(v *views.Schools, rc readCtx) (any, error) {
					if _, ok := v.School(id, nil); !ok {
						return nil, notFound("there is no school %s", id)
					}
					return nonNil(v.StaffAssignment(id, year, rc.Names)), nil
				})
			}),
		schoolRead("/v1/schools/{id}/membership", "Chart a school's ISLC membership over the years", tSchools, views.MembershipChart{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := s.schoolPath(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.CommunitiesView, nil, func(v *views.Communities, rc readCtx) (any, error) {
					return v.MembershipOverYears(id), nil
				})
			}),

		schoolRead("/v1/people", "List people", tPeople, []views.Person{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				school, err := s.schoolParam(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.PeopleView, nil, func(v *views.People, rc readCtx) (any, error) {
					return nonNil(v.PeopleOf(s.L.Keys, school)), nil
				})
			}),
		schoolRead("/v1/people/{id}", "Show a person", tPeople, views.Person{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.PeopleView, streamOf(governance.PersonStream(id)), func(v *views.People, rc readCtx) (any, error) {
					p, ok := v.Person(s.L.Keys, id)
					if !ok {
						return nil, notFound("there is no person %s", id)
					}
					if caller(r).PersonID == id {
						return p, nil
					}
					if err := s.readSchool(r, p.SchoolID); err != nil {
						return nil, err
					}
					return p, nil
				})
			}),

		schoolRead("/v1/communities", "List a school's ISLCs", tComm, []views.CommunitySummary{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				school, err := s.schoolParam(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.CommunitiesView, nil, func(v *views.Communities, rc readCtx) (any, error) {
					return nonNil(v.CommunitiesOf(school, rc.Names)), nil
				})
			}),
		schoolRead("/v1/communities/{id}", "Show an ISLC", tComm, views.Community{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.CommunitiesView, streamOf(governance.CommunityStream(id)), func(v *views.Communities, rc readCtx) (any, error) {
					c, ok := v.Community(id, rc.Names)
					if !ok {
						return nil, notFound("there is no ISLC %s", id)
					}
					if err := s.readSchool(r, c.School.ID); err != nil {
						return nil, err
					}
					return c, nil
				})
			}),
		schoolRead("/v1/communities/{id}/elections", "List an ISLC's elections and confidence votes", tElections, views.Ballots{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				school, err := s.communitySchool(r, id)
				if err != nil {
					return err
				}
				if err := s.readSchool(r, school); err != nil {
					return err
				}
				return readAs(s, w, r, views.ElectionsView, streamOf(governance.CommunityStream(id)), func(v *views.Elections, rc readCtx) (any, error) {
					return v.Of(id, yearParam(r), rc.Names), nil
				})
			}),
		schoolRead("/v1/elections/{id}", "Show an election", tElections, views.Election{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				var community uuid.UUID
				return readAs(s, w, r, views.ElectionsView, func() string { return governance.CommunityStream(community) },
					func(v *views.Elections, rc readCtx) (any, error) {
						e, ok := v.Election(id, rc.Names)
						if !ok {
							return nil, notFound("there is no election %s", id)
						}
						if err := s.readSchool(r, e.School.ID); err != nil {
							return nil, err
						}
						community = e.Community.ID
						return e, nil
					})
			}),
		schoolRead("/v1/confidence-votes/{id}", "Show a vote of confidence", tElections, views.ConfidenceVote{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				var community uuid.UUID
				return readAs(s, w, r, views.ElectionsView, func() string { return governance.CommunityStream(community) },
					func(v *views.Elections, rc readCtx) (any, error) {
						e, ok := v.ConfidenceVote(id, rc.Names)
						if !ok {
							return nil, notFound("there is no confidence vote %s", id)
						}
						if err := s.readSchool(r, e.School.ID); err != nil {
							return nil, err
						}
						community = e.Community.ID
						return e, nil
					})
			}),

		schoolRead("/v1/proposals", "List proposals", tProposals, []views.Proposal{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				school, err := s.schoolParam(r)
				if err != nil {
					return err
				}
				community, err := queryUUID(r, "community")
				if err != nil {
					return err
				}
				f := views.ProposalFilter{School: school, Community: community, Year: yearParam(r), Status: r.URL.Query().Get("status")}
				return readAs(s, w, r, views.ProposalsView, nil, func(v *views.Proposals, rc readCtx) (any, error) {
					page, total := v.RegisterPage(f, rc.Names, rc.Page.cursor, rc.Page.limit)
					return pagedList{page: nonNil(page), total: total}, nil
				})
			}),
		schoolRead("/v1/proposals/{id}", "Show a proposal with its versions, advice and decisions", tProposals, views.Proposal{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.ProposalsView, streamOf(governance.ProposalStream(id)), func(v *views.Proposals, rc readCtx) (any, error) {
					p, ok := v.Proposal(id, rc.Names)
					if !ok {
						return nil, notFound("there is no proposal %s", id)
					}
					if err := s.readSchool(r, p.School.ID); err != nil {
						return nil, err
					}
					return p, nil
				})
			}),
		schoolRead("/v1/challenges", "List a school's governors' challenges (status=open|answered)", "Challenges", []views.ChallengeInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				school, err := s.schoolParam(r)
				if err != nil {
					return err
				}
				f := views.ChallengeFilter{Schools: []uuid.UUID{school}, Status: r.URL.Query().Get("status")}
				return readAs(s, w, r, views.ChallengesView, nil, func(v *views.Challenges, rc readCtx) (any, error) {
					return nonNil(v.List(f, rc.Now, rc.Names)), nil
				})
			}),
		schoolRead("/v1/challenges/{id}", "Show a governor's challenge", "Challenges", views.ChallengeInfo{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				t, ok, err := s.App.StreamTarget(r.Context(), governance.ChallengeStream(id))
				if err != nil {
					return err
				}
				if !ok {
					return notFound("there is no challenge %s", id)
				}
				if err := s.readSchool(r, t.School); err != nil {
					return err
				}
				return readAs(s, w, r, views.ChallengesView, streamOf(governance.ChallengeStream(id)), func(v *views.Challenges, rc readCtx) (any, error) {
					for _, c := range v.List(views.ChallengeFilter{Schools: []uuid.UUID{t.School}}, rc.Now, rc.Names) {
						if c.ID == id {
							return c, nil
						}
					}
					return nil, notFound("there is no challenge %s %s", id, rc.AsOf.Describe())
				})
			}),
	}
}

// nonNil turns a nil slice into an empty one, so lists encode as [].
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// communitySchool returns the school of ISLC id (404 when there is none).
func (s *Server) communitySchool(r *http.Request, id uuid.UUID) (uuid.UUID, error) {
	t, ok, err := s.App.StreamTarget(r.Context(), governance.CommunityStream(id))
	if err != nil {
		return uuid.Nil, err
	}
	if !ok {
		return uuid.Nil, notFound("there is no ISLC %s", id)
	}
	return t.School, nil
}
