package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

// httpCrashPlan configures "concord crashtest --http": the whole server,
// run as a child process, killed and restarted under load.
type httpCrashPlan struct {
	// Exe is the program run as "concord serve"; Env its environment
	// (nil: this process's).
	Exe string
	Env []string
	// Work is an empty directory: the ledger's data directory (data/),
	// the pinned public key and the server's logs (serve.log) go there.
	Work   string
	Cycles int
	// Clients is how many staff members send commands concurrently,
	// besides the administrator's client.
	Clients int
	// MaxRun is the longest a server runs under load before it is killed
	// (each run lasts a random time from 0 to MaxRun).
	MaxRun time.Duration
	// Seed seeds the clients' choices and the kill times.
	Seed uint64
	// Out receives a line per cycle.
	Out io.Writer
}

// httpCrashResult is what the crash test found.
type httpCrashResult struct {
	Cycles int
	// Commands is how many commands were acknowledged (every command
	// sent is retried until it is).
	Commands int
	// InFlight counts commands sent but unanswered when a server was
	// killed; FromRetry those of them whose acknowledgement was a replay
	// (their first attempt had been recorded before the kill).
	InFlight, FromRetry int
	// Replayed counts the retries of acknowledged commands made to check
	// that they get the first answer.
	Replayed int
	// Lost counts acknowledged commands whose events are not in the log;
	// Duplicated, commands whose events are in it more than once.
	Lost, Duplicated int
	// Events is the log's length at the end; Checkpoints how many signed
	// checkpoints the server recorded.
	Events      uint64
	Checkpoints int
}

// crashOp is one command a client sends, with its Idempotency-Key, until
// it is acknowledged.
type crashOp struct {
	key          string
	token        string
	method, path string
	body         []byte
	// command is false for requests whose answer is not a CommandResult
	// (a new token, whose secret a replay does not repeat).
	command bool

	killed   bool // an attempt failed because the server went away
	answer   []byte
	replayed bool // the acknowledgement was a replay
	result   api.CommandResult
}

// crashServer runs "concord serve" as a child process and tells the
// clients where it listens.
type crashServer struct {
	plan httpCrashPlan
	data string
	log  *os.File

	mu      sync.Mutex
	url     string        // "" while down
	changed chan struct{} // closed (and replaced) when url changes
	cmd     *exec.Cmd
}

func (s *crashServer) setURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.url = url
	close(s.changed)
	s.changed = make(chan struct{})
}

// current returns the server's URL, waiting while it is down.
func (s *crashServer) current(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		url, ch := s.url, s.changed
		s.mu.Unlock()
		if url != "" {
			return url, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// pause waits a little before a retry, or less if the server changes.
func (s *crashServer) pause(ctx context.Context) {
	s.mu.Lock()
	ch := s.changed
	s.mu.Unlock()
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}

// start starts the server and waits until it listens.
func (s *crashServer) start(ctx context.Context) error {
	cmd := exec.Command(s.plan.Exe, "serve", "--data", s.data, "--addr", "127.0.0.1:0", "--log-level", "warn", "--checkpoint-interval", "250ms")
	cmd.Env = s.plan.Env
	cmd.Stderr = s.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the server: %w", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if _, url, ok := strings.Cut(line, " at "); ok && strings.HasPrefix(line, "Concord is serving ") {
				ready <- strings.TrimSpace(url)
			}
		}
		close(ready)
	}()
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	select {
	case url, ok := <-ready:
		if !ok {
			err := cmd.Wait()
			return fmt.Errorf("the server stopped before it listened (%v); its log is %s", err, s.log.Name())
		}
		s.cmd = cmd
		s.setURL(url)
		return nil
	case <-deadline.C:
		err = errors.New("the server did not listen within 2 minutes")
	case <-ctx.Done():
		err = ctx.Err()
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return err
}

