package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/concord-ledger/concord/domain/governance"
)

// sseEvent is one event read from a live feed.
type sseEvent struct {
	ID    uint64
	Event string
	Data  LedgerEvent
}

// sseClient reads a live feed.
type sseClient struct {
	t        *testing.T
	resp     *http.Response
	r        *bufio.Reader
	comments []string
	cancel   context.CancelFunc
}

func (w *feedWorld) openFeed(query, lastID string) *sseClient {
	w.t.Helper()
	return w.openFeedAs("governor", query, lastID)
}

func (w *feedWorld) openFeedAs(token, query, lastID string) *sseClient {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.HTTP.URL+"/v1/events/stream"+query, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		w.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		w.t.Fatalf("feed: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{t: w.t, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	w.t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() { c.cancel(); c.resp.Body.Close() }

// next returns the next event, collecting comment lines on the way.
func (c *sseClient) next() sseEvent {
	c.t.Helper()
	var ev sseEvent
	has := false
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("feed read: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if has {
				return ev
			}
		case strings.HasPrefix(line, ":"):
			c.comments = append(c.comments, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "id: "):
			ev.ID, err = strconv.ParseUint(line[4:], 10, 64)
			if err != nil {
				c.t.Fatalf("id line %q", line)
			}
			has = true
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.Data); err != nil {
				c.t.Fatalf("data line %q: %v", line, err)
			}
		}
	}
}

// assess records a strengths assessment (a command that can be repeated).
func (w *feedWorld) assess() uint64 {
	w.t.Helper()
	res, err := w.L.Governance.RecordStrengthsAssessment(context.Background(), w.meta, governance.RecordStrengthsAssessment{PersonID: w.Staff[1], Year: "2025-26",
		Scores: governance.Strengths{RelationshipBuilding: 60, Executing: 70, StrategicThinking: 50, Influencing: 40}})
	if err != nil {
		w.t.Fatal(err)
	}
	return res.Events[0].Position
}

func TestLiveFeedResumesWithoutGapOrDuplicate(t *testing.T) {
	w := newFeedWorld(t, "")
	w.Auth["governor"] = Principal{Role: RoleGovernor}
	head, err := w.L.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// From position 1: the history, then a new event as it is recorded.
	c := w.openFeed("?from=1", "")
	for p := uint64(1); p <= head; p++ {
		ev := c.next()
		if ev.ID != p || ev.Data.Position != p || ev.Event != ev.Data.Type {
			t.Fatalf("event %d: id %d, data position %d, event %q type %q", p, ev.ID, ev.Data.Position, ev.Event, ev.Data.Type)
		}
		if ev.Data.Type == "StaffRegistered" && personalOf(t, ev.Data).Name == "" {
			t.Fatalf("personal data not shown in the feed: %s", ev.Data.Data)
		}
	}
	pos := w.assess()
	ev := c.next()
	if ev.ID != pos || ev.Event != "StrengthsAssessed" {
		t.Fatalf("live event: id %d %s, want %d StrengthsAssessed", ev.ID, ev.Event, pos)
	}
	c.close()

	// Events recorded while disconnected come first after a reconnect
	// with Last-Event-ID, and the last one seen does not come again.
	missed := []uint64{w.assess(), w.assess()}
	c = w.openFeed("", strconv.FormatUint(pos, 10))
	for _, want := range missed {
		if ev := c.next(); ev.ID != want {
			t.Fatalf("after reconnect: id %d, want %d", ev.ID, want)
		}
	}
	later := w.assess()
	if ev := c.next(); ev.ID != later {
		t.Fatalf("live after reconnect: id %d, want %d", ev.ID, later)
	}

	// Without a position the feed starts with the next event; filters
	// apply.
	c2 := w.openFeed("?type=StrengthsAssessed&stream="+governance.PersonStream(w.Staff[1]), "")
	next := w.assess()
	if ev := c2.next(); ev.ID != next {
		t.Fatalf("new feed: id %d, want %d", ev.ID, next)
	}
}

func TestLiveFeedHeartbeatsAndShutdown(t *testing.T) {
	old := SSEHeartbeat
	SSEHeartbeat = 10 * time.Millisecond
	t.Cleanup(func() { SSEHeartbeat = old })
	w := newFeedWorld(t, "")
	w.Auth["governor"] = Principal{Role: RoleGovernor}
	c := w.openFeed("", "")
	for !containsString(c.comments, "heartbeat") {
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, ":") {
			c.comments = append(c.comments, strings.TrimSpace(line[1:]))
		}
	}
	before := gaugeValue(t)
	if before < 1 {
		t.Fatalf("live feed clients gauge = %v with a feed open", before)
	}
	w.S.CloseLiveFeeds()
	// The feed ends (EOF) rather than hanging.
	for {
		if _, err := c.r.ReadString('\n'); err != nil {
			break
		}
	}
	if after := gaugeValue(t); after != before-1 {
		t.Fatalf("live feed clients gauge = %v after the feed ended, want %v", after, before-1)
	}
	resp, body := w.do(http.MethodGet, "/v1/events/stream", "governor", "")
	wantProblem(t, resp, body, http.StatusServiceUnavailable)
	resp, body = w.do(http.MethodGet, "/v1/events/stream?from=x", "admin", "")
	wantProblem(t, resp, body, http.StatusBadRequest)
}

func TestLiveFeedOfASchoolScopedToken(t *testing.T) {
	w := newFeedWorld(t, "")
	w.Auth["governor"] = Principal{Role: RoleGovernor, SchoolID: w.School}
	other := w.openFeedAs("other-director", "?from=1", "")
	mine := w.openFeedAs("governor", "?from=1", "")
	head, _ := w.L.Store.Head(context.Background())
	for p := uint64(1); p <= head; p++ {
		if ev := mine.next(); ev.ID != p {
			t.Fatalf("own school's feed: id %d, want %d", ev.ID, p)
		}
	}
	// A new school's event is not sent to the other school's token; the
	// first it sees is one naming its own school.
	w.must(w.L.Governance.RegisterSchool(context.Background(), w.meta, governance.RegisterSchool{SchoolID: w.Auth["other-director"].SchoolID, Name: "Hill School"}))
	if ev := other.next(); ev.Event != "SchoolRegistered" || ev.Data.Stream != governance.SchoolStream(w.Auth["other-director"].SchoolID) {
		t.Fatalf("other school's feed sent %d %s in %s", ev.ID, ev.Event, ev.Data.Stream)
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func gaugeValue(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	if err := liveFeedClients.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
