// Package web serves Concord's pages for governors, Directors, staff and
// partnership leads: server-rendered HTML over the same views and domain
// services as the API, mounted at / beside the API's /v1. A person signs in
// with an API token, which is exchanged for a session cookie; every form
// carries the session's CSRF token; the principal is put on the request
// context with api.WithPrincipal, so the role checks are the API's.
//
// Every page takes as_of (a date or a ledger position) and reading
// (known / corrected) and says plainly when it shows the past. Governors
// and auditors see no forms, and their POSTs are refused. A form runs its
// command through the API's own route (see apiCommand), so its role and
// scope checks and the domain's rules are the only ones.
//
// Pages: / (partnership overview), /schools/{id}, /communities/{id},
// /proposals/{id} (versions with word diffs, advice, decisions,
// corrections), /proposals/{id}/replay, /elections/{id}/replay and
// /loans/{id}/replay (step-through), /resources, /progress (RAG heatmap as
// a coloured table), /accountability, /audit, /report (+ /report/download),
// /verify and /verify/proof/{position}; /live relays the live feed.
//
// Tests: the package's tests drive the pages over HTTP, and
// TestInABrowser, TestKeyboardOnly and TestAccessibilityInABrowser drive
// them in headless Chromium (chromedp); the last runs axe-core on every
// kind of page (CONCORD_AXE names its axe.min.js, by default where .ci/run
// installs it). They are skipped when no chromium (apt-get install -y
// chromium) or axe-core is installed unless CONCORD_REQUIRE_BROWSER=1, as
// .ci/run sets; CONCORD_SCREENSHOTS=DIR saves a screenshot of every page
// they open there. BenchmarkPages measures each page
// over the demo generator (CONCORD_BENCH_SCHOOLS, _YEARS, _VOLUME).
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/projections/views"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*
var staticFS embed.FS

// CookieName is the session cookie's name.
const CookieName = "concord_session"

// SessionTTL is how long a session lasts without use.
const SessionTTL = 8 * time.Hour

// SessionMaxAge is how long a session lasts at most, however busy: then
// its holder signs in again.
const SessionMaxAge = 12 * time.Hour

// site is the pages of one server.
type site struct {
	s        *api.Server
	once     sync.Once
	pages    map[string]*template.Template
	mu       sync.Mutex
	sessions map[string]*session
}

// session is one signed-in browser. It keeps the id of the token it was
// opened with, not what the token allowed: every request checks that the
// token still authenticates (not revoked, not expired), and what the person
// may do is the application layer's to say from the ledger at that moment.
type session struct {
	id      string
	csrf    string
	tokenID string
	actor   app.Actor
	name    string
	expires time.Time
	// ends is the absolute end of the session.
	ends  time.Time
	flash string
}

// TokenChecker is what sessions need of the server's authenticator: that a
// token, by id, still authenticates. api.Tokens implements it.
type TokenChecker interface {
	Check(ctx context.Context, id string) (app.Actor, error)
}

// Mount adds the web pages of server s to r at / (the API stays under
// /v1). s must not be nil: inside api.Options.Mount, which runs before
// api.New returns the server, use MountFunc.
func Mount(r chi.Router, s *api.Server) {
	MountFunc(r, func() *api.Server { return s })
}

