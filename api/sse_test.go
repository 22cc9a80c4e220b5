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

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"

	"github.com/concord-ledger/concord/domain"
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

// assess records a strengths assessment of Staff[1], by themselves (a
// command that can be repeated).
func (w *feedWorld) assess() uint64 {
	w.t.Helper()
	res, err := w.L.Governance.RecordStrengthsAssessment(context.Background(), personMeta(w.Staff[1], domain.RoleStaff), governance.RecordStrengthsAssessment{PersonID: w.Staff[1], Year: feedYear,
		Scores: governance.Strengths{RelationshipBuilding: 60, Executing: 70, StrategicThinking: 50, Influencing: 40}, AssessedOn: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		w.t.Fatal(err)
	}
	return res.Events[0].Position
}

// TestLiveFeedResumesWithoutGapOrDuplicate follows the feed as the
// school's governor, who reads every event of the school (all of this
// world's), names but not contact details.
func TestLiveFeedResumesWithoutGapOrDuplicate(t *testing.T) {
	w := newFeedWorld(t, "")
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
		if ev.Data.Type == "StaffRegistered" {
			if p := personalOf(t, ev.Data); p.Name == "" || p.Email != "" {
				t.Fatalf("a governor is shown %+v: want the name and no contact details: %s", p, ev.Data.Data)
			}
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
	resp, body = w.do(http.MethodGet, "/v1/events/stream?from=x", "director", "")
	wantProblem(t, resp, body, http.StatusBadRequest)
}

// TestLiveFeedShowsEachReaderTheirOwnSchool: the feed sends each caller
// only the events of the records they may read: the governor of one
// school never gets another school's, and the other school's Director
// never gets ours.
func TestLiveFeedShowsEachReaderTheirOwnSchool(t *testing.T) {
	w := newFeedWorld(t, "")
	ours, err := w.L.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	theirs := w.otherSchool()
	mine := w.openFeedAs("governor", "?from=1", "")
	other := w.openFeedAs("other-director", "?from=1", "")
	for p := uint64(1); p <= ours; p++ {
		if ev := mine.next(); ev.ID != p {
			t.Fatalf("own school's feed: id %d, want %d", ev.ID, p)
		}
	}
	for _, p := range theirs {
		if ev := other.next(); ev.ID != p {
			t.Fatalf("the other school's feed: id %d, want %d (its own records only)", ev.ID, p)
		}
	}
	// New events of each school go to that school's reader only.
	pos := w.assess()
	w.must(w.L.Governance.AddSegment(context.Background(), personMeta(w.OtherDirector, domain.RoleDirector),
		governance.AddSegment{SchoolID: w.Other, SegmentID: uuid.New(), Name: "Outdoor learning"}))
	otherPos, err := w.L.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ev := mine.next(); ev.ID != pos || ev.Event != "StrengthsAssessed" {
		t.Fatalf("own school's feed: %d %s, want %d StrengthsAssessed", ev.ID, ev.Event, pos)
	}
	if ev := other.next(); ev.ID != otherPos || ev.Data.Stream != governance.SchoolStream(w.Other) {
		t.Fatalf("the other school's feed sent %d %s in %s, want %d in its school's stream", ev.ID, ev.Event, ev.Data.Stream, otherPos)
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
