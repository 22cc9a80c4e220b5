package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// Targets of issue 7 for "concord bench http".
const (
	targetCommandsPerSec = 10000
	targetCommandP99     = 20 * time.Millisecond
	targetQueryP99       = 5 * time.Millisecond
)

func init() {
	registerBenchmark(benchCommand{
		name:    "http",
		summary: "commands/s and latency of the HTTP API in-process on loopback (fsync on every acknowledged command)",
		run:     runBenchHTTP,
	})
}

// httpBenchPlan configures one run of the HTTP benchmark.
type httpBenchPlan struct {
	Dir     string        // scratch data directory (must be empty)
	Clients int           // concurrent clients, each with its own staff member
	For     time.Duration // run length (when Ops is 0)
	Ops     int           // total operations (for go test -bench); 0: run For
	// QueryShare is the fraction of operations that are queries.
	QueryShare float64
	// Floor also drives the same clients against an empty server (as
	// long again), for the ratio to what HTTP alone allows.
	Floor  bool
	Logger *slog.Logger
}

// httpBenchResult is what the HTTP benchmark measured.
type httpBenchResult struct {
	Clients        int     `json:"clients"`
	Seconds        float64 `json:"seconds"`
	Commands       int     `json:"commands"`
	CommandsPerSec float64 `json:"commands_per_sec"`
	CommandP50ms   float64 `json:"command_p50_ms"`
	CommandP99ms   float64 `json:"command_p99_ms"`
	Queries        int     `json:"queries"`
	QueriesPerSec  float64 `json:"queries_per_sec"`
	QueryP50ms     float64 `json:"query_p50_ms"`
	QueryP99ms     float64 `json:"query_p99_ms"`
	Errors         int     `json:"errors"`
	FirstError     string  `json:"first_error,omitempty"`
	// Targets met (issue 7): ≥ 10k commands/s with p99 ≤ 20 ms; queries
	// p99 ≤ 5 ms.
	CommandTargetMet bool `json:"command_target_met"`
	QueryTargetMet   bool `json:"query_target_met"`
	// The same clients against a server that answers every request
	// with a fixed body and does nothing else (--floor): operations a
	// second (commands and queries alike), their latency, and Concord's
	// operations a second as a share of the floor's.
	FloorOpsPerSec float64 `json:"floor_ops_per_sec,omitempty"`
	FloorP50ms     float64 `json:"floor_p50_ms,omitempty"`
	FloorP99ms     float64 `json:"floor_p99_ms,omitempty"`
	OpsToFloor     float64 `json:"ops_to_floor,omitempty"`
}