// kill sends SIGKILL to the server and waits for it to be gone.
func (s *crashServer) kill() {
	if s.cmd == nil {
		return
	}
	s.setURL("")
	_ = s.cmd.Process.Kill() // SIGKILL
	_ = s.cmd.Wait()
	s.cmd = nil
}

// crashGate lets the clients start new commands only while it is open,
// and says when every client is waiting at it (no command in flight).
type crashGate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	open    bool
	stopped bool
	waiting int
	active  int
}

func newCrashGate(clients int) *crashGate {
	g := &crashGate{active: clients}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// enter waits until the gate is open; false when the run is over.
func (g *crashGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.open && !g.stopped {
		g.waiting++
		g.cond.Broadcast()
		g.cond.Wait()
		g.waiting--
	}
	return !g.stopped
}

func (g *crashGate) set(open bool) {
	g.mu.Lock()
	g.open = open
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *crashGate) stop() {
	g.mu.Lock()
	g.stopped = true
	g.cond.Broadcast()
	g.mu.Unlock()
}

// leave says a client has ended.
func (g *crashGate) leave() {
	g.mu.Lock()
	g.active--
	g.cond.Broadcast()
	g.mu.Unlock()
}

// drained waits until every client still running waits at the gate.
func (g *crashGate) drained() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.waiting < g.active {
		g.cond.Wait()
	}
}

// crashRun is one run of the crash test.
type crashRun struct {
	plan   httpCrashPlan
	srv    *crashServer
	http   *http.Client
	runID  string
	school uuid.UUID
	year   string
	admin  string

	mu      sync.Mutex
	ops     []*crashOp // acknowledged, in order
	failure error
}

