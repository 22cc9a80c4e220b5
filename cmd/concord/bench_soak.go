package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/domain/governance"
)

func init() {
	registerBenchmark(benchCommand{
		name: "soak",
		summary: "serve a demo ledger in-process under mixed load (commands, queries, live feeds, reports, backups) for a long time, " +
			"sampling RSS, heap, goroutines, open files and p99 each interval; fails if memory, goroutines or files keep growing",
		run: runBenchSoak,
	})
}

// The growth rule of the soak (see judgeGrowth): a measure grows without
// bound when the median of the last quarter of its samples exceeds
// soakGrowthRatio times the median of the second quarter plus a slack. The
// first quarter is warm-up (caches, pools, the heap finding its size). The
// measures judged are the anonymous part of RSS (what the process owns),
// the heap in use, goroutines and open files. The file-backed part of RSS
// is shown but not judged: it is the bbolt index mapped into memory, which
// grows with the data by design and which the kernel reclaims under
// pressure.
const (
	soakGrowthRatio = 1.25
	soakRSSSlackMiB = 16 // RSS and heap
	soakCountSlack  = 16 // goroutines and open files
	// soakMaxErrorShare is the share of failed operations above which the
	// soak fails even when nothing grows.
	soakMaxErrorShare = 0.01
)

// soakPlan configures one soak.
type soakPlan struct {
	Dir         string        // data directory (must be empty)
	Duration    time.Duration // least length of the load (it also lasts until every kind of operation ran once)
	Interval    time.Duration // sampling interval
	Clients     int           // concurrent clients sending commands, queries and reports
	Rate        float64       // operations per second in all (0: as fast as the clients go)
	Feeds       int           // live-feed clients, each reconnecting now and then
	BackupEvery time.Duration // one backup through the API this often
	Schools     int           // demo size
	Years       int
	Logger      *slog.Logger
	MemProfile  string // when set, a heap profile is written there at the end of the load
	// Row, when set, is called with each sample as it is taken.
	Row func(soakSample)
}

// soakSample is what one sampling interval saw. The process measured is
// the one running the soak: the server and its clients (the clients are a
// fixed set of goroutines and connections).
type soakSample struct {
	At     time.Duration `json:"at"`
	Head   uint64        `json:"head"` // last ledger position
	RSSMiB float64       `json:"rss_mib"`
	// RSS splits into anonymous memory (the heap, stacks: what the process
	// owns) and file-backed pages (the mapped bbolt index, which grows with
	// the data and which the kernel can drop).
	AnonMiB    float64 `json:"rss_anon_mib"`
	FileMiB    float64 `json:"rss_file_mib"`
	HeapMiB    float64 `json:"heap_mib"` // heap in use
	Goroutines int     `json:"goroutines"`
	OpenFiles  int     `json:"open_files"`
	Ops        int     `json:"ops"` // operations completed in the interval
	Errors     int     `json:"errors"`
	CommandP99 float64 `json:"command_p99_ms"`
	QueryP99   float64 `json:"query_p99_ms"`
	ReportP99  float64 `json:"report_p99_ms"`
	FeedEvents int64   `json:"feed_events"` // events the live feeds received in the interval
	Backups    int     `json:"backups"`     // backups completed in the interval
}

// soakTotals count the whole run.
type soakTotals struct {
	Commands, Queries, Reports, Backups, FeedConnects int
	FeedEvents                                        int64
	Errors                                            int
	FirstError                                        string
}

// soakResult is a soak's samples, totals and verdict.
type soakResult struct {
	Samples []soakSample
	Totals  soakTotals
	// Growth lists each measure that grew without bound, with the figures
	// (empty: none did).
	Growth []string
	// Judged is false when there were too few samples to apply the rule.
	Judged bool
}