func runBenchHTTP(ctx context.Context, m *Main, args []string) error {
	fs := benchFlagSet(m, "http", "[--clients 64] [--duration 10s] [--queries 0.5] [--floor=false] [--dir DIR] [--json] [--cpuprofile FILE]")
	clients := fs.Int("clients", 64, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "length of the run")
	share := fs.Float64("queries", 0.5, "fraction of operations that are queries (0 to 1)")
	dir := fs.String("dir", "", "scratch directory (default: a temporary directory in the current one, on the disk measured); a fresh subdirectory is used and removed")
	asJSON := fs.Bool("json", false, "print the result as one line of JSON")
	floor := fs.Bool("floor", true, "then drive the same clients against an empty HTTP server for as long, and print the ratio (the most these clients can get from any server on this machine)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run (server and clients) to this file")
	if err := Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q", fs.Arg(0))
	case *clients < 1:
		return Usagef("--clients must be at least 1")
	case *duration <= 0:
		return Usagef("--duration must be positive")
	case *share < 0 || *share > 1:
		return Usagef("--queries must be between 0 and 1")
	}
	scratch, err := benchScratch(*dir, ".concord-bench-http-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Fprintf(m.Stderr, "bench http: %d clients for %v, %.0f%% queries, data in %s\n", *clients, *duration, *share*100, scratch)
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	res, err := benchHTTP(ctx, httpBenchPlan{Dir: filepath.Join(scratch, "data"), Clients: *clients, For: *duration, QueryShare: *share, Floor: *floor, Logger: logger})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(res)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\tcount\tper second\tp50\tp99\ttarget\n")
	fmt.Fprintf(tw, "commands\t%d\t%.0f\t%.2f ms\t%.2f ms\t≥ %d/s, p99 ≤ %v: %s\n", res.Commands, res.CommandsPerSec, res.CommandP50ms, res.CommandP99ms,
		targetCommandsPerSec, targetCommandP99, metOrNot(res.CommandTargetMet))
	fmt.Fprintf(tw, "queries\t%d\t%.0f\t%.2f ms\t%.2f ms\tp99 ≤ %v: %s\n", res.Queries, res.QueriesPerSec, res.QueryP50ms, res.QueryP99ms,
		targetQueryP99, metOrNot(res.QueryTargetMet))
	if res.FloorOpsPerSec > 0 {
		fmt.Fprintf(tw, "empty server\t\t%.0f ops\t%.2f ms\t%.2f ms\tConcord's ops/s are %.2f of it; %d commands/s at this share of queries needs %.0f ops/s\n",
			res.FloorOpsPerSec, res.FloorP50ms, res.FloorP99ms, res.OpsToFloor, targetCommandsPerSec, float64(targetCommandsPerSec)/max(1-*share, 1e-9))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Errors > 0 {
		fmt.Fprintf(m.Stdout, "%d requests failed; first: %s\n", res.Errors, res.FirstError)
	}
	return nil
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// benchAuth authenticates each client's token as its staff member: what
// they may do (their own details and assessments) follows from the ledger.
type benchAuth map[string]uuid.UUID

func (a benchAuth) Authenticate(_ context.Context, tok string) (app.Actor, error) {
	p, ok := a[tok]
	if !ok {
		return app.Actor{}, errors.New("unknown token")
	}
	return app.Person(p), nil
}

func benchToken(client int) string { return fmt.Sprintf("bench-token-%d", client) }

// benchHTTP runs the HTTP benchmark: a ledger in plan.Dir (the segment
// store, which fsyncs before acknowledging a command, the transparency
// log and every projection following), its API on a loopback port with
// the metrics middleware, and plan.Clients clients each recording
// strengths assessments (three in four commands) and amending the details
// (sealing personal data) of their own staff member, or reading the
// school, their person, or their person's events.
func benchHTTP(ctx context.Context, plan httpBenchPlan) (httpBenchResult, error) {
	res := httpBenchResult{Clients: plan.Clients}
	logger := plan.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metrics := api.NewMetrics()
	l, err := ledger.Open(ctx, ledger.Config{DataDir: plan.Dir, Logger: logger, WrapStore: metrics.Store.Instrument})
	if err != nil {
		return res, err
	}
	defer l.Close()
	meta := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	school := uuid.Must(uuid.NewV7())
	// The academic year of today: an assessment falls in the year it is
	// of.
	year := governance.YearLabel(time.Now().UTC().AddDate(0, -8, 0).Year())
	if _, err := l.Governance.RegisterSchool(ctx, meta, governance.RegisterSchool{SchoolID: school, Name: "Benchmark School"}); err != nil {
		return res, err
	}
	if _, err := l.Governance.OpenAcademicYear(ctx, meta, governance.OpenAcademicYear{SchoolID: school, Year: year}); err != nil {
		return res, err
	}
	staff := make([]uuid.UUID, plan.Clients)
	for i := range staff {
		staff[i] = uuid.Must(uuid.NewV7())
		if _, err := l.Governance.RegisterStaff(ctx, meta, governance.RegisterStaff{PersonID: staff[i], SchoolID: school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Benchmark Teacher %d", i+1)}}); err != nil {
			return res, err
		}
	}
	if err := l.CatchUp(ctx); err != nil {
		return res, err
	}
	runDone := make(chan error, 1)
	go func() { runDone <- l.Run(ctx) }()

	auth := benchAuth{}
	for i, p := range staff {
		auth[benchToken(i)] = p
	}
	srv := &http.Server{Handler: api.New(l, api.Options{Auth: auth, Logger: logger, Middleware: []func(http.Handler) http.Handler{metrics.Middleware}}),
		ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	go srv.Serve(ln)
	defer srv.Close()
	lat, err := driveHTTP(ctx, plan, "http://"+ln.Addr().String(), school, staff, year)
	if err != nil {
		return res, err
	}
	cancel()
	<-runDone
	if plan.Floor {
		// The same clients and requests against a server that does
		// nothing, in the same run: what HTTP alone costs on this
		// machine bounds what any handler can reach.
		floor, err := benchHTTPFloor(parent, plan, school, staff, year)
		if err != nil {
			return res, err
		}
		res.FloorOpsPerSec = float64(len(floor.cmd)+len(floor.query)) / floor.elapsed.Seconds()
		res.FloorP50ms, res.FloorP99ms = percentileMS(append(floor.cmd, floor.query...), 0.50), percentileMS(append(floor.cmd, floor.query...), 0.99)
	}
	res.Errors, res.FirstError = lat.errors, lat.firstError
	cmdLat, queryLat, elapsed := lat.cmd, lat.query, lat.elapsed

	res.Seconds = elapsed.Seconds()
	res.Commands, res.Queries = len(cmdLat), len(queryLat)
	res.CommandsPerSec = float64(res.Commands) / elapsed.Seconds()
	res.QueriesPerSec = float64(res.Queries) / elapsed.Seconds()
	res.CommandP50ms, res.CommandP99ms = percentileMS(cmdLat, 0.50), percentileMS(cmdLat, 0.99)
	res.QueryP50ms, res.QueryP99ms = percentileMS(queryLat, 0.50), percentileMS(queryLat, 0.99)
	res.CommandTargetMet = res.Commands > 0 && res.CommandsPerSec >= targetCommandsPerSec && res.CommandP99ms <= durMS(targetCommandP99)
	res.QueryTargetMet = res.Queries > 0 && res.QueryP99ms <= durMS(targetQueryP99)
	if res.FloorOpsPerSec > 0 {
		res.OpsToFloor = (res.CommandsPerSec + res.QueriesPerSec) / res.FloorOpsPerSec
	}
	return res, nil
}

// httpLatencies is what one drive of the clients measured.
type httpLatencies struct {
	cmd, query []time.Duration
	elapsed    time.Duration
	errors     int
	firstError string
}

// driveHTTP runs plan.Clients clients against base until plan.For has
// passed (or plan.Ops operations are done), each recording strengths
// assessments (three in four commands) and amending the details of its
// own staff member, or reading the school, its person or its person's
// events, and returns the latencies.
func driveHTTP(ctx context.Context, plan httpBenchPlan, base string, school uuid.UUID, staff []uuid.UUID, year string) (httpLatencies, error) {
	var out httpLatencies
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: plan.Clients * 2, MaxIdleConnsPerHost: plan.Clients * 2, IdleConnTimeout: time.Minute}, Timeout: time.Minute}
	defer client.CloseIdleConnections()

	type sample struct {
		query bool
		d     time.Duration
	}
	var (
		mu       sync.Mutex
		cmdLat   []time.Duration
		queryLat []time.Duration
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if out.errors == 0 {
			out.firstError = err.Error()
		}
		out.errors++
	}
	do := func(token, method, path string, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return err
	}
	var budget chan struct{}
	if plan.Ops > 0 {
		budget = make(chan struct{}, plan.Ops)
		for range plan.Ops {
			budget <- struct{}{}
		}
		close(budget)
	}
	deadline := time.Now().Add(plan.For)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range plan.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			person, token := staff[c], benchToken(c)
			var local []sample
			for n := 0; ; n++ {
				if budget != nil {
					if _, ok := <-budget; !ok {
						break
					}
				} else if time.Now().After(deadline) {
					break
				}
				if ctx.Err() != nil {
					break
				}
				var err error
				isQuery := rng.Float64() < plan.QueryShare
				t0 := time.Now()
				if isQuery {
					switch n % 3 {
					case 0:
						err = do(token, http.MethodGet, "/v1/people/"+person.String(), nil)
					case 1:
						err = do(token, http.MethodGet, "/v1/schools/"+school.String(), nil)
					default:
						err = do(token, http.MethodGet, "/v1/events?limit=10&stream="+governance.PersonStream(person), nil)
					}
				} else if n%4 == 3 {
					body, _ := json.Marshal(governance.AmendPersonDetails{PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Benchmark Teacher %d", c+1), Email: fmt.Sprintf("t%d-%d@bench.example", c, n)}})
					err = do(token, http.MethodPost, "/v1/people/"+person.String()+"/details", body)
				} else {
					body, _ := json.Marshal(governance.RecordStrengthsAssessment{Year: year, Scores: governance.Strengths{
						RelationshipBuilding: rng.IntN(101), Executing: rng.IntN(101), StrategicThinking: rng.IntN(101), Influencing: rng.IntN(101)}})
					err = do(token, http.MethodPost, "/v1/people/"+person.String()+"/strengths", body)
				}
				d := time.Since(t0)
				if err != nil {
					fail(err)
					continue
				}
				local = append(local, sample{isQuery, d})
			}
			mu.Lock()
			for _, s := range local {
				if s.query {
					queryLat = append(queryLat, s.d)
				} else {
					cmdLat = append(cmdLat, s.d)
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	out.cmd, out.query = cmdLat, queryLat
	return out, nil
}

// benchHTTPFloor drives the same clients with the same requests against a
// server on loopback whose handler reads the request and answers 200 with
// a small JSON body: the most operations a second these clients can get
// from any server on this machine.
func benchHTTPFloor(ctx context.Context, plan httpBenchPlan, school uuid.UUID, staff []uuid.UUID, year string) (httpLatencies, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return httpLatencies{}, err
	}
	body := []byte(`{"ok":true}` + "\n")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	return driveHTTP(ctx, plan, "http://"+ln.Addr().String(), school, staff, year)
}

func durMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentileMS returns the p-th percentile (nearest rank) of ds in
// milliseconds (0 for none).
func percentileMS(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s)) + 0.5)
	i = min(max(i-1, 0), len(s)-1)
	return durMS(s[i])
}
