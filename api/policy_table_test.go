package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// worldServer serves the API over w, with a token store holding a token
// per principal; tokens returns each principal's secret.
func worldServer(t testing.TB, w *apitest.World) (*Server, map[string]string) {
	t.Helper()
	ts, err := OpenTokens("", TokensOptions{Now: func() time.Time { return apitest.Now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Close() })
	tokens := map[string]string{}
	for name, a := range w.Actor {
		secret, _, err := ts.Create(t.Context(), TokenSpec{Kind: a.Kind, PersonID: a.PersonID, Label: name})
		if err != nil {
			t.Fatal(err)
		}
		tokens[name] = secret
	}
	return New(w.L, Options{Auth: ts, Logger: coreQuiet, Now: func() time.Time { return apitest.Now }}), tokens
}

// walkRequest is one request of the walk: its path (with query) and body.
type walkRequest struct {
	path string
	body any
}

// walkRequests gives, for every route, the request the walk sends: ids of
// the world's records of school A and partnership P1, and a body that
// passes decoding, so that what answers is who may.
func walkRequests(w *apitest.World) map[string]walkRequest {
	s := func(id uuid.UUID) string { return id.String() }
	A, P1 := s(w.SchoolA), s(w.P1)
	staffA := s(w.Person[apitest.StaffA])
	when := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	text := governance.ProposalText{Title: "Revised", Body: "b", ExpectedImpact: "e"}
	yes := true
	return map[string]walkRequest{
		"GET /healthz":                                      {"/healthz", nil},
		"GET /readyz":                                       {"/readyz", nil},
		"GET /v1/openapi.json":                              {"/v1/openapi.json", nil},
		"GET /v1/publickey":                                 {"/v1/publickey", nil},
		"GET /v1/checkpoints":                               {"/v1/checkpoints", nil},
		"GET /v1/checkpoints/latest":                        {"/v1/checkpoints/latest", nil},
		"GET /v1/checkpoints/{size}":                        {"/v1/checkpoints/1", nil},
		"POST /v1/checkpoints/{size}/cosignatures":          {"/v1/checkpoints/1/cosignatures", map[string]any{}},
		"GET /v1/proofs/inclusion":                          {"/v1/proofs/inclusion?position=1", nil},
		"GET /v1/proofs/consistency":                        {"/v1/proofs/consistency?from=1&to=2", nil},
		"GET /v1/admin/backup":                              {"/v1/admin/backup", nil},
		"GET /v1/admin/export":                              {"/v1/admin/export", nil},
		"GET /v1/admin/projections":                         {"/v1/admin/projections", nil},
		"POST /v1/admin/projections/{name}/retry":           {"/v1/admin/projections/people/retry", nil},
		"GET /v1/tokens":                                    {"/v1/tokens", nil},
		"POST /v1/tokens":                                   {"/v1/tokens", TokenSpec{Kind: app.KindPerson, PersonID: w.Person[apitest.StaffA], Label: "walk"}},
		"DELETE /v1/tokens/{id}":                            {"/v1/tokens/" + uuid.NewString(), nil},
		"GET /v1/schools":                                   {"/v1/schools", nil},
		"POST /v1/schools":                                  {"/v1/schools", governance.RegisterSchool{Name: "New School"}},
		"GET /v1/schools/{id}":                              {"/v1/schools/" + A, nil},
		"POST /v1/schools/{id}/director":                    {"/v1/schools/" + A + "/director", governance.AppointDirector{DirectorID: w.Person[apitest.DirA]}},
		"GET /v1/schools/{id}/leadership-team":              {"/v1/schools/" + A + "/leadership-team", nil},
		"GET /v1/schools/{id}/learning":                     {"/v1/schools/" + A + "/learning?year=" + apitest.Year, nil},
		"GET /v1/schools/{id}/membership":                   {"/v1/schools/" + A + "/membership", nil},
		"POST /v1/schools/{id}/segments":                    {"/v1/schools/" + A + "/segments", governance.AddSegment{Name: "Wellbeing"}},
		"POST /v1/schools/{id}/segments/{segment}/rename":   {"/v1/schools/" + A + "/segments/" + s(w.SegmentA) + "/rename", governance.RenameSegment{Name: "Teaching"}},
		"GET /v1/schools/{id}/staff-assignment":             {"/v1/schools/" + A + "/staff-assignment?year=" + apitest.Year, nil},
		"GET /v1/schools/{id}/unassigned-staff":             {"/v1/schools/" + A + "/unassigned-staff?year=" + apitest.Year, nil},
		"POST /v1/schools/{id}/years":                       {"/v1/schools/" + A + "/years", governance.OpenAcademicYear{Year: "2026-27"}},
		"GET /v1/people":                                    {"/v1/people?school=" + A, nil},
		"POST /v1/people/staff":                             {"/v1/people/staff", governance.RegisterStaff{SchoolID: w.SchoolA, Kind: governance.StaffEducator, PersonDetails: governance.PersonDetails{Name: "New Teacher"}}},
		"POST /v1/people/governors":                         {"/v1/people/governors", governance.RegisterGovernor{SchoolID: w.SchoolA, PersonDetails: governance.PersonDetails{Name: "New Governor"}}},
		"POST /v1/people/advisory-contacts":                 {"/v1/people/advisory-contacts", governance.RegisterAdvisoryContact{SchoolID: w.SchoolA, PersonDetails: governance.PersonDetails{Name: "New Parent"}}},
		"POST /v1/people/auditors":                          {"/v1/people/auditors", governance.RegisterAuditor{PersonDetails: governance.PersonDetails{Name: "New Auditor"}}},
		"GET /v1/people/{id}":                               {"/v1/people/" + staffA, nil},
		"POST /v1/people/{id}/details":                      {"/v1/people/" + staffA + "/details", map[string]any{"name": "Sam Staff", "email": apitest.EmailStaffA, "reason": "from the paper form"}},
		"POST /v1/people/{id}/leave":                        {"/v1/people/" + staffA + "/leave", governance.LeaveSchool{}},
		"POST /v1/people/{id}/strengths":                    {"/v1/people/" + staffA + "/strengths", map[string]any{"year": apitest.Year, "scores": governance.Strengths{Executing: 50}, "reason": "from the paper form"}},
		"POST /v1/people/{id}/design-communities":           {"/v1/people/" + staffA + "/design-communities", map[string]any{"year": apitest.Year, "name": "Year 7 projects", "reason": "from the paper form"}},
		"POST /v1/people/{id}/pathways":                     {"/v1/people/" + staffA + "/pathways", map[string]any{"year": apitest.Year, "name": "Early career", "reason": "from the paper form"}},
		"POST /v1/people/{id}/erasure":                      {"/v1/people/" + staffA + "/erasure", map[string]any{"reason": "asked for erasure"}},
		"POST /v1/triads":                                   {"/v1/triads", governance.FormTriad{SchoolID: w.SchoolA, Year: apitest.Year, Members: []uuid.UUID{w.Person[apitest.StaffA], w.Person[apitest.ChairA], w.StaffA2}}},
		"GET /v1/triads/{id}":                               {"/v1/triads/" + s(w.Triad), nil},
		"GET /v1/communities":                               {"/v1/communities?school=" + A, nil},
		"POST /v1/communities":                              {"/v1/communities", governance.EstablishCommunity{SchoolID: w.SchoolA, SegmentID: governance.DefaultSegmentID(w.SchoolA, governance.DefaultSegmentNames[2])}},
		"GET /v1/communities/{id}":                          {"/v1/communities/" + s(w.CommunityX), nil},
		"POST /v1/communities/{id}/members":                 {"/v1/communities/" + s(w.CommunityX) + "/members", map[string]any{"person_id": staffA, "year": apitest.Year, "basis": []string{"interest"}, "reason": "from the paper form"}},
		"POST /v1/communities/{id}/members/{person}/leave":  {"/v1/communities/" + s(w.CommunityX) + "/members/" + staffA + "/leave", map[string]any{"year": apitest.Year, "exception": "long_term_absence", "reason": "signed off"}},
		"POST /v1/communities/{id}/roster":                  {"/v1/communities/" + s(w.CommunityX) + "/roster", governance.ConfirmRoster{Year: apitest.Year}},
		"POST /v1/communities/{id}/governor":                {"/v1/communities/" + s(w.CommunityX) + "/governor", governance.LinkGovernor{GovernorID: w.Person[apitest.GovA]}},
		"POST /v1/communities/{id}/advisory-groups":         {"/v1/communities/" + s(w.CommunityX) + "/advisory-groups", governance.LinkAdvisoryGroup{Name: "Student council", Kind: governance.AdvisoryStudents, Contacts: []uuid.UUID{w.Person["contact"]}}},
		"POST /v1/communities/{id}/chair-rewards":           {"/v1/communities/" + s(w.CommunityX) + "/chair-rewards", governance.RecordChairReward{Year: apitest.Year, ChairID: w.Person[apitest.ChairA], HoursPerWeek: 2}},
		"GET /v1/communities/{id}/elections":                {"/v1/communities/" + s(w.CommunityX) + "/elections", nil},
		"POST /v1/communities/{id}/elections":               {"/v1/communities/" + s(w.CommunityX) + "/elections", governance.OpenElection{Year: apitest.Year}},
		"POST /v1/communities/{id}/confidence-votes":        {"/v1/communities/" + s(w.CommunityX) + "/confidence-votes", governance.CallConfidenceVote{Year: apitest.Year}},
		"GET /v1/elections/{id}":                            {"/v1/elections/" + s(w.Election), nil},
		"POST /v1/elections/{id}/nominations":               {"/v1/elections/" + s(w.Election) + "/nominations", governance.Nominate{NomineeID: w.Person[apitest.ChairA]}},
		"POST /v1/elections/{id}/nomination/accept":         {"/v1/elections/" + s(w.Election) + "/nomination/accept", nil},
		"POST /v1/elections/{id}/nomination/decline":        {"/v1/elections/" + s(w.Election) + "/nomination/decline", nil},
		"POST /v1/elections/{id}/voting":                    {"/v1/elections/" + s(w.Election) + "/voting", nil},
		"POST /v1/elections/{id}/votes":                     {"/v1/elections/" + s(w.Election) + "/votes", governance.CastVote{CandidateID: w.Person[apitest.StaffA]}},
		"POST /v1/elections/{id}/close":                     {"/v1/elections/" + s(w.Election) + "/close", nil},
		"GET /v1/confidence-votes/{id}":                     {"/v1/confidence-votes/" + s(w.ConfidenceVote), nil},
		"POST /v1/confidence-votes/{id}/votes":              {"/v1/confidence-votes/" + s(w.ConfidenceVote) + "/votes", governance.CastConfidenceVote{Choice: governance.ChoiceConfidence}},
		"POST /v1/confidence-votes/{id}/close":              {"/v1/confidence-votes/" + s(w.ConfidenceVote) + "/close", nil},
		"GET /v1/proposals":                                 {"/v1/proposals?school=" + A, nil},
		"POST /v1/proposals":                                {"/v1/proposals", governance.DraftProposal{CommunityID: w.CommunityX, Year: apitest.Year, ProposalText: text}},
		"GET /v1/proposals/{id}":                            {"/v1/proposals/" + s(w.Proposal), nil},
		"POST /v1/proposals/{id}/versions":                  {"/v1/proposals/" + s(w.Proposal) + "/versions", governance.ReviseProposal{ProposalText: text}},
		"POST /v1/proposals/{id}/submit":                    {"/v1/proposals/" + s(w.Proposal) + "/submit", nil},
		"POST /v1/proposals/{id}/advice":                    {"/v1/proposals/" + s(w.Proposal) + "/advice", governance.GiveAdvice{GroupID: w.Group, Stance: governance.StanceSupport, Text: "We like it."}},
		"POST /v1/proposals/{id}/team-votes":                {"/v1/proposals/" + s(w.Proposal) + "/team-votes", map[string]any{"vote": "send_back", "reason": "Say what it costs.", "aligned": yes, "alignment_note": "In line."}},
		"POST /v1/proposals/{id}/sign-off":                  {"/v1/proposals/" + s(w.Proposal) + "/sign-off", governance.ResolveProposal{Reason: "The Team sent it back."}},
		"POST /v1/proposals/{id}/refer-back":                {"/v1/proposals/" + s(w.Proposal) + "/refer-back", governance.ResolveProposal{Reason: "Consider the costs again."}},
		"POST /v1/schools/{id}/team-quorum":                 {"/v1/schools/" + A + "/team-quorum", governance.SetTeamQuorum{Quorum: governance.Quorum{Rule: governance.QuorumMajority}}},
		"POST /v1/schools/{id}/tie-break":                   {"/v1/schools/" + A + "/tie-break", governance.SetTieBreak{RunOffs: new(1)}},
		"POST /v1/elections/{id}/casting-vote":              {"/v1/elections/" + s(w.Election) + "/casting-vote", governance.CastCastingVote{CandidateID: w.Person[apitest.StaffA]}},
		"GET /v1/challenges":                                {"/v1/challenges?school=" + A, nil},
		"POST /v1/challenges":                               {"/v1/challenges", governance.RaiseChallenge{Subject: governance.ChallengeSubject{Kind: "school", ID: w.SchoolA}, Text: "Why so few loans?", DueOn: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}},
		"GET /v1/challenges/{id}":                           {"/v1/challenges/" + s(w.Challenge), nil},
		"POST /v1/challenges/{id}/answer":                   {"/v1/challenges/" + s(w.Challenge) + "/answer", governance.AnswerChallenge{Answer: "We are buying a second minibus."}},
		"POST /v1/corrections":                              {"/v1/corrections", map[string]any{"stream": governance.ProposalStream(w.Proposal), "event_id": uuid.NewString(), "reason": "typo"}},
		"GET /v1/replay/{kind}/{id}":                        {"/v1/replay/proposal/" + s(w.Proposal), nil},
		"GET /v1/events":                                    {"/v1/events?school=" + A, nil},
		"GET /v1/events/stream":                             {"/v1/events/stream", nil},
		"GET /v1/partnerships":                              {"/v1/partnerships", nil},
		"POST /v1/partnerships":                             {"/v1/partnerships", partnership.FormPartnership{Name: "New partnership", Kind: partnership.KindNetwork}},
		"GET /v1/partnerships/{id}":                         {"/v1/partnerships/" + P1, nil},
		"GET /v1/partnerships/{id}/membership":              {"/v1/partnerships/" + P1 + "/membership", nil},
		"POST /v1/partnerships/{id}/schools":                {"/v1/partnerships/" + P1 + "/schools", partnership.JoinPartnership{SchoolID: w.SchoolC}},
		"POST /v1/partnerships/{id}/schools/{school}/leave": {"/v1/partnerships/" + P1 + "/schools/" + s(w.SchoolB) + "/leave", partnership.LeavePartnership{}},
		"POST /v1/partnerships/{id}/lead":                   {"/v1/partnerships/" + P1 + "/lead", partnership.AppointPartnershipLead{LeadID: w.Person[apitest.DirB]}},
		"POST /v1/partnerships/{id}/auditors":               {"/v1/partnerships/" + P1 + "/auditors", partnership.AppointAuditor{AuditorID: w.Person[apitest.Auditor]}},
		"POST /v1/partnerships/{id}/auditors/{person}/end":  {"/v1/partnerships/" + P1 + "/auditors/" + s(w.Person[apitest.Auditor]) + "/end", nil},
		"POST /v1/partnerships/{id}/priorities":             {"/v1/partnerships/" + P1 + "/priorities", partnership.AgreePriority{Title: "Maths", AcademicYear: apitest.Year}},
		"POST /v1/partnerships/{id}/costs":                  {"/v1/partnerships/" + P1 + "/costs", partnership.RecordTransactionCost{SchoolID: w.SchoolA, Category: partnership.CostCategory("meetings"), Hours: 2}},
		"POST /v1/partnerships/{id}/recognitions":           {"/v1/partnerships/" + P1 + "/recognitions", partnership.RecogniseContribution{RecipientKind: partnership.RecipientKind("school"), RecipientID: w.SchoolA, Citation: "Lent the minibus."}},
		"POST /v1/partnerships/{id}/progress":               {"/v1/partnerships/" + P1 + "/progress", partnership.RateProgress{SchoolID: w.SchoolA, Area: "Reading", Cohort: "Year 7", Term: apitest.Year + " Autumn 1", Rating: partnership.RAG("green")}},
		"GET /v1/resources":                                 {"/v1/resources?partnership=" + P1, nil},
		"POST /v1/resources":                                {"/v1/resources", partnership.RegisterResource{PartnershipID: w.P1, OwnerSchoolID: w.SchoolA, Kind: partnership.ScienceLab, Name: "Lab", Capacity: 30}},
		"GET /v1/resources/utilisation":                     {"/v1/resources/utilisation?partnership=" + P1, nil},
		"GET /v1/resources/{id}":                            {"/v1/resources/" + s(w.Resource), nil},
		"POST /v1/resources/{id}/offer":                     {"/v1/resources/" + s(w.Resource) + "/offer", nil},
		"POST /v1/resources/{id}/withdraw":                  {"/v1/resources/" + s(w.Resource) + "/withdraw", nil},
		"POST /v1/resources/{id}/loans":                     {"/v1/resources/" + s(w.Resource) + "/loans", partnership.RequestLoan{BorrowerSchoolID: w.SchoolB, Start: when, End: when.Add(time.Hour), Purpose: "Trip"}},
		"GET /v1/loans":                                     {"/v1/loans?partnership=" + P1, nil},
		"GET /v1/loans/{id}":                                {"/v1/loans/" + s(w.Loan), nil},
		"POST /v1/loans/{id}/approve":                       {"/v1/loans/" + s(w.Loan) + "/approve", nil},
		"POST /v1/loans/{id}/decline":                       {"/v1/loans/" + s(w.Loan) + "/decline", nil},
		"POST /v1/loans/{id}/cancel":                        {"/v1/loans/" + s(w.Loan) + "/cancel", nil},
		"POST /v1/loans/{id}/collect":                       {"/v1/loans/" + s(w.Loan) + "/collect", nil},
		"POST /v1/loans/{id}/return":                        {"/v1/loans/" + s(w.Loan) + "/return", partnership.ReturnLoan{Condition: partnership.Condition("good")}},
		"GET /v1/secondments":                               {"/v1/secondments?partnership=" + P1, nil},
		"POST /v1/secondments":                              {"/v1/secondments", partnership.ArrangeSecondment{PartnershipID: w.P1, TeacherID: w.Person[apitest.StaffA], LendingSchoolID: w.SchoolA, ReceivingSchoolID: w.SchoolB, Subject: "Art", Start: when, End: when.AddDate(0, 1, 0), Fraction: 0.2}},
		"GET /v1/secondments/fte":                           {"/v1/secondments/fte?partnership=" + P1 + "&year=" + apitest.Year, nil},
		"GET /v1/secondments/{id}":                          {"/v1/secondments/" + s(w.Secondment), nil},
		"POST /v1/secondments/{id}/cancel":                  {"/v1/secondments/" + s(w.Secondment) + "/cancel", nil},
		"POST /v1/secondments/{id}/end":                     {"/v1/secondments/" + s(w.Secondment) + "/end", partnership.EndSecondmentEarly{EndOn: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}},
		"GET /v1/cpd":                                       {"/v1/cpd?partnership=" + P1, nil},
		"POST /v1/cpd":                                      {"/v1/cpd", partnership.OrganiseCPD{PartnershipID: w.P1, OrganiserSchoolID: w.SchoolA, Kind: partnership.CPDSession, Title: "Phonics", StartsAt: when, EndsAt: when.Add(2 * time.Hour), Places: 10}},
		"GET /v1/cpd/{id}":                                  {"/v1/cpd/" + s(w.CPD), nil},
		"POST /v1/cpd/{id}/bookings":                        {"/v1/cpd/" + s(w.CPD) + "/bookings", partnership.BookCPDPlaces{SchoolID: w.SchoolB, Places: 1}},
		"POST /v1/cpd/{id}/bookings/{booking}/cancel":       {"/v1/cpd/" + s(w.CPD) + "/bookings/" + s(w.Booking) + "/cancel", nil},
		"POST /v1/cpd/{id}/bookings/{booking}/attendance":   {"/v1/cpd/" + s(w.CPD) + "/bookings/" + s(w.Booking) + "/attendance", partnership.RecordCPDAttendance{Attended: 2}},
		"GET /v1/reviews":                                   {"/v1/reviews?partnership=" + P1, nil},
		"POST /v1/reviews":                                  {"/v1/reviews", partnership.SchedulePeerReview{PartnershipID: w.P1, ReviewedSchoolID: w.SchoolB, ReviewerIDs: []uuid.UUID{w.Person[apitest.StaffA]}, FocusAreas: []string{"Maths"}, On: when}},
		"GET /v1/reviews/follow-ups":                        {"/v1/reviews/follow-ups?partnership=" + P1, nil},
		"GET /v1/reviews/{id}":                              {"/v1/reviews/" + s(w.Review), nil},
		"POST /v1/reviews/{id}/findings":                    {"/v1/reviews/" + s(w.Review) + "/findings", partnership.RecordReviewFinding{Area: "Reading", Rating: partnership.RAG("amber"), Finding: "Reading lessons vary.", Recommendations: []string{"Share practice"}}},
		"POST /v1/reviews/{id}/complete":                    {"/v1/reviews/" + s(w.Review) + "/complete", partnership.CompletePeerReview{Summary: "A good visit."}},
		"POST /v1/reviews/{id}/actions":                     {"/v1/reviews/" + s(w.Review) + "/actions", partnership.AgreeFollowUpAction{Action: "Share practice", OwnerID: w.Person[apitest.StaffA], DueOn: when}},
		"POST /v1/reviews/{id}/actions/{action}/complete":   {"/v1/reviews/" + s(w.Review) + "/actions/" + uuid.NewString() + "/complete", partnership.CompleteFollowUpAction{Note: "Done."}},
		"GET /v1/progress":                                  {"/v1/progress?partnership=" + P1, nil},
		"GET /v1/commitments":                               {"/v1/commitments?partnership=" + P1, nil},
		"POST /v1/commitments":                              {"/v1/commitments", partnership.MakeCommitment{PartnershipID: w.P1, PriorityID: w.Priority, PartyKind: partnership.PartySchool, PartyID: w.SchoolA, OwnerID: w.Person[apitest.StaffA], DueOn: when, SuccessMeasure: "More reading."}},
		"GET /v1/commitments/{id}":                          {"/v1/commitments/" + s(w.Commitment), nil},
		"POST /v1/commitments/{id}/progress":                {"/v1/commitments/" + s(w.Commitment) + "/progress", partnership.UpdateCommitmentProgress{Note: "Half way."}},
		"POST /v1/commitments/{id}/achieved":                {"/v1/commitments/" + s(w.Commitment) + "/achieved", partnership.CloseCommitment{Evidence: "Reading logs."}},
		"POST /v1/commitments/{id}/missed":                  {"/v1/commitments/" + s(w.Commitment) + "/missed", partnership.CloseCommitment{Evidence: "Not yet."}},
		"GET /v1/celebrations":                              {"/v1/celebrations?partnership=" + P1, nil},
		"GET /v1/timeline":                                  {"/v1/timeline?partnership=" + P1, nil},
		"POST /v1/timelines":                                {"/v1/timelines", partnership.CreateTimeline{PartnershipID: w.P1, SchoolID: w.SchoolA, AcademicYear: "2026-27", Title: "Next year"}},
		"POST /v1/timelines/{id}/items":                     {"/v1/timelines/" + s(w.Timeline) + "/items", partnership.AddTimelineItem{Kind: partnership.ItemVisit, Title: "Visit", On: when}},
		"POST /v1/timelines/{id}/items/{item}/reschedule":   {"/v1/timelines/" + s(w.Timeline) + "/items/" + s(w.TimelineItem) + "/reschedule", partnership.RescheduleTimelineItem{On: when}},
		"POST /v1/timelines/{id}/items/{item}/done":         {"/v1/timelines/" + s(w.Timeline) + "/items/" + s(w.TimelineItem) + "/done", partnership.MarkTimelineItemDone{Note: "Done."}},
		"GET /v1/costs":                                     {"/v1/costs?partnership=" + P1, nil},
		"GET /v1/reports/partnership":                       {"/v1/reports/partnership?partnership=" + P1 + "&year=" + apitest.Year, nil},
	}
}

// policyTable reads docs/api.md's hand-written table: route → the mark of
// each principal, in apitest.Principals' order.
func policyTable(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, "<!-- policy-table:start -->"), strings.Index(doc, "<!-- policy-table:end -->")
	if i < 0 || j < i {
		t.Fatal("docs/api.md has no policy table")
	}
	rows := strings.Split(strings.TrimSpace(doc[i:j]), "\n")[1:]
	header := cells(rows[0])
	if strings.Join(header[1:], ",") != strings.Join(apitest.Principals, ",") {
		t.Fatalf("the table's columns are %v, want %v", header[1:], apitest.Principals)
	}
	out := map[string][]string{}
	for _, row := range rows[2:] {
		c := cells(row)
		if len(c) != len(apitest.Principals)+1 {
			t.Fatalf("row %q has %d cells", row, len(c))
		}
		if _, dup := out[c[0]]; dup {
			t.Fatalf("route %s is in the table twice", c[0])
		}
		out[c[0]] = c[1:]
	}
	return out
}