func runBenchSoak(ctx context.Context, m *Main, args []string) error {
	fs := benchFlagSet(m, "soak", "[--duration 30m] [--interval 1m] [--clients 8] [--rate 100] [--feeds 4] [--backup-every 2m] [--schools 4] [--years 2] [--dir DIR] [--json]")
	duration := fs.Duration("duration", 30*time.Minute, "length of the load")
	interval := fs.Duration("interval", time.Minute, "sampling interval")
	clients := fs.Int("clients", 8, "concurrent clients sending commands, queries and reports")
	rate := fs.Float64("rate", 100, "operations per second in all (0: as fast as the clients go)")
	feeds := fs.Int("feeds", 4, "live-feed clients (each reconnects now and then)")
	backupEvery := fs.Duration("backup-every", 2*time.Minute, "take a backup through the API this often")
	schools := fs.Int("schools", 4, "schools of the demo partnership served")
	years := fs.Int("years", 2, "academic years of the demo partnership served")
	dir := fs.String("dir", "", "scratch directory (default: a temporary directory in the current one); a fresh subdirectory is used and removed")
	asJSON := fs.Bool("json", false, "print the samples and the verdict as JSON instead of a table")
	memProfile := fs.String("memprofile", "", "write a heap profile to this `file` at the end of the load")
	if err := Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q", fs.Arg(0))
	case *duration <= 0 || *interval <= 0 || *backupEvery <= 0:
		return Usagef("--duration, --interval and --backup-every must be positive")
	case *clients < 1 || *feeds < 0 || *rate < 0:
		return Usagef("--clients must be at least 1, --feeds and --rate not negative")
	case *schools < 1 || *years < 1:
		return Usagef("--schools and --years must be at least 1")
	case *feeds > 4*len(soakFeedRoles):
		return Usagef("--feeds: at most %d (four per token of the demo)", 4*len(soakFeedRoles))
	}
	scratch, err := benchScratch(*dir, ".concord-bench-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	fmt.Fprintf(m.Stderr, "bench soak: %v, a sample every %v; %d clients at %.0f ops/s, %d live feeds, a backup every %v; demo of %d schools × %d years in %s\n",
		*duration, *interval, *clients, *rate, *feeds, *backupEvery, *schools, *years, scratch)
	plan := soakPlan{Dir: filepath.Join(scratch, "data"), Duration: *duration, Interval: *interval, Clients: *clients, Rate: *rate,
		Feeds: *feeds, BackupEvery: *backupEvery, Schools: *schools, Years: *years, MemProfile: *memProfile,
		Logger: slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if !*asJSON {
		fmt.Fprintln(m.Stdout, soakHeader)
		plan.Row = func(s soakSample) { fmt.Fprintln(m.Stdout, soakRow(s)) }
	}
	res, err := soak(ctx, plan)
	if err != nil {
		return err
	}
	verdict := soakVerdict(res)
	if *asJSON {
		if err := json.NewEncoder(m.Stdout).Encode(struct {
			Samples []soakSample `json:"samples"`
			Totals  soakTotals   `json:"totals"`
			Growth  []string     `json:"growth"`
			Judged  bool         `json:"judged"`
			Verdict string       `json:"verdict"`
		}{res.Samples, res.Totals, res.Growth, res.Judged, verdict}); err != nil {
			return err
		}
	} else {
		t := res.Totals
		fmt.Fprintf(m.Stdout, "totals: %d commands, %d queries, %d reports, %d backups, %d live-feed connections receiving %d events, %d errors\n",
			t.Commands, t.Queries, t.Reports, t.Backups, t.FeedConnects, t.FeedEvents, t.Errors)
		if t.FirstError != "" {
			fmt.Fprintf(m.Stdout, "first error: %s\n", t.FirstError)
		}
		fmt.Fprintf(m.Stdout, "rule: a measure fails when the median of its last quarter of samples > %.2f × the second quarter's + %d MiB (anonymous RSS, heap) or + %d (goroutines, open files); file-backed RSS (the mapped index) is not judged\n",
			soakGrowthRatio, soakRSSSlackMiB, soakCountSlack)
		fmt.Fprintln(m.Stdout, "verdict:", verdict)
	}
	if len(res.Growth) > 0 {
		return fmt.Errorf("soak failed: grows without bound: %s", strings.Join(res.Growth, "; "))
	}
	if ops := t3(res.Totals); ops > 0 && float64(res.Totals.Errors) > soakMaxErrorShare*float64(ops) {
		return fmt.Errorf("soak failed: %d of %d operations failed (first: %s)", res.Totals.Errors, ops, res.Totals.FirstError)
	}
	return nil
}

