// Package api is Concord's HTTP interface under /v1: thin handlers that
// decode a request, call a domain service or a view, and encode the answer.
// Every error is an RFC 9457 problem (see ProblemOf); every route is in one
// table (route) that drives the router, the authorisation check and the
// OpenAPI document, so none of them can drift from the others.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
)

// Role is what a principal may do; the authorisation table is written in
// roles (docs/api.md publishes it).
type Role string

// The roles. Chair is derived from office: a staff member who chairs an
// ISLC is given it for that ISLC's routes.
const (
	RoleAdmin           Role = domain.RoleAdmin
	RoleDirector        Role = domain.RoleDirector
	RoleStaff           Role = domain.RoleStaff
	RoleChair           Role = domain.RoleChair
	RoleGovernor        Role = domain.RoleGovernor
	RolePartnershipLead Role = domain.RolePartnershipLead
	RoleAuditor         Role = domain.RoleAuditor
)

// AllRoles lists every role, in the order docs and tests use.
var AllRoles = []Role{RoleAdmin, RoleDirector, RoleStaff, RoleChair, RoleGovernor, RolePartnershipLead, RoleAuditor}

// Readers are the roles that may read; Writers excludes governors and
// auditors, who read everything of their school or partnership and write
// nothing.
var (
	Readers = AllRoles
	Writers = []Role{RoleAdmin, RoleDirector, RoleStaff, RoleChair, RolePartnershipLead}
)

// Principal is who is calling: the person a token is bound to, in the role
// it grants, within the school or partnership it is scoped to (zero: any).
type Principal struct {
	PersonID      uuid.UUID `json:"person_id"`
	Role          Role      `json:"role"`
	SchoolID      uuid.UUID `json:"school_id,omitempty"`
	PartnershipID uuid.UUID `json:"partnership_id,omitempty"`
	TokenID       string    `json:"token_id,omitempty"`
}

// Authenticator turns a bearer token into a principal. It returns an error
// for an unknown, revoked or malformed token.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// route is one entry of the API's table.
type route struct {
	Method  string
	Pattern string // chi pattern under the server root, e.g. "/v1/communities/{id}/members"
	Summary string
	Tag     string
	// Roles may call the route; nil means public (no token needed).
	Roles []Role
	// Request and Response are zero values of the body types, for the
	// OpenAPI document (nil: no body).
	Request, Response any
	// Status is the success status (default 200).
	Status int
	Handle func(s *Server, w http.ResponseWriter, r *http.Request) error
}

// routeGroups are the route tables of the package's files, each added
// from an init function so that files can be written independently.
var routeGroups []func() []route

func addRoutes(g func() []route) { routeGroups = append(routeGroups, g) }

// extraCollectors are Prometheus collectors defined by the package's files
// (each appends from init); the metrics registry registers them all.
var extraCollectors []prometheus.Collector

// Routes returns every route, sorted by pattern then method.
func Routes() []route {
	var out []route
	for _, g := range routeGroups {
		out = append(out, g()...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Options configure a Server.
type Options struct {
	// Auth authenticates bearer tokens; nil refuses every non-public route.
	Auth   Authenticator
	Logger *slog.Logger
	Now    func() time.Time
	// Middleware wraps every route (metrics, request logs…), outermost first.
	Middleware []func(http.Handler) http.Handler
	// Mount adds handlers outside the route table (the web pages, /metrics).
	Mount func(r chi.Router)
}

// Server serves the API over a ledger.
type Server struct {
	L      *ledger.Ledger
	Auth   Authenticator
	Logger *slog.Logger
	Now    func() time.Time
	mux    chi.Router
}

// New returns a Server for l.
func New(l *ledger.Ledger, opts Options) *Server {
	s := &Server{L: l, Auth: opts.Auth, Logger: opts.Logger, Now: opts.Now}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	r := chi.NewRouter()
	r.Use(s.requestID, s.recoverer)
	for _, m := range opts.Middleware {
		r.Use(m)
	}
	for _, rt := range Routes() {
		r.Method(rt.Method, rt.Pattern, s.handler(rt))
	}
	if opts.Mount != nil {
		opts.Mount(r)
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, notFound("there is no page or resource at %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
			"%s is not allowed on %s", r.Method, r.URL.Path))
	})
	s.mux = r
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type ctxKey int

const (
	keyPrincipal ctxKey = iota
	keyRequestID
)

// PrincipalOf returns the caller of a request that passed authentication.
func PrincipalOf(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(keyPrincipal).(Principal)
	return p, ok
}

// WithPrincipal returns ctx carrying p (for the web pages' sessions).
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, keyPrincipal, p)
}

