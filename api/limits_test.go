package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestSlowBodyIsCutButNotTheLiveFeed: a request whose body does not come
// within the body deadline is answered 408 problem+json and records
// nothing, while a live feed opened before it, on the same server, outlives
// that deadline and still delivers the next event.
func TestSlowBodyIsCutButNotTheLiveFeed(t *testing.T) {
	const deadline = 300 * time.Millisecond
	w := newFeedWorld(t, "")
	w.S = New(w.L, Options{Auth: w.Auth, Logger: coreQuiet, Middleware: []func(http.Handler) http.Handler{BodyDeadline(deadline)}})
	srv := httptest.NewServer(w.S)
	t.Cleanup(func() { w.S.CloseLiveFeeds(); srv.Close() })
	w.HTTP = srv

	feed := w.openFeed("", "")
	head := func() uint64 {
		h, err := w.L.Store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := head()

	// Headers, then a tenth of the announced body, then nothing.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := fmt.Sprintf(`{"school_id":%q,"name":"Slow School"}`, uuid.NewString())
	fmt.Fprintf(conn, "POST /v1/schools HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer admin\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(body), body[:len(body)/10])
	started := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the slow body: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("slow body: %s %s, want 408 problem+json", resp.Status, resp.Header.Get("Content-Type"))
	}
	var p Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || p.Code != "body-timeout" {
		t.Fatalf("problem %+v %v", p, err)
	}
	if waited := time.Since(started); waited < deadline/2 {
		t.Fatalf("answered after %v, before the deadline of %v", waited, deadline)
	}
	if got := head(); got != before {
		t.Fatalf("the cut request recorded something: head %d -> %d", before, got)
	}

	// The feed, open since before the slow request began, is past the
	// deadline and still delivers.
	pos := w.assess()
	if ev := feed.next(); ev.ID != pos {
		t.Fatalf("the feed delivered %d, want %d", ev.ID, pos)
	}

	// A body sent at once is served as before.
	resp2, b := w.do(http.MethodPost, "/v1/schools", "admin", fmt.Sprintf(`{"school_id":%q,"name":"Quick School"}`, uuid.NewString()))
	if resp2.StatusCode != http.StatusCreated {
		t.Fatalf("a prompt body: %s %s", resp2.Status, b)
	}
}

// TestLiveFeedLimits: a caller gets at most MaxLiveFeedsPerCaller feeds and
// the server at most MaxLiveFeeds; beyond, 429 problem+json with
// Retry-After, and a slot freed by a closed feed can be taken again.
func TestLiveFeedLimits(t *testing.T) {
	oldTotal, oldPer := MaxLiveFeeds, MaxLiveFeedsPerCaller
	MaxLiveFeeds, MaxLiveFeedsPerCaller = 3, 2
	t.Cleanup(func() { MaxLiveFeeds, MaxLiveFeedsPerCaller = oldTotal, oldPer })
	w := newFeedWorld(t, "")

	refused := func(token string) Problem {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.HTTP.URL+"/v1/events/stream", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != fmt.Sprint(LiveFeedRetryAfter) ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("feed over the limit for %s: %s, Retry-After %q, %s", token, resp.Status, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
		}
		var p Problem
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}

	g1 := w.openFeedAs("governor", "", "")
	w.openFeedAs("governor", "", "")
	if p := refused("governor"); !strings.Contains(p.Detail, "2 live feeds") {
		t.Errorf("per-caller refusal says %q", p.Detail)
	}
	w.openFeedAs("director", "", "") // the third feed of the server
	if p := refused("staff"); !strings.Contains(p.Detail, "3 live feeds") {
		t.Errorf("server-wide refusal says %q", p.Detail)
	}

	// Closing a feed frees its slot once the server has seen it go.
	fs := w.S.feeds()
	fs.mu.Lock()
	changed := fs.changed
	fs.mu.Unlock()
	g1.close()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not notice the closed feed")
	}
	w.openFeedAs("staff", "", "")
}