func t3(t soakTotals) int { return t.Commands + t.Queries + t.Reports + t.Backups + t.Errors }

// soakVerdict says in one line whether the soak passed the growth rule.
func soakVerdict(res soakResult) string {
	switch {
	case len(res.Growth) > 0:
		return "FAIL: grows without bound: " + strings.Join(res.Growth, "; ")
	case !res.Judged:
		return "not judged: fewer than 4 samples (run longer or sample more often)"
	default:
		return "pass: anonymous RSS, heap, goroutines and open files stay bounded"
	}
}

const soakHeader = "     at    head   RSS MiB  anon MiB  file MiB  heap MiB  goroutines  files     ops  errors  cmd p99 ms  query p99 ms  report p99 ms  feed events  backups"

func soakRow(s soakSample) string {
	p := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return fmt.Sprintf("%7s  %6d  %8.1f  %8.1f  %8.1f  %8.1f  %10d  %5d  %6d  %6d  %10s  %12s  %13s  %11d  %7d",
		s.At.Round(time.Second), s.Head, s.RSSMiB, s.AnonMiB, s.FileMiB, s.HeapMiB, s.Goroutines, s.OpenFiles, s.Ops, s.Errors,
		p(s.CommandP99), p(s.QueryP99), p(s.ReportP99), s.FeedEvents, s.Backups)
}

// judgeGrowth applies the soak's growth rule to one measure's samples: it
// grows without bound when the median of the last quarter exceeds ratio ×
// the median of the second quarter + slack. It needs at least 4 samples
// (judged is false otherwise). The first quarter is warm-up; medians make
// one spike (a GC cycle, a backup in flight) count for nothing.
func judgeGrowth(xs []float64, ratio, slack float64) (grows, judged bool, q2, q4 float64) {
	n := len(xs)
	if n < 4 {
		return false, false, 0, 0
	}
	q2 = median(xs[n/4 : n/2])
	q4 = median(xs[3*n/4:])
	return q4 > ratio*q2+slack, true, q2, q4
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// judgeSoak applies judgeGrowth to RSS, heap, goroutines and open files.
func judgeSoak(samples []soakSample) (growth []string, judged bool) {
	measures := []struct {
		name, unit string
		slack      float64
		get        func(soakSample) float64
	}{
		{"anonymous RSS", " MiB", soakRSSSlackMiB, func(s soakSample) float64 { return s.AnonMiB }},
		{"heap", " MiB", soakRSSSlackMiB, func(s soakSample) float64 { return s.HeapMiB }},
		{"goroutines", "", soakCountSlack, func(s soakSample) float64 { return float64(s.Goroutines) }},
		{"open files", "", soakCountSlack, func(s soakSample) float64 { return float64(s.OpenFiles) }},
	}
	judged = true
	for _, me := range measures {
		xs := make([]float64, len(samples))
		for i, s := range samples {
			xs[i] = me.get(s)
		}
		grows, ok, q2, q4 := judgeGrowth(xs, soakGrowthRatio, me.slack)
		judged = judged && ok
		if grows {
			growth = append(growth, fmt.Sprintf("%s: median %.1f%s in the last quarter > %.2f × %.1f%s (second quarter) + %.0f",
				me.name, q4, me.unit, soakGrowthRatio, q2, me.unit, me.slack))
		}
	}
	return growth, judged
}

// soakFeedRoles are the demo tokens the live feeds use, in turn (four feeds
// at most per token, as the server allows).
var soakFeedRoles = []string{domain.RoleAdmin, domain.RolePartnershipLead, domain.RoleDirector, domain.RoleGovernor}

// soakStats collects the latencies and counts of one interval and of the
// whole run.
type soakStats struct {
	mu                   sync.Mutex
	cmd, query, report   []time.Duration
	ops, errors, backups int
	totals               soakTotals
	feedEvents           atomic.Int64
}

func (st *soakStats) done(kind string, d time.Duration, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		st.errors++
		if st.totals.Errors == 0 {
			st.totals.FirstError = err.Error()
		}
		st.totals.Errors++
		return
	}
	st.ops++
	switch kind {
	case "command":
		st.cmd = append(st.cmd, d)
		st.totals.Commands++
	case "query":
		st.query = append(st.query, d)
		st.totals.Queries++
	case "report":
		st.report = append(st.report, d)
		st.totals.Reports++
	case "backup":
		st.backups++
		st.totals.Backups++
	case "feed":
		st.totals.FeedConnects++
	}
}