// RequestID returns the request's id ("" outside a request).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("handler panicked", "request_id", RequestID(r.Context()), "path", r.URL.Path, "panic", v)
				writeProblem(w, r, ProblemOf(nil))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Authenticate resolves a request's bearer token (or a principal already
// on its context, as the web pages' sessions put there).
func (s *Server) Authenticate(r *http.Request) (Principal, error) {
	if p, ok := PrincipalOf(r.Context()); ok {
		return p, nil
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, unauthorized("this needs a token: send Authorization: Bearer <token> (ask your administrator for one, or see the tokens printed by concord demo)")
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return Principal{}, unauthorized("the Authorization header must be \"Bearer <token>\"")
	}
	if s.Auth == nil {
		return Principal{}, unauthorized("this server accepts no tokens")
	}
	p, err := s.Auth.Authenticate(r.Context(), strings.TrimSpace(tok))
	if err != nil {
		return Principal{}, unauthorized("the token is unknown or revoked: %v", err)
	}
	return p, nil
}

// handler wraps a route: authentication, the role check, and errors as
// problems.
func (s *Server) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Roles != nil {
			p, err := s.Authenticate(r)
			if err != nil {
				writeProblem(w, r, ProblemOf(err))
				return
			}
			if !slices.Contains(rt.Roles, p.Role) {
				writeProblem(w, r, forbidden("a %s may not %s", p.Role, lowerFirst(rt.Summary)))
				return
			}
			r = r.WithContext(WithPrincipal(r.Context(), p))
		}
		if err := rt.Handle(s, w, r); err != nil {
			p := ProblemOf(err)
			if p.Status >= 500 {
				s.Logger.Error("request failed", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeProblem(w, r, p)
		}
	})
}

func lowerFirst(s string) string {
	if s == "" {
		return "do this"
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// reply writes v as JSON with status.
func reply(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Meta builds the envelope metadata of a command from the caller and the
// request: actor, role, the optional reason (X-Concord-Reason header) and
// effective date (X-Concord-Effective-At), the request id as causation.
func Meta(r *http.Request) (domain.Meta, error) {
	p, _ := PrincipalOf(r.Context())
	m := domain.Meta{ActorID: p.PersonID.String(), ActorRole: string(p.Role), Reason: r.Header.Get("X-Concord-Reason")}
	if p.PersonID == uuid.Nil {
		m.ActorID = "admin"
	}
	if s := r.Header.Get("X-Concord-Effective-At"); s != "" {
		t, ok := parseTime(s)
		if !ok {
			return m, badRequest("X-Concord-Effective-At %q is not a date or RFC 3339 time", s)
		}
		m.EffectiveAt = t
	}
	return m, nil
}

// CommandResult is the answer to a command.
type CommandResult struct {
	Stream   string          `json:"stream"`
	Revision int64           `json:"revision"`
	Events   []RecordedEvent `json:"events"`
}

// RecordedEvent is one event a command recorded.
type RecordedEvent struct {
	ID       uuid.UUID `json:"id"`
	Type     string    `json:"type"`
	Position uint64    `json:"position"`
	Revision uint64    `json:"revision"`
}

// command runs a domain command for a request: metadata from the caller,
// If-Match as the expected revision, then the answer (status 201 when
// events were recorded, 200 when the command changed nothing) with the
// aggregate's revision as ETag. Rejections come back as problems and
// leave the store unchanged.
func (s *Server) command(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, meta domain.Meta) (domain.Result, error)) error {
	meta, err := Meta(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if rev, ok, err := ifMatch(r); err != nil {
		return err
	} else if ok {
		ctx = domain.WithExpectedRevision(ctx, rev)
	}
	res, err := run(ctx, meta)
	if err != nil {
		return err
	}
	out := CommandResult{Stream: res.Stream, Revision: res.Revision, Events: []RecordedEvent{}}
	for _, m := range res.Events {
		out.Events = append(out.Events, RecordedEvent{ID: m.ID, Type: m.Type, Position: m.Position, Revision: m.Revision})
	}
	w.Header().Set("ETag", etag(res.Revision))
	status := http.StatusCreated
	if len(res.Events) == 0 {
		status = http.StatusOK
	}
	return reply(w, status, out)
}
