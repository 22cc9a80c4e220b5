package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/api/web"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// clock is a settable clock shared by the store, the handler and the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t.UTC() }

const year = "2025-26"

// fixture is a small ledger recorded through the domain services, served
// by the real API server with the pages mounted.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	clock *clock
	l     *ledger.Ledger
	srv   *httptest.Server

	pant, cwm                    uuid.UUID
	director, ana, ben, cai, gov uuid.UUID
	cwmHead                      uuid.UUID
	research, culture, finance   uuid.UUID // ISLCs of Pant
	chairElection                uuid.UUID // closed: Ana elected chair of research
	nominating, voting           uuid.UUID // culture (nominating), finance (voting)
	submitted, draft             uuid.UUID // research proposals
	corrected                    uuid.UUID // approved, then its draft corrected
	pid, minibus                 uuid.UUID
	requestedLoan, overdueLoan   uuid.UUID
	auditor                      uuid.UUID
	// tokens is the token store; secret maps the tests' token names
	// ("director-token") to the secrets it issued.
	tokens *api.Tokens
	secret map[string]string
}

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

func as(p uuid.UUID, role string) domain.Meta {
	return domain.Meta{ActorID: p.String(), ActorRole: role}
}

var adminMeta = domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}

func (f *fixture) must(_ domain.Result, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("command failed: %v", err)
	}
}

