// Package api is Concord's HTTP interface under /v1: thin handlers that
// decode a request, call a domain service or a view, and encode the answer.
// Every error is an RFC 9457 problem (see ProblemOf); every route is in one
// table (route) that drives the router, the authorisation check and the
// OpenAPI document, so none of them can drift from the others.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/projections/jsonenc"
)

// Authenticator turns a bearer token into the actor it authenticates. It
// returns an error for an unknown, revoked, expired or malformed token.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (app.Actor, error)
}

// route is one entry of the API's table.
type route struct {
	Method  string
	Pattern string // chi pattern under the server root, e.g. "/v1/communities/{id}/members"
	Summary string
	Tag     string
	// Auth is true for a route that needs a token; false for the public
	// ones (health, the OpenAPI document, what an outside verifier needs).
	// Who may do what is not here: it is the application layer's policy
	// (UseCase), checked from the ledger.
	Auth bool
	// UseCase names the application layer's use case the route runs (a key
	// of app.Policies); "" for routes that are not one.
	UseCase string
	// Request and Response are zero values of the body types, for the
	// OpenAPI document (nil: no body).
	Request, Response any
	// Status is the success status (default 200).
	Status int
	// Command marks a route built by commandRoute: its body is a command
	// (with reason and effective_at), and Filled are the body's fields the
	// server fills from the path or makes up.
	Command bool
	Filled  []string
	Handle  func(s *Server, w http.ResponseWriter, r *http.Request) error
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
	L *ledger.Ledger
	// App is the application layer every route calls.
	App    *app.App
	Auth   Authenticator
	Logger *slog.Logger
	Now    func() time.Time
	mux    chi.Router
	// sights keeps what readers of the log see of its streams.
	sights sightMemo
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
	s.App = &app.App{L: l, Now: s.Now}
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
	keyActor ctxKey = iota
	keyRequestID
)

// ActorOf returns the actor of a request that passed authentication.
func ActorOf(ctx context.Context) (app.Actor, bool) {
	a, ok := ctx.Value(keyActor).(app.Actor)
	return a, ok
}

