package api

import (
	"context"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// This file is the API's contract with its clients beyond the Go types:
// the query parameters each route takes (a request with another is
// refused, so this list cannot drift from the handlers), the enumerations
// of fields with fixed values, and the fields a command's body need not
// give because the server fills them. The OpenAPI document is built from
// it.

// queryParam describes one query parameter.
type queryParam struct {
	Description string
	Schema      map[string]any
}

var (
	strParam        = map[string]any{"type": "string"}
	uuidParam       = map[string]any{"type": "string", "format": "uuid"}
	uintParam       = map[string]any{"type": "integer", "minimum": 0}
	yearParamSchema = map[string]any{"type": "string", "pattern": `^\d{4}-\d{2}$`}
)

// queryParams names every query parameter the API reads.
var queryParams = map[string]queryParam{
	"as_of":       {"Read the ledger as it stood at a position (a whole number), a time (RFC 3339) or the end of a date (YYYY-MM-DD).", strParam},
	"position":    {"Read the ledger as it stood at this position (the same as as_of=N).", uintParam},
	"reading":     {"known: as it was known then (default); corrected: as corrected since.", map[string]any{"type": "string", "enum": []string{"known", "corrected"}}},
	"school":      {"The school (default: the only school whose records you read).", uuidParam},
	"community":   {"The ISLC.", uuidParam},
	"partnership": {"The partnership (default: the only partnership whose records you read).", uuidParam},
	"person":      {"A person the events concern.", uuidParam},
	"year":        {"An academic year, e.g. 2025-26 (default: every year, or the current one where one is needed).", yearParamSchema},
	"through":     {"The last academic year to count, e.g. 2025-26.", yearParamSchema},
	"status":      {"Only those in this status: a proposal's draft, submitted, returned or approved; a challenge's open or answered.", map[string]any{"type": "string", "enum": []string{"draft", "submitted", "returned", "approved", "open", "answered"}}},
	"overdue":     {"true: only loans overdue.", map[string]any{"type": "boolean"}},
	"by":          {"Group the answer: teacher (secondments), area (progress) or year (costs).", map[string]any{"type": "string", "enum": []string{"teacher", "area", "year"}}},
	"group":       {"Group commitments by owner or status.", map[string]any{"type": "string", "enum": []string{"owner", "status"}}},
	"next":        {"How many coming items to show.", uintParam},
	"format":      {"The document's format.", map[string]any{"type": "string", "enum": []string{"json", "md", "html", "csv", "text"}}},
	"table":       {"With format=csv: one table of the report.", strParam},
	"type":        {"Only events of this type (see docs/events.md).", strParam},
	"stream":      {"Only events of this stream, e.g. proposal-<id>.", strParam},
	"from":        {"Events recorded at or after this time (RFC 3339 or a date); for proofs and the live feed, a position.", strParam},
	"to":          {"Events recorded before this time (RFC 3339 or a date); for proofs, a tree size.", strParam},
	"cursor":      {"Where the previous page ended (its next; the Link header gives the next page's address).", uintParam},
	"limit":       {"How many events, or entries of a list (CPD's events, the timeline's items done), a page holds: 1 to 1000 (default 100).", uintParam},
	"tree_size":   {"The tree size the proof is for (default: the latest checkpoint's).", uintParam},
}

var readingParams = []string{"as_of", "position", "reading"}

// routeQuery lists each route's query parameters; a route not listed
// takes none. Every read of the views also takes as_of, position and
// reading.
var routeQuery = map[string][]string{
	"GET /v1/schools/{id}/leadership-team":  {"year"},
	"GET /v1/schools/{id}/unassigned-staff": {"year"},
	"GET /v1/schools/{id}/staff-assignment": {"year"},
	"GET /v1/schools/{id}/learning":         {"year"},
	"GET /v1/people":                        {"school"},
	"GET /v1/communities":                   {"school"},
	"GET /v1/communities/{id}/elections":    {"year"},
	"GET /v1/proposals":                     {"school", "community", "year", "status"},
	"GET /v1/challenges":                    {"school", "status"},
	"GET /v1/partnerships/{id}/membership":  {"through"},
	"GET /v1/resources":                     {"partnership"},
	"GET /v1/resources/utilisation":         {"partnership", "year"},
	"GET /v1/loans":                         {"partnership", "year", "overdue"},
	"GET /v1/secondments":                   {"partnership", "year", "by"},
	"GET /v1/secondments/fte":               {"partnership", "year"},
	"GET /v1/cpd":                           {"partnership", "year", "cursor", "limit"},
	"GET /v1/reviews":                       {"partnership", "year"},
	"GET /v1/reviews/follow-ups":            {"partnership", "year", "cursor", "limit"},
	"GET /v1/progress":                      {"partnership", "year", "by"},
	"GET /v1/commitments":                   {"partnership", "year", "group"},
	"GET /v1/celebrations":                  {"partnership", "year"},
	"GET /v1/timeline":                      {"partnership", "year", "next", "cursor", "limit"},
	"GET /v1/costs":                         {"partnership", "year", "by"},
	"GET /v1/reports/partnership":           {"partnership", "year", "format", "table"},
	"GET /v1/events":                        {"school", "community", "person", "type", "stream", "from", "to", "cursor", "limit"},
	"GET /v1/events/stream":                 {"from", "type", "stream"},
	"GET /v1/publickey":                     {"format"},
	"GET /v1/proofs/inclusion":              {"position", "tree_size"},
	"GET /v1/proofs/consistency":            {"from", "to"},
}

// takesReading reports whether rt is a read of the views (as_of, reading).
func takesReading(rt route) bool {
	if _, ok := rt.Response.(Reading); ok {
		return true
	}
	return false
}

// answersList reports whether rt is a read of the views whose data is a
// list, answered in pages (limit, cursor).
func answersList(rt route) bool {
	rd, ok := rt.Response.(Reading)
	return ok && isList(rd.Data)
}

// queryOf returns rt's query parameters, sorted.
func queryOf(rt route) []string {
	out := append([]string(nil), routeQuery[rt.Method+" "+rt.Pattern]...)
	var extra []string
	if takesReading(rt) {
		extra = append(extra, readingParams...)
	}
	if answersList(rt) {
		extra = append(extra, "limit", "cursor")
	}
	for _, p := range extra {
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// checkQuery refuses a query parameter rt does not take (400 naming it).
func checkQuery(rt route, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	allowed := queryOf(rt)
	for name := range r.URL.Query() {
		if !contains(allowed, name) {
			if len(allowed) == 0 {
				return badRequest("%s takes no query parameter; %q is not one", rt.Pattern, name)
			}
			return badRequest("%q is not a query parameter of %s; it takes %s", name, rt.Pattern, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// enums are the fixed values of fields, by the field's type, or by the
// struct and JSON name for plain strings.
var (
	enumByType = map[reflect.Type][]string{
		reflect.TypeFor[partnership.PartnershipKind](): {string(partnership.KindTrust), string(partnership.KindCluster), string(partnership.KindNetwork)},
		reflect.TypeFor[partnership.CPDKind](): {string(partnership.CPDSession), string(partnership.TeachMeet), string(partnership.Shadowing),
			string(partnership.Trip), string(partnership.Event)},
		reflect.TypeFor[partnership.RAG]():       {"red", "amber", "green"},
		reflect.TypeFor[partnership.PartyKind](): {string(partnership.PartySchool), string(partnership.PartyCommunity)},
	}
	enumByField = map[string][]string{
		"OpenElection.ballot":           {governance.BallotSecret, governance.BallotOpen},
		"CallConfidenceVote.ballot":     {governance.BallotSecret, governance.BallotOpen},
		"CastConfidenceVote.choice":     {governance.ChoiceConfidence, governance.ChoiceNoConfidence},
		"GiveAdvice.stance":             {governance.StanceSupport, governance.StanceConcerns, governance.StanceNeutral},
		"RegisterStaff.kind":            {governance.StaffEducator, governance.StaffAdministrator},
		"LinkAdvisoryGroup.kind":        {governance.AdvisoryStudents, governance.AdvisoryParents, governance.AdvisoryStudentsAndParents},
		"LeaveCommunity.exception":      {governance.ExceptionLeftSchool, governance.ExceptionLongTermAbsence, governance.ExceptionDirectorApproved},
		"DecideProposalRequest.outcome": {"approve", "return"},
		"TokenSpec.kind":                {"person", "admin"},
		"Quorum.rule":                   {governance.QuorumMajority, governance.QuorumPercent, governance.QuorumCount},
	}
)

// enumOf returns the fixed values of field f of struct t (nil: any).
func enumOf(t reflect.Type, f reflect.StructField) []string {
	ft := f.Type
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if e, ok := enumByType[ft]; ok {
		return e
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return enumByField[t.Name()+"."+name]
}

// serverFilled are the fields of a command's body the server fills when
// they are absent: ids from the path, new ids, and what it finds from
// them (an election's ISLC, a loan's resource, a secondment's teacher).
// A body may give them; they are never required.
var serverFilled = []string{"community_id", "resource_id", "teacher_id"}

// optionalFields are command fields without omitempty that the server
// defaults when absent (a day defaults to today, a quorum to a majority):
// the document does not require them.
var optionalFields = map[string]bool{
	"FormPartnership.formed_on":            true,
	"JoinPartnership.joined_on":            true,
	"LeavePartnership.left_on":             true,
	"UpdateCommitmentProgress.percent":     true,
	"OrganiseCPD.bulk_min_places":          true,
	"OrganiseCPD.bulk_percent_off":         true,
	"OrganiseCPD.cost_per_place_pence":     true,
	"AgreePriority.description":            true,
	"RecogniseContribution.reference_id":   true,
	"RecogniseContribution.reference_kind": true,
	"RecordStrengthsAssessment.scores":     true,
	"RegisterResource.capacity":            true,
	"RegisterResource.description":         true,
	"RegisterResource.hourly_value_pence":  true,
	"RegisterResource.offer":               true,
	"RecordReviewFinding.recommendations":  true,
	"CreateTimeline.items":                 true,
	"MarkTimelineItemDone.note":            true,
	"SetTeamQuorum.quorum":                 true,
}

// filledBy returns the JSON fields bind sets from the path or makes up,
// found by running it on a request whose path parameters are made-up ids
// (bind may stop at a look-up it cannot make without a ledger).
func filledBy[C any](pattern string, bind func(s *Server, r *http.Request, c *C) error) (filled []string) {
	if bind == nil {
		return nil
	}
	var c C
	rctx := chi.NewRouteContext()
	for _, m := range pathParam.FindAllStringSubmatch(pattern, -1) {
		rctx.URLParams.Add(m[1], "01900000-0000-7000-8000-000000000001")
	}
	r, _ := http.NewRequest(http.MethodPost, pattern, nil)
	r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
	func() {
		defer func() { _ = recover() }()
		_ = bind(&Server{}, r, &c)
	}()
	v := reflect.ValueOf(c)
	t := v.Type()
	var walk func(v reflect.Value, t reflect.Type)
	walk = func(v reflect.Value, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(v.Field(i), f.Type)
				continue
			}
			if !f.IsExported() || v.Field(i).IsZero() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			filled = append(filled, name)
		}
	}
	if t.Kind() == reflect.Struct {
		walk(v, t)
	}
	return filled
}