// newFixture records the fixture's year and starts the server with the
// clock at 1 November 2025.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clock: &clock{}}
	f.clock.Set(at(2025, 8, 20, 9))
	// Checkpoints are signed only when the fixture asks, so that no
	// CheckpointSigned event lands in the middle of a "nothing was
	// recorded" check.
	l, err := ledger.Open(f.ctx, ledger.Config{Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Transparency: transparency.Options{CheckpointInterval: 24 * time.Hour, CheckpointEvery: 1 << 40}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	l.Handler.Now = f.clock.Now
	f.l = l
	f.record()
	if err := l.CatchUp(f.ctx); err != nil {
		t.Fatal(err)
	}
	if l.Log != nil {
		head, _ := l.Store.Head(f.ctx)
		if err := l.Log.WaitFor(f.ctx, head); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Log.SignCheckpoint(f.ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.CatchUp(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := api.OpenTokens("", api.TokensOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Close() })
	f.tokens, f.secret = ts, map[string]string{}
	for name, spec := range map[string]api.TokenSpec{
		"admin-token":    {Kind: app.KindAdmin},
		"director-token": {PersonID: f.director},
		"chair-token":    {PersonID: f.ana},
		"ben-token":      {PersonID: f.ben},
		"cai-token":      {PersonID: f.cai},
		"head-token":     {PersonID: f.cwmHead},
		"governor-token": {PersonID: f.gov},
		"auditor-token":  {PersonID: f.auditor},
		"lead-token":     {PersonID: f.director},
	} {
		if spec.Kind == "" {
			spec.Kind = app.KindPerson
		}
		secret, _, err := ts.Create(f.ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		f.secret[name] = secret
	}
	auth := ts
	var srv *api.Server
	srv = api.New(l, api.Options{Auth: auth, Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mount: func(r chi.Router) { web.MountFunc(r, func() *api.Server { return srv }) }})
	f.srv = httptest.NewServer(srv)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) record() {
	ctx, gov, part := f.ctx, f.l.Governance, f.l.Partnership
	id := uuid.New
	f.pant, f.cwm = id(), id()
	f.must(gov.RegisterSchool(ctx, adminMeta, governance.RegisterSchool{SchoolID: f.pant, Name: "Ysgol y Pant", Mission: "Everyone learns.", Vision: "Learning together.", Values: "Care."}))
	f.must(gov.RegisterSchool(ctx, adminMeta, governance.RegisterSchool{SchoolID: f.cwm, Name: "Cwm Primary"}))
	f.must(gov.OpenAcademicYear(ctx, adminMeta, governance.OpenAcademicYear{SchoolID: f.pant, Year: year}))
	f.must(gov.OpenAcademicYear(ctx, adminMeta, governance.OpenAcademicYear{SchoolID: f.cwm, Year: year}))
	f.director, f.ana, f.ben, f.cai, f.gov, f.cwmHead = id(), id(), id(), id(), id(), id()
	for _, s := range []struct {
		id     uuid.UUID
		school uuid.UUID
		name   string
	}{{f.director, f.pant, "Gwen Price"}, {f.ana, f.pant, "Ana Evans"}, {f.ben, f.pant, "Ben Morgan"}, {f.cai, f.pant, "Cai Jones"}, {f.cwmHead, f.cwm, "Sian Davies"}} {
		f.must(gov.RegisterStaff(ctx, adminMeta, governance.RegisterStaff{PersonID: s.id, SchoolID: s.school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: s.name}}))
	}
	f.must(gov.AppointDirector(ctx, adminMeta, governance.AppointDirector{SchoolID: f.pant, DirectorID: f.director}))
	f.must(gov.RegisterGovernor(ctx, adminMeta, governance.RegisterGovernor{PersonID: f.gov, SchoolID: f.pant, PersonDetails: governance.PersonDetails{Name: "Huw Governor"}}))
	islc := func(name string) uuid.UUID {
		seg := governance.DefaultSegmentID(f.pant, name)
		f.must(gov.EstablishCommunity(ctx, adminMeta, governance.EstablishCommunity{SchoolID: f.pant, SegmentID: seg}))
		return governance.CommunityID(f.pant, seg)
	}
	f.research = islc("Research, Innovation & Professional Development")
	f.culture = islc("Culture & Climate")
	f.finance = islc("Finance & Enterprise")
	f.must(gov.LinkGovernor(ctx, adminMeta, governance.LinkGovernor{CommunityID: f.research, GovernorID: f.gov}))

	f.clock.Set(at(2025, 9, 1, 9))
	for _, c := range []uuid.UUID{f.research, f.culture, f.finance} {
		for _, p := range []uuid.UUID{f.ana, f.ben, f.cai, f.director} {
			f.must(gov.JoinCommunity(ctx, as(p, domain.RoleStaff), governance.JoinCommunity{CommunityID: c, PersonID: p, Year: year, Basis: []string{governance.BasisInterest}}))
		}
	}
	// Research elects Ana.
	f.clock.Set(at(2025, 9, 8, 9))
	f.chairElection = id()
	f.must(gov.OpenElection(ctx, adminMeta, governance.OpenElection{CommunityID: f.research, ElectionID: f.chairElection, Year: year}))
	f.must(gov.Nominate(ctx, as(f.ana, domain.RoleStaff), governance.Nominate{CommunityID: f.research, ElectionID: f.chairElection, NomineeID: f.ana}))
	f.must(gov.AcceptNomination(ctx, as(f.ana, domain.RoleStaff), governance.AnswerNomination{CommunityID: f.research, ElectionID: f.chairElection}))
	f.must(gov.OpenVoting(ctx, adminMeta, governance.OpenVoting{CommunityID: f.research, ElectionID: f.chairElection}))
	for _, v := range []uuid.UUID{f.ana, f.ben, f.cai} {
		f.must(gov.CastVote(ctx, as(v, domain.RoleStaff), governance.CastVote{CommunityID: f.research, ElectionID: f.chairElection, CandidateID: f.ana}))
	}
	f.must(gov.CloseElection(ctx, adminMeta, governance.CloseElection{CommunityID: f.research, ElectionID: f.chairElection}))
	// Culture is nominating; finance is voting between Ana and Ben.
	f.nominating, f.voting = id(), id()
	f.must(gov.OpenElection(ctx, adminMeta, governance.OpenElection{CommunityID: f.culture, ElectionID: f.nominating, Year: year}))
	f.must(gov.OpenElection(ctx, adminMeta, governance.OpenElection{CommunityID: f.finance, ElectionID: f.voting, Year: year}))
	for _, c := range []uuid.UUID{f.ana, f.ben} {
		f.must(gov.Nominate(ctx, as(c, domain.RoleStaff), governance.Nominate{CommunityID: f.finance, ElectionID: f.voting, NomineeID: c}))
		f.must(gov.AcceptNomination(ctx, as(c, domain.RoleStaff), governance.AnswerNomination{CommunityID: f.finance, ElectionID: f.voting}))
	}
	f.must(gov.OpenVoting(ctx, adminMeta, governance.OpenVoting{CommunityID: f.finance, ElectionID: f.voting}))

	// Proposals of the research ISLC: one submitted, one still a draft.
	f.clock.Set(at(2025, 9, 22, 9))
	f.submitted, f.draft = id(), id()
	f.must(gov.DraftProposal(ctx, as(f.ben, domain.RoleStaff), governance.DraftProposal{ProposalID: f.submitted, CommunityID: f.research, Year: year,
		ProposalText: governance.ProposalText{Title: "Research fortnights", Body: "Two research fortnights a year for every teacher.", ExpectedImpact: "Teaching informed by evidence."}}))
	f.must(gov.ReviseProposal(ctx, as(f.ben, domain.RoleStaff), governance.ReviseProposal{ProposalID: f.submitted,
		ProposalText: governance.ProposalText{Title: "Research weeks", Body: "Two research weeks a year for every teacher.", ExpectedImpact: "Teaching informed by evidence."}}))
	f.must(gov.SubmitProposal(ctx, as(f.ana, domain.RoleChair), governance.SubmitProposal{ProposalID: f.submitted}))
	f.must(gov.DraftProposal(ctx, as(f.cai, domain.RoleStaff), governance.DraftProposal{ProposalID: f.draft, CommunityID: f.research, Year: year,
		ProposalText: governance.ProposalText{Title: "Journal club", Body: "A monthly journal club.", ExpectedImpact: "Shared reading."}}))

	// A proposal approved, whose draft is corrected after the decision.
	f.corrected = id()
	res, err := gov.DraftProposal(ctx, as(f.cai, domain.RoleStaff), governance.DraftProposal{ProposalID: f.corrected, CommunityID: f.research, Year: year,
		ProposalText: governance.ProposalText{Title: "Reading corners", Body: "A reading corner in every room.", ExpectedImpact: "More reading."}})
	f.must(res, err)
	f.must(gov.SubmitProposal(ctx, as(f.ana, domain.RoleChair), governance.SubmitProposal{ProposalID: f.corrected}))
	for _, p := range []uuid.UUID{f.ana, f.director} {
		f.must(gov.CastTeamVote(ctx, as(p, domain.RoleStaff), governance.CastTeamVote{ProposalID: f.corrected, Vote: governance.VoteApprove, Reason: "Cheap and popular.", Aligned: new(true), AlignmentNote: "Learners lead."}))
	}
	f.must(gov.SignOffResolution(ctx, as(f.director, domain.RoleDirector), governance.ResolveProposal{ProposalID: f.corrected, Reason: "The Team approved it."}))
	fixed := res.Events[0].Event.(governance.ProposalDrafted)
	fixed.Title = "Reading nooks"
	f.must(gov.CorrectEvent(ctx, adminMeta, governance.ProposalStream(f.corrected), domain.Correction{EventID: res.Events[0].ID, Replacement: fixed, Reason: "The title was mistyped"}))

	// The partnership, a minibus, a loan left overdue and one waiting.
	f.pid, f.minibus = id(), id()
	lead := as(f.director, domain.RolePartnershipLead)
	f.must(part.FormPartnership(ctx, lead, partnership.FormPartnership{PartnershipID: f.pid, Name: "Valleys Learning Partnership", Kind: partnership.KindCluster}))
	for _, s := range []uuid.UUID{f.pant, f.cwm} {
		f.must(part.JoinPartnership(ctx, lead, partnership.JoinPartnership{PartnershipID: f.pid, SchoolID: s}))
	}
	f.must(part.AppointPartnershipLead(ctx, adminMeta, partnership.AppointPartnershipLead{PartnershipID: f.pid, LeadID: f.director}))
	f.auditor = id()
	f.must(gov.RegisterAuditor(ctx, adminMeta, governance.RegisterAuditor{PersonID: f.auditor, PersonDetails: governance.PersonDetails{Name: "Ida Auditor"}}))
	f.must(part.AppointAuditor(ctx, lead, partnership.AppointAuditor{PartnershipID: f.pid, AuditorID: f.auditor}))
	f.must(part.RegisterResource(ctx, as(f.director, domain.RoleStaff), partnership.RegisterResource{ResourceID: f.minibus, PartnershipID: f.pid, OwnerSchoolID: f.pant,
		Kind: partnership.Minibus, Name: "Minibus (17 seats)", Capacity: 17, HourlyValuePence: 2500, Offer: true}))
	f.overdueLoan, f.requestedLoan = id(), id()
	f.must(part.RequestLoan(ctx, as(f.cwmHead, domain.RoleStaff), partnership.RequestLoan{ResourceID: f.minibus, LoanID: f.overdueLoan, BorrowerSchoolID: f.cwm,
		Start: at(2025, 10, 6, 8), End: at(2025, 10, 6, 16), Purpose: "Year 6 trip to the Big Pit"}))
	f.must(part.ApproveLoan(ctx, as(f.director, domain.RoleStaff), partnership.ApproveLoan{ResourceID: f.minibus, LoanID: f.overdueLoan}))
	f.must(part.RequestLoan(ctx, as(f.cwmHead, domain.RoleStaff), partnership.RequestLoan{ResourceID: f.minibus, LoanID: f.requestedLoan, BorrowerSchoolID: f.cwm,
		Start: at(2025, 12, 1, 8), End: at(2025, 12, 1, 16), Purpose: "Carol concert"}))
	f.clock.Set(at(2025, 10, 6, 8))
	f.must(part.CollectLoan(ctx, as(f.cwmHead, domain.RoleStaff), partnership.CollectLoan{ResourceID: f.minibus, LoanID: f.overdueLoan}))
	rate := func(term string, r partnership.RAG) {
		f.must(part.RateProgress(ctx, as(f.director, domain.RoleStaff), partnership.RateProgress{RatingID: id(), PartnershipID: f.pid, SchoolID: f.pant,
			Area: "Numeracy", Cohort: "Year 7", Term: term, Rating: r, Evidence: "Assessment data"}))
	}
	rate("2025-26 Autumn 1", "red")
	f.clock.Set(at(2025, 11, 10, 9))
	rate("2025-26 Autumn 2", "amber")
}

// browser is an HTTP client with a cookie jar that signs in and follows
// the pages like a browser without JavaScript.
type browser struct {
	t    testing.TB
	f    *fixture
	c    *http.Client
	csrf string
}

func (f *fixture) signIn(token string) *browser {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: f.t, f: f, c: &http.Client{Jar: jar}}
	b.get("/signin")
	if secret, ok := f.secret[token]; ok {
		token = secret
	}
	res, body := b.post("/signin", url.Values{"token": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Sign out") {
		f.t.Fatalf("sign in with %s: %d\n%s", token, res.StatusCode, body)
	}
	return b
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Get(b.f.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.read(res)
}

func (b *browser) read(res *http.Response) (*http.Response, string) {
	b.t.Helper()
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		b.t.Fatal(err)
	}
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return res, string(body)
}

// post submits a form (with the session's CSRF token unless the form sets
// its own) and follows the redirect.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form.Get("csrf") == "" && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	res, err := b.c.PostForm(b.f.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.read(res)
}

func (f *fixture) head() uint64 {
	f.t.Helper()
	h, err := f.l.Store.Head(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// tokens is a fixed Authenticator: token → actor (the benchmark and the
// crawl sign in with made-up tokens).
type tokens map[string]app.Actor

func (t tokens) Authenticate(_ context.Context, tok string) (app.Actor, error) {
	a, ok := t[tok]
	if !ok {
		return app.Actor{}, errors.New("unknown token")
	}
	return a, nil
}