// everyKindRan reports whether every kind of operation the plan asks for
// has completed at least once.
func (st *soakStats) everyKindRan(feeds bool) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.totals
	return t.Commands > 0 && t.Queries > 0 && t.Reports > 0 && t.Backups > 0 && (!feeds || t.FeedEvents+st.feedEvents.Load() > 0)
}

// take ends an interval: it returns its sample's load figures and starts
// the next.
func (st *soakStats) take(s *soakSample) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s.Ops, s.Errors, s.Backups = st.ops, st.errors, st.backups
	s.CommandP99, s.QueryP99, s.ReportP99 = percentileMS(st.cmd, 0.99), percentileMS(st.query, 0.99), percentileMS(st.report, 0.99)
	s.FeedEvents = st.feedEvents.Swap(0)
	st.totals.FeedEvents += s.FeedEvents
	st.cmd, st.query, st.report = st.cmd[:0], st.query[:0], st.report[:0]
	st.ops, st.errors, st.backups = 0, 0, 0
}

// processFigures reads this process's RSS (VmRSS), heap in use, goroutines
// and open files (entries of /proc/self/fd). RSS and open files are 0
// where /proc is missing.
func processFigures(s *soakSample) {
	if rss, anon, file, ok := procMemory(); ok {
		s.RSSMiB, s.AnonMiB, s.FileMiB = rss, anon, file
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	s.Goroutines = runtime.NumGoroutine()
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.OpenFiles = len(ents)
	}
}