func cells(row string) []string {
	parts := strings.Split(strings.Trim(strings.TrimSpace(row), "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// TestPolicyTable walks every route with every principal and checks the
// answer against docs/api.md's hand-written table: ✓ is let through (not
// 401 or 403, never 5xx), ✗ is 403, 401 needs a token; a refusal writes
// nothing; and no answer shows school A's private records to a caller
// outside A's readers, nor StaffA's e-mail to anyone but StaffA and A's
// Director.
func TestPolicyTable(t *testing.T) {
	table := policyTable(t)
	probe := apitest.New(t)
	reqs := walkRequests(probe)
	var routes []string
	served := map[string]bool{}
	for _, rt := range Routes() {
		key := rt.Method + " " + rt.Pattern
		served[key] = true
		routes = append(routes, key)
		if _, ok := table[key]; !ok {
			t.Errorf("route %s is not in docs/api.md's policy table", key)
		}
		if _, ok := reqs[key]; !ok {
			t.Errorf("route %s has no request in walkRequests", key)
		}
	}
	for key := range table {
		if !served[key] {
			t.Errorf("docs/api.md's policy table lists %s, which is not served", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	sort.Strings(routes)
	// readersOfA may see A's own records; only these see StaffA's e-mail.
	readersOfA := map[string]bool{apitest.DirA: true, apitest.StaffA: true, apitest.ChairA: true, apitest.GovA: true, apitest.Auditor: true}
	seesEmail := map[string]bool{apitest.DirA: true, apitest.StaffA: true}
	for _, key := range routes {
		method := strings.SplitN(key, " ", 2)[0]
		write := method != http.MethodGet
		var shared *apitest.World
		for i, who := range apitest.Principals {
			mark := table[key][i]
			if mark == "~" {
				continue
			}
			w := shared
			if w == nil || (write && mark == "✓") {
				// A command let through may change who may do what: it
				// gets a world of its own.
				w = apitest.New(t)
				if !(write && mark == "✓") {
					shared = w
				}
			}
			rq := walkRequests(w)[key]
			srv, tokens := worldServer(t, w)
			before, err := w.L.Store.Head(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			if rq.body != nil {
				if body, err = json.Marshal(rq.body); err != nil {
					t.Fatal(err)
				}
			}
			req := httptest.NewRequest(method, rq.path, bytes.NewReader(body))
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if who != apitest.None {
				req.Header.Set("Authorization", "Bearer "+tokens[who])
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			got := rec.Code
			where := key + " as " + who
			switch mark {
			case "✓":
				if got == http.StatusUnauthorized || got == http.StatusForbidden || got >= 500 {
					t.Errorf("%s: status %d, want it let through (table: ✓): %s", where, got, clip(rec.Body.String()))
				}
			case "✗":
				if got != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403 (table: ✗): %s", where, got, clip(rec.Body.String()))
				}
			case "401":
				if got != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401 (table: 401): %s", where, got, clip(rec.Body.String()))
				}
			default:
				t.Fatalf("%s: the table's mark %q is not ✓, ✗, 401 or ~", where, mark)
			}
			if mark != "✓" {
				after, err := w.L.Store.Head(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if after != before {
					t.Errorf("%s: refused, but the ledger moved from %d to %d", where, before, after)
				}
			}
			out := rec.Body.String()
			if !readersOfA[who] && strings.Contains(out, apitest.ProposalTitleA) {
				t.Errorf("%s: the answer shows school A's proposal to someone outside A", where)
			}
			if !seesEmail[who] && strings.Contains(out, apitest.EmailStaffA) {
				t.Errorf("%s: the answer shows StaffA's e-mail", where)
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