// MountFunc is Mount for a server that is only known once api.New returns
// (the usual case: api.Options.Mount runs inside New):
//
//	var srv *api.Server
//	srv = api.New(l, api.Options{Mount: func(r chi.Router) { web.MountFunc(r, func() *api.Server { return srv }) }})
func MountFunc(r chi.Router, server func() *api.Server) {
	pages, err := parsePages()
	if err != nil {
		// The templates are embedded and parsed by every test: a failure
		// here is a programming error, reported on every page.
		r.Get("/*", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the page templates do not parse: "+err.Error(), http.StatusInternalServerError)
		})
		return
	}
	st := &site{pages: pages, sessions: map[string]*session{}}
	static, _ := fs.Sub(staticFS, "static")
	r.Group(func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				st.once.Do(func() { st.s = server() })
				w.Header().Set("X-Frame-Options", "DENY")
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.Header().Set("Referrer-Policy", "same-origin")
				w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
				next.ServeHTTP(w, req)
			})
		})
		r.Use(limitForms)
		r.Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(static)))
		r.Get("/signin", st.signInPage)
		r.Post("/signin", st.signIn)
		r.Group(func(r chi.Router) {
			r.Use(st.authenticated)
			r.Post("/signout", st.signOut)
			r.Get("/live", st.live)
			r.Get("/", st.page(st.overview))
			r.Get("/schools/{id}", st.page(st.school))
			r.Get("/communities/{id}", st.page(st.community))
			r.Get("/proposals/{id}", st.page(st.proposal))
			r.Get("/proposals/{id}/replay", st.page(st.replay))
			r.Get("/elections/{id}/replay", st.page(st.replayElection))
			r.Get("/loans/{id}/replay", st.page(st.replayLoan))
			r.Get("/resources", st.page(st.resources))
			r.Get("/progress", st.page(st.progress))
			r.Get("/accountability", st.page(st.accountability))
			r.Get("/audit", st.page(st.audit))
			r.Get("/report", st.page(st.report))
			r.Get("/report/download", st.reportDownload)
			r.Get("/verify", st.page(st.verify))
			r.Get("/verify/proof/{position}", st.page(st.proof))
			r.Get("/verify/proof", func(w http.ResponseWriter, r *http.Request) {
				n, err := strconv.ParseUint(r.URL.Query().Get("position"), 10, 64)
				if err != nil || n == 0 {
					st.fail(w, r, badInput{"the position must be a whole number from 1"})
					return
				}
				http.Redirect(w, r, "/verify/proof/"+strconv.FormatUint(n, 10), http.StatusSeeOther)
			})

			r.Group(func(r chi.Router) {
				r.Post("/communities/{id}/elections/{eid}/nominate", st.form("/communities/{id}", st.community, st.nominate))
				r.Post("/communities/{id}/elections/{eid}/accept", st.form("/communities/{id}", st.community, st.accept))
				r.Post("/communities/{id}/elections/{eid}/vote", st.form("/communities/{id}", st.community, st.vote))
				r.Post("/communities/{id}/proposals", st.form("/communities/{id}", st.community, st.draftProposal))
				r.Post("/proposals/{id}/submit", st.form("/proposals/{id}", st.proposal, st.submitProposal))
				r.Post("/proposals/{id}/team-vote", st.form("/proposals/{id}", st.proposal, st.teamVote))
				r.Post("/proposals/{id}/resolve", st.form("/proposals/{id}", st.proposal, st.resolve))
				r.Post("/challenges", st.form("/accountability", st.accountability, st.raiseChallenge))
				r.Post("/challenges/{id}/answer", st.form("/accountability", st.accountability, st.answerChallenge))
				r.Post("/resources/loans", st.form("/resources", st.resources, st.requestLoan))
				r.Post("/resources/{rid}/loans/{lid}/approve", st.form("/resources", st.resources, st.approveLoan))
				r.Post("/resources/{rid}/loans/{lid}/decline", st.form("/resources", st.resources, st.declineLoan))
			})
		})
	})
}

// live relays the API's live feed (GET /v1/events/stream) to a signed-in
// browser: the session's principal is on the context, so the feed's own
// role and scope checks apply. Pages use it, through static/live.js, to
// say when the ledger has moved on since they were drawn.
func (st *site) live(w http.ResponseWriter, r *http.Request) {
	ctx := context.WithValue(r.Context(), chi.RouteCtxKey, (*chi.Context)(nil))
	in := r.Clone(ctx)
	in.URL.Path, in.RequestURI = "/v1/events/stream", ""
	q := url.Values{}
	if from := r.URL.Query().Get("from"); from != "" {
		q.Set("from", from)
	}
	in.URL.RawQuery = q.Encode()
	st.s.ServeHTTP(&unnamedEvents{ResponseWriter: w}, in)
}