// send sends op until it is acknowledged, retrying with the same key
// after connection failures, 5xx answers, "still running" and "changed
// by someone else, try again" (409).
// Returns an error for any other answer: every command the clients send
// is one the ledger accepts.
func (r *crashRun) send(ctx context.Context, op *crashOp) error {
	for {
		url, err := r.srv.current(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, op.method, url+op.path, bytes.NewReader(op.body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+op.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", op.key)
		resp, err := r.http.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			op.killed = true
			r.srv.pause(ctx)
			continue
		}
		switch {
		case resp.StatusCode/100 == 2:
			op.answer = body
			op.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
			if op.command {
				if err := json.Unmarshal(body, &op.result); err != nil {
					return fmt.Errorf("%s %s: the answer is not a command's result: %w: %s", op.method, op.path, err, body)
				}
			}
			return nil
		case resp.StatusCode >= 500, resp.StatusCode == http.StatusConflict &&
			(bytes.Contains(body, []byte(`"idempotency-key-in-use"`)) || bytes.Contains(body, []byte(`"concurrent-change"`))):
			r.srv.pause(ctx)
		default:
			return fmt.Errorf("%s %s with Idempotency-Key %s: %s: %s", op.method, op.path, op.key, resp.Status, body)
		}
	}
}

func (r *crashRun) newOp(token, method, path string, body any, command bool) *crashOp {
	b, _ := json.Marshal(body)
	return &crashOp{token: token, method: method, path: path, body: b, command: command}
}

// do sends one operation keyed key and keeps it.
func (r *crashRun) do(ctx context.Context, key string, op *crashOp) error {
	op.key = r.runID + "-" + key
	if err := r.send(ctx, op); err != nil {
		return err
	}
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return nil
}

// token issues a sign-in token for person through the API.
func (r *crashRun) token(ctx context.Context, key string, person uuid.UUID) (string, error) {
	op := r.newOp(r.admin, http.MethodPost, "/v1/tokens", api.TokenSpec{Kind: app.KindPerson, PersonID: person, Label: "crash test client"}, false)
	if err := r.do(ctx, key, op); err != nil {
		return "", err
	}
	var created api.CreatedToken
	if err := json.Unmarshal(op.answer, &created); err != nil || created.Token == "" {
		return "", fmt.Errorf("the new token: %v: %s", err, op.answer)
	}
	return created.Token, nil
}

// register registers a staff member of the school as the caller of token
// and returns their id.
func (r *crashRun) register(ctx context.Context, key, token, name string) (uuid.UUID, error) {
	op := r.newOp(token, http.MethodPost, "/v1/people/staff", governance.RegisterStaff{SchoolID: r.school, Kind: governance.StaffEducator,
		PersonDetails: governance.PersonDetails{Name: name}}, true)
	if err := r.do(ctx, key, op); err != nil {
		return uuid.Nil, err
	}
	id, err := uuid.Parse(op.result.ID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("the new staff member's id: %w", err)
	}
	return id, nil
}

// seed builds, through the API, what the clients act in: the
// administrator registers a school and its first staff member, appoints
// them Director and gives them a token; the Director opens the academic
// year and registers one staff member per client, each given a token.
// It returns the Director's token and each client's person and token.
func (r *crashRun) seed(ctx context.Context) (string, []uuid.UUID, []string, error) {
	op := r.newOp(r.admin, http.MethodPost, "/v1/schools", governance.RegisterSchool{Name: "Crash Test School"}, true)
	if err := r.do(ctx, "seed-school", op); err != nil {
		return "", nil, nil, err
	}
	school, err := uuid.Parse(op.result.ID)
	if err != nil {
		return "", nil, nil, fmt.Errorf("the new school's id: %w", err)
	}
	r.school = school
	director, err := r.register(ctx, "seed-director", r.admin, "Crash Test Director")
	if err != nil {
		return "", nil, nil, err
	}
	if err := r.do(ctx, "seed-appoint", r.newOp(r.admin, http.MethodPost, "/v1/schools/"+school.String()+"/director", governance.AppointDirector{DirectorID: director}, true)); err != nil {
		return "", nil, nil, err
	}
	dirToken, err := r.token(ctx, "seed-director-token", director)
	if err != nil {
		return "", nil, nil, err
	}
	if err := r.do(ctx, "seed-year", r.newOp(dirToken, http.MethodPost, "/v1/schools/"+school.String()+"/years", governance.OpenAcademicYear{Year: r.year}, true)); err != nil {
		return "", nil, nil, err
	}
	people := make([]uuid.UUID, r.plan.Clients)
	tokens := make([]string, r.plan.Clients)
	for i := range people {
		if people[i], err = r.register(ctx, fmt.Sprintf("seed-staff-%d", i), dirToken, fmt.Sprintf("Crash Teacher %d", i+1)); err != nil {
			return "", nil, nil, err
		}
		if tokens[i], err = r.token(ctx, fmt.Sprintf("seed-token-%d", i), people[i]); err != nil {
			return "", nil, nil, err
		}
	}
	return dirToken, people, tokens, nil
}

// Clients other than the staff members'.
const (
	adminClient    = -2
	directorClient = -1
)

// client sends commands while the gate is open: the administrator's
// registers schools; the Director's registers staff members and
// segments (records whose ids the server chooses) and amends staff
// members' details; a staff member's records strengths assessments and
// amends their own details (personal data, sealed with their key).
func (r *crashRun) client(ctx context.Context, gate *crashGate, c int, person uuid.UUID, token string, staff []uuid.UUID) {
	defer gate.leave()
	rng := mrand.New(mrand.NewPCG(r.plan.Seed, uint64(c+3)))
	for n := 0; gate.enter(); n++ {
		var op *crashOp
		switch x := rng.IntN(6); {
		case c == adminClient:
			op = r.newOp(token, http.MethodPost, "/v1/schools", governance.RegisterSchool{Name: fmt.Sprintf("Crash Test School %d", n)}, true)
		case c == directorClient && x < 3:
			op = r.newOp(token, http.MethodPost, "/v1/people/staff", governance.RegisterStaff{SchoolID: r.school, Kind: governance.StaffEducator,
				PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Crash Teacher D%d", n), Email: fmt.Sprintf("d%d@crash.example", n)}}, true)
		case c == directorClient && x < 5:
			op = r.newOp(token, http.MethodPost, "/v1/schools/"+r.school.String()+"/segments", governance.AddSegment{Name: fmt.Sprintf("Segment %d", n)}, true)
		case c == directorClient:
			who := staff[rng.IntN(len(staff))]
			op = r.newOp(token, http.MethodPost, "/v1/people/"+who.String()+"/details", struct {
				governance.AmendPersonDetails
				Reason string `json:"reason"`
			}{governance.AmendPersonDetails{PersonDetails: governance.PersonDetails{Name: "Crash Teacher", Phone: fmt.Sprintf("+44 1000 %06d", n)}}, "from the paper form"}, true)
		case x < 4:
			op = r.newOp(token, http.MethodPost, "/v1/people/"+person.String()+"/strengths", governance.RecordStrengthsAssessment{Year: r.year,
				Scores: governance.Strengths{RelationshipBuilding: rng.IntN(101), Executing: rng.IntN(101), StrategicThinking: rng.IntN(101), Influencing: rng.IntN(101)}}, true)
		default:
			op = r.newOp(token, http.MethodPost, "/v1/people/"+person.String()+"/details", governance.AmendPersonDetails{
				PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Crash Teacher %d", c+1), Email: fmt.Sprintf("t%d-%d@crash.example", c, n)}}, true)
		}
		if err := r.do(ctx, fmt.Sprintf("c%d-%d", c, n), op); err != nil {
			r.fail(err)
			return
		}
	}
}

func (r *crashRun) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failure == nil && !errors.Is(err, context.Canceled) {
		r.failure = err
	}
}

func (r *crashRun) failed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failure
}

// runHTTPCrashCommand runs the crash test with this program as the server,
// in dir (a new temporary directory when ""; removed after a success).
func runHTTPCrashCommand(ctx context.Context, m *Main, plan httpCrashPlan, dir string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to run it as the server: %w", err)
	}
	plan.Exe = exe
	if plan.Seed == 0 {
		plan.Seed = uint64(time.Now().UnixNano())
	}
	temporary := dir == ""
	if temporary {
		if dir, err = os.MkdirTemp("", "concord-crashtest-http-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	plan.Work = dir
	fmt.Fprintf(m.Stdout, "crash test --http: %d cycles, %d clients and the administrator, runs up to %v, seed %d, in %s\n", plan.Cycles, plan.Clients, plan.MaxRun, plan.Seed, dir)
	start := time.Now()
	res, err := runHTTPCrashTest(ctx, plan)
	took := time.Since(start).Round(time.Second)
	fmt.Fprintf(m.Stdout, "crash test --http: %d cycles, %d commands acknowledged (%d in flight at a kill, %d of them recorded before it), %d retries checked, lost %d, duplicated %d, %d events, %d checkpoints, %v\n",
		res.Cycles, res.Commands, res.InFlight, res.FromRetry, res.Replayed, res.Lost, res.Duplicated, res.Events, res.Checkpoints, took)
	if err != nil {
		return fmt.Errorf("%w (the work directory is left in %s)", err, dir)
	}
	if temporary {
		return os.RemoveAll(dir)
	}
	return nil
}

// runHTTPCrashTest runs the crash test: seed, then for each cycle let the
// clients send commands for a random time, kill the server with SIGKILL,
// restart it, let every command in flight be retried until acknowledged,
// and check: retries of acknowledged commands get their first answer;
// every acknowledged command's events are in the log exactly once (and
// no command's events are there twice); then, with the server killed at
// rest, "concord verify --data" with the key pinned at the first start,
// every view equal to a rebuild from zero, and the Merkle tree and the
// latest signed checkpoint equal to the log's.
func runHTTPCrashTest(ctx context.Context, plan httpCrashPlan) (httpCrashResult, error) {
	var res httpCrashResult
	if plan.Clients < 1 || plan.Cycles < 1 || plan.MaxRun <= 0 {
		return res, errors.New("crash test: cycles, clients and the run time must be positive")
	}
	data := filepath.Join(plan.Work, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return res, err
	}
	logf, err := os.OpenFile(filepath.Join(plan.Work, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return res, err
	}
	defer logf.Close()
	// The administrator's token, made as "concord token create --admin"
	// does while the server is stopped.
	ts, err := api.OpenTokens(filepath.Join(data, api.TokensFile), api.TokensOptions{})
	if err != nil {
		return res, err
	}
	admin, _, err := ts.Create(ctx, api.TokenSpec{Kind: app.KindAdmin, Label: "crash test"})
	if cerr := ts.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, fmt.Errorf("the administrator's token: %w", err)
	}
	idBytes := make([]byte, 6)
	_, _ = rand.Read(idBytes)
	r := &crashRun{plan: plan, runID: hex.EncodeToString(idBytes), admin: admin,
		year: governance.YearLabel(time.Now().UTC().AddDate(0, -8, 0).Year()),
		http: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: plan.Clients + 1}}}
	r.srv = &crashServer{plan: plan, data: data, log: logf, changed: make(chan struct{})}
	defer r.srv.kill()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := r.srv.start(ctx); err != nil {
		return res, err
	}
	pinned := filepath.Join(plan.Work, "pinned.pub")
	pub, err := os.ReadFile(filepath.Join(data, transparency.PubFile))
	if err != nil {
		return res, fmt.Errorf("pin the public key: %w", err)
	}
	if err := os.WriteFile(pinned, pub, 0o600); err != nil {
		return res, err
	}
	dirToken, people, tokens, err := r.seed(ctx)
	if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}

	gate := newCrashGate(plan.Clients + 2)
	var wg sync.WaitGroup
	for c := adminClient; c < plan.Clients; c++ {
		var person uuid.UUID
		token := admin
		switch {
		case c == directorClient:
			token = dirToken
		case c >= 0:
			person, token = people[c], tokens[c]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.client(ctx, gate, c, person, token, people)
		}()
	}
	defer func() {
		gate.stop()
		cancel()
		wg.Wait()
	}()

	rng := mrand.New(mrand.NewPCG(plan.Seed, 1))
	for cycle := 1; cycle <= plan.Cycles; cycle++ {
		if r.srv.cmd == nil {
			if err := r.srv.start(ctx); err != nil {
				return res, err
			}
		}
		r.mu.Lock()
		before := len(r.ops)
		r.mu.Unlock()
		gate.set(true)
		run := time.Duration(rng.Int64N(int64(plan.MaxRun)))
		select {
		case <-time.After(run):
		case <-ctx.Done():
			return res, ctx.Err()
		}
		r.srv.kill()
		gate.set(false)
		if err := r.srv.start(ctx); err != nil {
			return res, err
		}
		gate.drained()
		if err := r.failed(); err != nil {
			return res, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		r.mu.Lock()
		ops := r.ops
		r.mu.Unlock()
		inflight, fromRetry := 0, 0
		for _, op := range ops[before:] {
			if op.killed {
				inflight++
				if op.replayed {
					fromRetry++
				}
			}
		}
		res.InFlight += inflight
		res.FromRetry += fromRetry

		replayed, err := r.checkReplays(ctx, ops, before, rng)
		res.Replayed += replayed
		if err != nil {
			return res, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		lost, dup, events, err := r.checkLog(ctx, ops)
		res.Lost, res.Duplicated = lost, dup
		if err != nil {
			return res, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		if lost > 0 || dup > 0 {
			return res, fmt.Errorf("cycle %d: %d acknowledged commands lost, %d recorded more than once", cycle, lost, dup)
		}
		// A crash at rest, then the offline checks.
		r.srv.kill()
		cps, err := checkCrashedData(ctx, data, pinned)
		if err != nil {
			return res, fmt.Errorf("cycle %d: %w (the data directory is %s)", cycle, err, data)
		}
		res.Cycles, res.Commands, res.Events, res.Checkpoints = cycle, len(ops), events, cps
		if plan.Out != nil {
			fmt.Fprintf(plan.Out, "cycle %d/%d: killed after %v with %d commands in flight (%d had been recorded), %d acknowledged in all, %d events, %d checkpoints: ok\n",
				cycle, plan.Cycles, run.Round(time.Millisecond), inflight, fromRetry, len(ops), events, cps)
		}
	}
	return res, nil
}

// checkReplays retries, with their keys, every command of this cycle that
// was in flight at the kill and a few acknowledged ones chosen at random:
// each must get its first answer, byte for byte.
func (r *crashRun) checkReplays(ctx context.Context, ops []*crashOp, since int, rng *mrand.Rand) (int, error) {
	var pick []*crashOp
	for _, op := range ops[since:] {
		if op.killed && op.command {
			pick = append(pick, op)
		}
	}
	for range 8 {
		if op := ops[rng.IntN(len(ops))]; op.command {
			pick = append(pick, op)
		}
	}
	for _, op := range pick {
		again := *op
		again.answer, again.killed = nil, false
		if err := r.send(ctx, &again); err != nil {
			return 0, fmt.Errorf("retry of an acknowledged command: %w", err)
		}
		if !bytes.Equal(again.answer, op.answer) {
			return 0, fmt.Errorf("a retry of %s %s (key %s) got %s, not the first answer %s", op.method, op.path, op.key, again.answer, op.answer)
		}
	}
	return len(pick), nil
}

// checkLog reads the whole log through GET /v1/admin/export and counts the
// acknowledged commands whose events are not there as they were answered
// (lost), and those whose command id caused more events than answered
// (duplicated). Every event caused by a command id (the causation id of a
// keyed command's events) must belong to an acknowledged command.
func (r *crashRun) checkLog(ctx context.Context, ops []*crashOp) (lost, dup int, events uint64, err error) {
	url, err := r.srv.current(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/admin/export", nil)
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+r.admin)
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("export: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, 0, 0, fmt.Errorf("export: %s: %s", resp.Status, b)
	}
	var log []eventstore.RecordedEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<16), export.MaxLineSize)
	for sc.Scan() {
		line, err := export.DecodeLine(sc.Bytes())
		if err != nil {
			return 0, 0, 0, fmt.Errorf("export line %d: %w", len(log)+1, err)
		}
		if line.Checkpoint == nil {
			log = append(log, line.Event)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, 0, fmt.Errorf("export: %w", err)
	}
	for i, e := range log {
		if e.Position != uint64(i+1) {
			return 0, 0, 0, fmt.Errorf("export: event %d has position %d", i+1, e.Position)
		}
	}
	caused := map[uuid.UUID]int{} // command id -> events in the log
	for _, e := range log {
		if c := e.Metadata.CausationID; c.Version() == 8 {
			caused[c]++
		}
	}
	claimed := map[uuid.UUID]bool{}
	for _, op := range ops {
		if !op.command || len(op.result.Events) == 0 {
			continue
		}
		var cause uuid.UUID
		ok := true
		for _, ev := range op.result.Events {
			if ev.Position == 0 || ev.Position > uint64(len(log)) {
				ok = false
				break
			}
			e := log[ev.Position-1]
			if e.ID != ev.ID || e.Type != ev.Type || e.Revision != ev.Revision {
				ok = false
				break
			}
			cause = e.Metadata.CausationID
		}
		if !ok {
			lost++
			continue
		}
		if cause.Version() != 8 || claimed[cause] {
			return 0, 0, 0, fmt.Errorf("%s %s (key %s): its events' causation id %s is not a command id of its own", op.method, op.path, op.key, cause)
		}
		claimed[cause] = true
		if caused[cause] != len(op.result.Events) {
			dup++
		}
	}
	for c, n := range caused {
		if !claimed[c] {
			return lost, dup + 1, uint64(len(log)), fmt.Errorf("%d events caused by command %s, which no acknowledged command is", n, c)
		}
	}
	return lost, dup, uint64(len(log)), nil
}

// checkCrashedData checks a killed server's data directory: concord
// verify with the pinned key; opened as the next start would, every view
// equals a fold of the log from zero; the Merkle tree's root equals the
// root of the log's leaves, and the latest signed checkpoint's root that
// of the log's first events. Returns how many checkpoints were signed.
func checkCrashedData(ctx context.Context, data, pinned string) (int, error) {
	var out, errOut bytes.Buffer
	vm := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	if code := vm.Run(ctx, []string{"verify", "--data", data, "--pubkey", pinned}); code != exitOK {
		return 0, fmt.Errorf("concord verify --data: exit %d: %s%s", code, out.String(), errOut.String())
	}
	l, err := ledger.Open(ctx, ledger.Config{DataDir: data, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Transparency: transparency.Options{CheckpointEvery: 1 << 40, CheckpointInterval: time.Hour}})
	if err != nil {
		return 0, fmt.Errorf("open the ledger after the crash: %w", err)
	}
	defer l.Close()
	if err := l.CatchUp(ctx); err != nil {
		return 0, err
	}
	head, err := l.Store.Head(ctx)
	if err != nil {
		return 0, err
	}
	for _, f := range views.All() {
		fresh := f()
		name := fresh.Name()
		if err := projections.Fold(ctx, l.Store, l.Codec, fresh, 1, head, nil); err != nil {
			return 0, fmt.Errorf("rebuild %s from zero: %w", name, err)
		}
		want, err := fresh.MarshalState()
		if err != nil {
			return 0, err
		}
		var got []byte
		pos, err := l.Engine.View(name, func(p projections.Projection) error {
			got, err = p.MarshalState()
			return err
		})
		if err != nil {
			return 0, err
		}
		if pos != head {
			return 0, fmt.Errorf("view %s at position %d after catching up, the head is %d", name, pos, head)
		}
		if !bytes.Equal(got, want) {
			return 0, fmt.Errorf("view %s after the crash (%d bytes) differs from its rebuild from zero (%d bytes)", name, len(got), len(want))
		}
	}
	if err := l.Log.WaitFor(ctx, head); err != nil {
		return 0, err
	}
	tree := transparency.NewMemoryTree()
	for from := uint64(1); from <= head; {
		evs, err := l.Store.ReadAll(ctx, from, 4096)
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			return 0, fmt.Errorf("the log ends at %d, before its head %d", from-1, head)
		}
		if err := tree.AppendEvents(evs); err != nil {
			return 0, err
		}
		from = evs[len(evs)-1].Position + 1
	}
	wantSize, wantRoot := tree.Root()
	if got, err := l.Log.Tree().RootAt(wantSize); err != nil || !bytes.Equal(got, wantRoot) {
		return 0, fmt.Errorf("the Merkle tree's root at size %d is not the root of the log's events (%v)", wantSize, err)
	}
	cps := len(l.Log.Checkpoints())
	cp, err := l.Log.LatestCheckpoint()
	if errors.Is(err, transparency.ErrNoCheckpoint) {
		return cps, nil
	}
	if err != nil {
		return 0, err
	}
	if cp.Size > wantSize {
		return 0, fmt.Errorf("the latest checkpoint is at tree size %d, beyond the log's %d events", cp.Size, wantSize)
	}
	if want, err := tree.RootAt(cp.Size); err != nil || !bytes.Equal(want, cp.Root) {
		return 0, fmt.Errorf("the latest checkpoint (tree size %d) does not sign the log's root at that size (%v)", cp.Size, err)
	}
	return cps, nil
}