// WithActor returns ctx carrying the authenticated actor (for the web
// pages' sessions).
func WithActor(ctx context.Context, a app.Actor) context.Context {
	return context.WithValue(ctx, keyActor, a)
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

// Authenticate resolves a request's bearer token (or an actor already on
// its context, as the web pages' sessions put there).
func (s *Server) Authenticate(r *http.Request) (app.Actor, error) {
	if a, ok := ActorOf(r.Context()); ok {
		return a, nil
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return app.Actor{}, unauthorized("this needs a token: send Authorization: Bearer <token> (ask your administrator for one, or see the tokens printed by concord demo)")
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return app.Actor{}, unauthorized("the Authorization header must be \"Bearer <token>\"")
	}
	if s.Auth == nil {
		return app.Actor{}, unauthorized("this server accepts no tokens")
	}
	a, err := s.Auth.Authenticate(r.Context(), strings.TrimSpace(tok))
	if err != nil {
		return app.Actor{}, unauthorized("the token is unknown, revoked or expired: %v", err)
	}
	return a, nil
}

// handler wraps a route: authentication, then errors as problems. What
// the actor may do is the application layer's to say.
func (s *Server) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkQuery(rt, r); err != nil {
			writeProblem(w, r, ProblemOf(err))
			return
		}
		if rt.Auth {
			a, err := s.Authenticate(r)
			if err != nil {
				writeProblem(w, r, ProblemOf(err))
				return
			}
			r = r.WithContext(WithActor(r.Context(), a))
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

// reply writes v as JSON with status. The whole answer is encoded before
// anything is sent, so a value that cannot be encoded is answered as an
// error, not as half a body.
func reply(w http.ResponseWriter, status int, v any) error {
	buf := answerBuffers.Get().(*[]byte)
	defer putAnswerBuffer(buf)
	b, err := appendAnswer((*buf)[:0], v)
	if err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	*buf = b
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// answerBuffers hold answers while they are sent; those grown past
// maxKeptBuffer are let go rather than kept.
var answerBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxKeptBuffer = 4 << 20

func putAnswerBuffer(b *[]byte) {
	if cap(*b) <= maxKeptBuffer {
		answerBuffers.Put(b)
	}
}

// appendAnswer appends v's JSON and a newline to b: the bytes
// answerEncoder writes, written by jsonenc's plan for v's type where it
// has one (several times faster), by encoding/json where it has not.
func appendAnswer(b []byte, v any) ([]byte, error) {
	n := len(b)
	out, err := jsonenc.AppendAny(b, v)
	if err != nil {
		return b[:n], err
	}
	if verifyAnswers {
		if err := sameAsEncodingJSON(out[n:], v); err != nil {
			return b[:n], err
		}
	}
	return append(out, '\n'), nil
}

// verifyAnswers makes every answer be compared with
// encoding/json's bytes, and a difference be an error. The package's
// tests set it, so every answer they read checks jsonenc.
var verifyAnswers bool

func sameAsEncodingJSON(got []byte, v any) error {
	var want bytes.Buffer
	if err := answerEncoder(&want).Encode(v); err != nil {
		return fmt.Errorf("jsonenc encoded a %T that encoding/json refuses: %w", v, err)
	}
	if w := bytes.TrimSuffix(want.Bytes(), []byte("\n")); !bytes.Equal(got, w) {
		return fmt.Errorf("jsonenc and encoding/json differ on a %T:\n%s\n%s", v, got, w)
	}
	return nil
}

// answerEncoder encodes JSON answers to w as every answer is encoded:
// HTML not escaped, a newline after each value.
func answerEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// CommandResult is the answer to a command. A command that creates a
// record answers where to read it (also the Location header).
type CommandResult struct {
	// ID and Location name the record a command created.
	ID       string          `json:"id,omitempty"`
	Location string          `json:"location,omitempty"`
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

// command runs a use case for a request: the request's reason, effective
// date and If-Match go to the application layer, which checks who may and
// runs the domain; then the answer (201 when events were recorded, with
// Location when created says where the new record is read; 200 when the
// command changed nothing) with the aggregate's revision as ETag.
// Rejections come back as problems and leave the store unchanged. A
// command sent with an Idempotency-Key whose events are already in the log
// (its first answer lost in a crash) is answered from those events and not
// run again.
func (s *Server) command(w http.ResponseWriter, r *http.Request, extra commandExtras, created string, run func(ctx context.Context, actor app.Actor) (domain.Result, error)) error {
	actor, _ := ActorOf(r.Context())
	req := app.Request{Reason: strings.TrimSpace(extra.Reason), EffectiveAt: extra.EffectiveAt}
	if id, err := uuid.Parse(RequestID(r.Context())); err == nil && !isCommandID(id) {
		req.CausationID = id
	}
	keyed, isKeyed := keyedCommandOf(r.Context())
	if isKeyed {
		// The command's id is the cause of its events, so that a retry
		// finds them (see CommandLog).
		req.CausationID = keyed.id
	}
	if rev, ok, err := ifMatch(r); err != nil {
		return err
	} else if ok {
		req.ExpectedRevision = &rev
	}
	ctx := app.WithRequest(r.Context(), req)
	retried := isKeyed && len(keyed.prior) > 0
	if retried {
		// Recorded before, its answer lost: its appends return what they
		// recorded (see CommandLog).
		ctx = domain.WithRecorded(ctx, keyed.recordedOn)
		w.Header().Set("Idempotent-Replayed", "true")
	}
	res, err := run(ctx, actor)
	if err != nil && !retried {
		return err
	}
	if err != nil {
		// Refused now because it was done then: answer from its events.
		s.Logger.Info("a retried command answered from its events in the log", "request_id", RequestID(r.Context()), "refused_now", err.Error())
		last := keyed.prior[len(keyed.prior)-1]
		res = domain.Result{Stream: last.StreamID, Revision: int64(last.Revision)}
		for _, e := range keyed.prior {
			res.Events = append(res.Events, domain.Message{Recorded: domainlog.ToDomain(e)})
		}
	}
	out := CommandResult{Stream: res.Stream, Revision: res.Revision, Events: []RecordedEvent{}}
	for _, m := range res.Events {
		out.Events = append(out.Events, RecordedEvent{ID: m.ID, Type: m.Type, Position: m.Position, Revision: m.Revision})
	}
	w.Header().Set("ETag", etag(out.Revision))
	status := http.StatusCreated
	if len(out.Events) == 0 {
		status = http.StatusOK
	}
	if created != "" && status == http.StatusCreated {
		out.Location = created
		out.ID = created[strings.LastIndexByte(created, '/')+1:]
		w.Header().Set("Location", created)
	}
	return reply(w, status, out)
}