// unnamedEvents drops the "event:" lines of a Server-Sent Events stream, so
// that the browser's onmessage sees every event whatever its type.
type unnamedEvents struct {
	http.ResponseWriter
	carry []byte
}

func (u *unnamedEvents) Write(b []byte) (int, error) {
	n := len(b)
	buf := append(u.carry, b...)
	var out []byte
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		if line := buf[:i+1]; !bytes.HasPrefix(line, []byte("event:")) {
			out = append(out, line...)
		}
		buf = buf[i+1:]
	}
	u.carry = append([]byte(nil), buf...)
	if _, err := u.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}

// Flush passes flushes through, so events reach the browser at once.
func (u *unnamedEvents) Flush() {
	if f, ok := u.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (u *unnamedEvents) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secure reports whether the request came over TLS (directly or through
// a proxy that says so), so that cookies get the Secure flag.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (st *site) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	sess := st.sessions[c.Value]
	if sess == nil {
		return nil
	}
	now := st.s.Now()
	if now.After(sess.expires) || now.After(sess.ends) {
		delete(st.sessions, c.Value)
		return nil
	}
	sess.expires = now.Add(SessionTTL)
	return sess
}

// stillValid checks the session's token: a revoked or expired token ends
// the session at once.
func (st *site) stillValid(ctx context.Context, sess *session) bool {
	tc, ok := st.s.Auth.(TokenChecker)
	if !ok {
		return true // an authenticator without token ids: tests' fixed tokens
	}
	a, err := tc.Check(ctx, sess.tokenID)
	if err != nil || a != sess.actor {
		st.mu.Lock()
		delete(st.sessions, sess.id)
		st.mu.Unlock()
		return false
	}
	return true
}

type ctxKey int

const keySession ctxKey = iota

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(keySession).(*session)
	return s
}