// soak generates the demo partnership into plan.Dir, serves it in-process
// on a loopback port exactly as "concord serve" does (API, web pages,
// metrics, idempotency keys), and drives it for plan.Duration: clients send
// commands (strengths assessments and details of their own staff member,
// each with an Idempotency-Key), the API reads a Director and the lead
// reach, and the partnership report; live-feed clients follow
// /v1/events/stream and reconnect now and then; the administrator takes a
// backup every plan.BackupEvery. It samples the process every
// plan.Interval and judges the samples with judgeSoak.
func soak(ctx context.Context, plan soakPlan) (soakResult, error) {
	var res soakResult
	logger := plan.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The demo, a staff member and token per client, and the demo's tokens.
	clock := demo.NewClock(time.Now)
	l, err := ledger.Open(ctx, ledger.Config{DataDir: plan.Dir, Now: clock.Now, Logger: logger})
	if err != nil {
		return res, err
	}
	defer l.Close()
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: plan.Schools, Years: plan.Years, Seed: 1, Volume: 1, Clock: clock})
	if err != nil {
		return res, fmt.Errorf("generate the demo: %w", err)
	}
	demoTokens, err := issueDemoTokens(ctx, plan.Dir, sum)
	if err != nil {
		return res, err
	}
	secrets := map[string]string{}
	for _, t := range demoTokens {
		secrets[t.Role] = t.Token
	}
	year := sum.Years[len(sum.Years)-1]
	meta := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	type staffClient struct {
		person uuid.UUID
		secret string
	}
	staff := make([]staffClient, plan.Clients)
	tokens, err := api.OpenTokens(filepath.Join(plan.Dir, api.TokensFile), api.TokensOptions{})
	if err != nil {
		return res, err
	}
	for i := range staff {
		p := uuid.Must(uuid.NewV7())
		if _, err := l.Governance.RegisterStaff(ctx, meta, governance.RegisterStaff{PersonID: p, SchoolID: sum.Schools[0], Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Soak Teacher %d", i+1)}}); err != nil {
			tokens.Close()
			return res, fmt.Errorf("register a staff member: %w", err)
		}
		secret, _, err := tokens.Create(ctx, api.TokenSpec{Kind: app.KindPerson, PersonID: p, Label: "bench soak"})
		if err != nil {
			tokens.Close()
			return res, err
		}
		staff[i] = staffClient{p, secret}
	}
	if err := tokens.Close(); err != nil {
		return res, err
	}
	if err := l.CatchUp(ctx); err != nil {
		return res, err
	}

	// Serve as "concord serve" does.
	srvCtx, stopServer := context.WithCancel(context.WithValue(ctx, loggerKey{}, logger))
	defer stopServer()
	ready := make(chan string, 1)
	served := make(chan error, 1)
	quiet := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	go func() { served <- serveLedger(srvCtx, quiet, l, "127.0.0.1:0", func(url string) { ready <- url }) }()
	var base string
	select {
	case base = <-ready:
	case err := <-served:
		return res, fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		return res, ctx.Err()
	}
	defer func() {
		stopServer()
		<-served
	}()

	// What the readers read: every API read a Director and the lead reach,
	// and the partnership report.
	var reads []apiCall
	for _, role := range []string{domain.RoleDirector, domain.RolePartnershipLead} {
		calls, _, err := apiReads(ctx, base, secrets[role], sum.Sample[role], nil)
		if err != nil {
			return res, fmt.Errorf("list the API's reads: %w", err)
		}
		reads = append(reads, calls...)
	}
	if len(reads) == 0 {
		return res, errors.New("the API lists no reads to query")
	}
	reportPaths := []string{
		"/v1/reports/partnership?partnership=" + sum.PartnershipID.String() + "&year=" + year + "&format=html",
		"/v1/reports/partnership?partnership=" + sum.PartnershipID.String() + "&year=" + year + "&format=json",
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * (plan.Clients + plan.Feeds + 1), MaxIdleConnsPerHost: 4 * (plan.Clients + plan.Feeds + 1),
		IdleConnTimeout: time.Minute}, Timeout: 5 * time.Minute}
	defer client.CloseIdleConnections()
	do := func(ctx context.Context, secret, method, path string, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", uuid.NewString())
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

	st := &soakStats{}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup

	// The pace: one token per operation.
	var pace <-chan time.Time
	if plan.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / plan.Rate))
		defer t.Stop()
		pace = t.C
	}
	for c := range plan.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 11))
			me := staff[c]
			for n := 0; ; n++ {
				if pace != nil {
					select {
					case <-pace:
					case <-loadCtx.Done():
						return
					}
				} else if loadCtx.Err() != nil {
					return
				}
				var (
					kind = "query"
					err  error
				)
				t0 := time.Now()
				// Of 20 operations: 8 commands, 11 queries, 1 report.
				switch k := n % 20; {
				case k == 19:
					kind = "report"
					err = do(loadCtx, secrets[domain.RolePartnershipLead], http.MethodGet, reportPaths[rng.IntN(len(reportPaths))], nil)
				case k%5 == 0 || k%5 == 2:
					kind = "command"
					var body []byte
					if k%10 == 0 {
						body, _ = json.Marshal(governance.AmendPersonDetails{PersonDetails: governance.PersonDetails{
							Name: fmt.Sprintf("Soak Teacher %d", c+1), Email: fmt.Sprintf("t%d-%d@soak.example", c, n)}})
						err = do(loadCtx, me.secret, http.MethodPost, "/v1/people/"+me.person.String()+"/details", body)
					} else {
						body, _ = json.Marshal(governance.RecordStrengthsAssessment{Year: year, Scores: governance.Strengths{
							RelationshipBuilding: rng.IntN(101), Executing: rng.IntN(101), StrategicThinking: rng.IntN(101), Influencing: rng.IntN(101)}})
						err = do(loadCtx, me.secret, http.MethodPost, "/v1/people/"+me.person.String()+"/strengths", body)
					}
				default:
					call := reads[rng.IntN(len(reads))]
					err = do(loadCtx, call.secret, http.MethodGet, call.path, nil)
				}
				if loadCtx.Err() != nil {
					return // cut by the end of the run, not a failure
				}
				st.done(kind, time.Since(t0), err)
			}
		}()
	}
	for f := range plan.Feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(f), 13))
			secret := secrets[soakFeedRoles[f%len(soakFeedRoles)]]
			for loadCtx.Err() == nil {
				// Hold each connection between a quarter and one and a
				// quarter intervals, then reconnect.
				hold := plan.Interval/4 + time.Duration(rng.Int64N(int64(plan.Interval)))
				err := followFeed(loadCtx, client, base, secret, hold, &st.feedEvents)
				if loadCtx.Err() != nil {
					return
				}
				st.done("feed", 0, err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(plan.BackupEvery)
		defer t.Stop()
		for {
			err := do(loadCtx, secrets[domain.RoleAdmin], http.MethodGet, "/v1/admin/backup", nil)
			if loadCtx.Err() != nil {
				return
			}
			st.done("backup", 0, err)
			select {
			case <-t.C:
			case <-loadCtx.Done():
				return
			}
		}
	}()

	sample := func(at time.Duration) {
		var s soakSample
		s.At = at
		s.Head, _ = l.Store.Head(ctx)
		st.take(&s)
		processFigures(&s)
		res.Samples = append(res.Samples, s)
		if plan.Row != nil {
			plan.Row(s)
		}
	}
	start := time.Now()
	tick := time.NewTicker(plan.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			stopLoad()
			wg.Wait()
			return res, ctx.Err()
		case <-tick.C:
		}
		at := time.Since(start)
		sample(at)
		if at >= plan.Duration && st.everyKindRan(plan.Feeds > 0) {
			break
		}
	}
	stopLoad()
	wg.Wait()
	if plan.MemProfile != "" {
		if err := writeHeapProfile(plan.MemProfile); err != nil {
			return res, err
		}
	}
	st.mu.Lock()
	res.Totals = st.totals
	res.Totals.FeedEvents += st.feedEvents.Load()
	st.mu.Unlock()
	res.Growth, res.Judged = judgeSoak(res.Samples)
	return res, nil
}

// followFeed follows the live feed for hold, counting the events it
// receives into events. It returns nil when it held the connection for
// hold (or ctx ended), else why the feed failed.
func followFeed(ctx context.Context, client *http.Client, base, secret string, hold time.Duration, events *atomic.Int64) error {
	ctx, cancel := context.WithTimeout(ctx, hold)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events/stream", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Accept", "text/event-stream")
	// The client's own timeout would cut a long feed: this request ends
	// with ctx.
	c := *client
	c.Timeout = 0
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("live feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("live feed: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "id:") {
			events.Add(1)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("live feed: %w", err)
	}
	return errors.New("live feed: the server ended the stream")
}

// writeHeapProfile writes the heap profile (after a collection) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}