// authenticated sends a visitor without a session to the sign-in page and
// puts a signed-in person's principal on the context.
func (st *site) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := st.sessionOf(r)
		if sess != nil && !st.stillValid(r.Context(), sess) {
			sess = nil
		}
		if sess == nil {
			if r.Method != http.MethodGet {
				http.Error(w, "Sign in first: your session has ended.", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "The form could not be read.", http.StatusBadRequest)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.csrf)) != 1 {
				http.Error(w, "This form has expired or did not come from this site (CSRF check failed). Reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		ctx := api.WithActor(r.Context(), sess.actor)
		ctx = context.WithValue(ctx, keySession, sess)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// safeNext returns s if it is a path of this site to go back to after
// signing in, else "/": a same-origin path with no scheme, host,
// backslash, control character or space (a browser drops a tab or a
// newline and would read "/\t/evil.example" as "//evil.example").
func safeNext(s string) string {
	if s == "" || len(s) > 2000 || s[0] != '/' || strings.HasPrefix(s, "//") {
		return "/"
	}
	for _, c := range s {
		if c < 0x21 || c == 0x7f || c == '\\' || c > 0x7e {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return s
}

// signInCookie carries the sign-in form's CSRF token before there is a
// session (double submit: the form's hidden field must match it), so no
// other site can sign a browser in under its own token.
const signInCookie = "concord_signin"

func (st *site) signInPage(w http.ResponseWriter, r *http.Request) {
	st.renderSignIn(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), "")
}

func (st *site) renderSignIn(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	tok := randomID()
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: tok, Path: "/signin", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	st.render(w, r, status, "signin", &pageData{Title: "Sign in", Data: map[string]string{"Next": next, "Error": msg, "CSRF": tok}})
}

func (st *site) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	token := strings.TrimSpace(r.PostForm.Get("token"))
	fail := func(msg string) { st.renderSignIn(w, r, http.StatusUnauthorized, next, msg) }
	if c, err := r.Cookie(signInCookie); err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		fail("This sign-in form has expired or did not come from this site. Enter your token again.")
		return
	}
	if token == "" {
		fail("Enter your token.")
		return
	}
	if st.s.Auth == nil {
		fail("This server accepts no tokens.")
		return
	}
	p, err := st.s.Auth.Authenticate(r.Context(), token)
	if err != nil {
		fail("That token is unknown, revoked or expired. Ask your administrator for a new one.")
		return
	}
	now := st.s.Now()
	sess := &session{id: randomID(), csrf: randomID(), tokenID: p.TokenID, actor: p, expires: now.Add(SessionTTL), ends: now.Add(SessionMaxAge)}
	if p.PersonID != uuid.Nil {
		if names, err := st.s.L.Views.PersonNames(r.Context(), views.AsOf{}); err == nil {
			sess.name = names.Name(p.PersonID)
		}
	}
	st.mu.Lock()
	for id, old := range st.sessions {
		if now.After(old.expires) || now.After(old.ends) {
			delete(st.sessions, id)
		}
	}
	st.sessions[sess.id] = sess
	st.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.id, Path: "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(SessionTTL.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (st *site) signOut(w http.ResponseWriter, r *http.Request) {
	if sess := sessionFrom(r.Context()); sess != nil {
		st.mu.Lock()
		delete(st.sessions, sess.id)
		st.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// pageData is what every page template receives.
type pageData struct {
	Title  string
	Nav    string
	User   *userInfo
	AsOf   views.AsOf
	AsOfIn asOfInput
	Banner string
	Pos    uint64
	Flash  string
	Form   *formError
	Path   string
	Data   any
	CSRF   string
	Writer bool
	// Governor offers a governor's challenge forms; Director the answers.
	Governor, Director bool
	NowDate            string
	// Proofs says whether the ledger keeps a transparency log, so that
	// events can link to their inclusion proofs.
	Proofs bool
	// ScopeSchool is the one school the caller may see (zero: every one).
	ScopeSchool uuid.UUID
}

// LinkTo is the page of what an audit entry touches, with the reading
// kept, or "" when it is a school the caller may not see.
func (d *pageData) LinkTo(l views.AuditLink) string {
	if l.Kind == views.LinkSchool && d.ScopeSchool != uuid.Nil && l.ID != d.ScopeSchool {
		return ""
	}
	if u := linkURL(l); u != "" {
		return d.Link(u)
	}
	return ""
}

type userInfo struct {
	Name string
	// Role says who they are, from the ledger ("Director of …").
	Role string
}

// asOfInput echoes the as-of controls' values.
type asOfInput struct {
	Date, Position string
	Corrected      bool
}

// formError is a rejected form: which form, the field at fault, what rule
// it broke and the values to show again.
type formError struct {
	Form   string
	Field  string
	Title  string
	Detail string
	Rule   string
	Values url.Values
}

// For reports whether the error belongs to form f and (when field is not
// "") to its field field.
func (e *formError) For(f, field string) bool {
	if e == nil || e.Form != f {
		return false
	}
	return field == "" || e.Field == field
}

// Value returns the submitted value of a field of form f, to show again.
func (e *formError) Value(f, field string) string {
	if e == nil || e.Form != f {
		return ""
	}
	return e.Values.Get(field)
}

// req is one page request, with its reading and the names of people.
type req struct {
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	actor app.Actor
	// standing is who the actor is now; vis what they may read (worked
	// out when a page first asks).
	standing app.Standing
	vis      *app.Visibility
	sess     *session
	asOf     views.AsOf
	names    views.PersonNames
	data     *pageData
	form     *formError
	// now is the day views measure overdue things against: the as-of time
	// when looking at the past, else the server's clock.
	now time.Time
}

// pageFunc renders one page into rq.data (template name returned).
type pageFunc func(rq *req) (string, error)

// errNotFound is a page's "no such thing".
type notFoundError struct{ what string }

func (e notFoundError) Error() string { return e.what }

func notFound(format string, args ...any) error { return notFoundError{fmt.Sprintf(format, args...)} }

// badInput is a malformed query or path value.
type badInput struct{ what string }

func (e badInput) Error() string { return e.what }

func (st *site) page(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { st.serve(w, r, fn, nil, http.StatusOK) }
}

func (st *site) newReq(w http.ResponseWriter, r *http.Request) (*req, error) {
	actor, _ := api.ActorOf(r.Context())
	sess := sessionFrom(r.Context())
	rq := &req{w: w, r: r, ctx: r.Context(), actor: actor, sess: sess, now: st.s.Now().UTC()}
	standing, err := st.s.App.Standing(r.Context(), actor)
	if err != nil {
		return rq, err
	}
	rq.standing = standing
	a, err := api.AsOfFromRequest(r)
	if err != nil {
		var pr *api.Problem
		if errors.As(err, &pr) {
			return rq, badInput{pr.Detail}
		}
		return rq, badInput{err.Error()}
	}
	rq.asOf = a
	if !a.Time.IsZero() {
		rq.now = a.Time
	}
	q := r.URL.Query()
	rq.data = &pageData{
		User:     &userInfo{Name: sess.name, Role: standing.Label},
		AsOf:     a,
		AsOfIn:   asOfInput{Date: q.Get("as_of"), Position: q.Get("position"), Corrected: a.Corrected},
		Path:     r.URL.Path,
		CSRF:     sess.csrf,
		Writer:   standing.Records && a.Live(),
		Governor: standing.Governor && a.Live(),
		Director: standing.Director && a.Live(),
		NowDate:  rq.now.Format(time.DateOnly),
		Proofs:   st.s.L.Log != nil,
	}
	if !actor.IsAdmin() {
		rq.data.ScopeSchool = standing.School
	}
	if rq.data.User.Name == "" {
		rq.data.User.Name = "Administrator"
		if actor.PersonID != uuid.Nil {
			rq.data.User.Name = "Signed in"
		}
	}
	if a.Position != 0 && rq.data.AsOfIn.Position == "" {
		rq.data.AsOfIn.Position = strconv.FormatUint(a.Position, 10)
		rq.data.AsOfIn.Date = ""
	}
	if !a.Live() {
		rq.data.Banner = "You are looking at the ledger " + a.Describe() + ". Nothing here can be changed; forms are hidden."
		if a.Corrected && a.Time.IsZero() {
			rq.data.Banner = "You are looking at the ledger as corrected now: every correction is applied from the date it took effect. Forms are hidden."
		}
	}
	rq.names = st.s.L.Views.Names(r.Context(), a)
	return rq, nil
}

// serve renders fn's page; form, when not nil, is a rejected form shown
// again with its error (status 422).
func (st *site) serve(w http.ResponseWriter, r *http.Request, fn pageFunc, form *formError, status int) {
	rq, err := st.newReq(w, r)
	if err == nil {
		rq.form = form
		rq.data.Form = form
		if rq.sess != nil && form == nil {
			st.mu.Lock()
			rq.data.Flash, rq.sess.flash = rq.sess.flash, ""
			st.mu.Unlock()
		}
		var name string
		name, err = fn(rq)
		if err == nil {
			st.render(w, r, status, name, rq.data)
			return
		}
	}
	st.fail(w, r, err)
}

// fail renders an error page for err.
func (st *site) fail(w http.ResponseWriter, r *http.Request, err error) {
	var nf notFoundError
	var bi badInput
	var fb forbiddenError
	status, title, detail := http.StatusInternalServerError, "Something went wrong", "The error was logged; quote request "+api.RequestID(r.Context())+" when asking for help."
	switch {
	case errors.As(err, &nf):
		status, title, detail = http.StatusNotFound, "Not found", nf.what
	case errors.As(err, &bi):
		status, title, detail = http.StatusBadRequest, "That address is not right", bi.what
	case errors.As(err, &fb):
		status, title, detail = http.StatusForbidden, "You may not see this", fb.what
	default:
		pr := api.ProblemOf(err)
		if pr.Status < 500 {
			status, title, detail = pr.Status, pr.Title, pr.Detail
		} else {
			st.s.Logger.Error("page failed", "path", r.URL.Path, "request_id", api.RequestID(r.Context()), "err", err)
		}
	}
	d := &pageData{Title: title, Data: detail, Path: r.URL.Path}
	if sess := sessionFrom(r.Context()); sess != nil {
		actor, _ := api.ActorOf(r.Context())
		label := ""
		if standing, err := st.s.App.Standing(r.Context(), actor); err == nil {
			label = standing.Label
		}
		d.User = &userInfo{Name: sess.name, Role: label}
		d.CSRF = sess.csrf
	}
	st.render(w, r, status, "error", d)
}

// pageBuffers hold pages being drawn, so that a page of half a megabyte
// (the progress or resources page of a fifty-school partnership) is not
// grown afresh, doubling by doubling, for every request.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putPageBuffer returns buf to pageBuffers, unless it grew beyond what is
// worth keeping between requests.
func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 4<<20 {
		return
	}
	buf.Reset()
	pageBuffers.Put(buf)
}

func (st *site) render(w http.ResponseWriter, r *http.Request, status int, name string, d *pageData) {
	t := st.pages[name]
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := t.ExecuteTemplate(buf, "layout", d); err != nil {
		st.s.Logger.Error("render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "The page could not be drawn; the error was logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// commandFunc runs one form's command.
type commandFunc func(rq *req) (formName string, flash string, err error)

// form handles a POST: the command (see apiCommand), then a redirect to
// back with a notice, or the page again with what was refused next to the
// field, in the status the API answered (403, 404, 409, 412 or 422). A
// refused command records nothing: the domain appends all of a command's
// events or none.
func (st *site) form(back string, page pageFunc, run commandFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq, err := st.newReq(w, r)
		if err != nil {
			st.fail(w, r, err)
			return
		}
		name, flash, err := run(rq)
		if err != nil {
			fe := &formError{Form: name, Values: r.PostForm}
			status := http.StatusUnprocessableEntity
			var bi badInput
			var fieldErr fieldError
			var pr *api.Problem
			switch {
			case errors.As(err, &pr):
				fe.Title, fe.Detail, fe.Rule = pr.Title, pr.Detail, pr.Rule
				if len(pr.Errors) > 0 {
					fe.Field = pr.Errors[0].Field
				}
				if pr.Status >= 500 {
					st.fail(w, r, err)
					return
				}
				if pr.Status >= 400 {
					status = pr.Status
				}
			case errors.As(err, &fieldErr):
				fe.Title, fe.Detail, fe.Field = "A field is not right", fieldErr.detail, fieldErr.field
			case errors.As(err, &bi):
				fe.Title, fe.Detail = "The form is not right", bi.what
			default:
				st.fail(w, r, err)
				return
			}
			st.serve(w, r, page, fe, status)
			return
		}
		// Let the projections see what was just recorded before the
		// redirect reads them.
		if err := st.s.L.CatchUp(r.Context()); err != nil {
			st.s.Logger.Warn("catch up after a form", "err", err)
		}
		st.mu.Lock()
		rq.sess.flash = flash
		st.mu.Unlock()
		to := back
		for _, k := range []string{"id", "eid", "rid", "lid"} {
			to = strings.ReplaceAll(to, "{"+k+"}", chi.URLParam(r, k))
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

// fieldError is a form field the page itself could not read (a malformed
// date or id), shown next to the field.
type fieldError struct{ field, detail string }

func (e fieldError) Error() string { return e.field + ": " + e.detail }

// Link returns path with the page's reading (as_of, position, reading)
// kept, so that following a link in the past stays in the past.
func (d *pageData) Link(path string) string {
	q := url.Values{}
	if d.AsOfIn.Date != "" {
		q.Set("as_of", d.AsOfIn.Date)
	} else if d.AsOfIn.Position != "" {
		q.Set("position", d.AsOfIn.Position)
	}
	if d.AsOfIn.Corrected {
		q.Set("reading", "corrected")
	}
	if len(q) == 0 {
		return path
	}
	frag := ""
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path, frag = path[:i], path[i:]
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + q.Encode() + frag
}
