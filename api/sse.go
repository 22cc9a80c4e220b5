package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/concord-ledger/concord/api/app"
	"github.com/prometheus/client_golang/prometheus"
)

// SSEHeartbeat is how often the live feed sends a comment line when no
// event comes, so proxies keep the connection open and clients notice a
// dead one.
var SSEHeartbeat = 15 * time.Second

// Live-feed limits. A feed holds a connection, a goroutine and a
// subscription for as long as the client stays, so a server takes at most
// MaxLiveFeeds of them and each caller (a token; for the web pages, a
// signed-in person) at most MaxLiveFeedsPerCaller; further ones are
// answered 429 with Retry-After: LiveFeedRetryAfter seconds. Set them
// before serving.
var (
	MaxLiveFeeds          = 256
	MaxLiveFeedsPerCaller = 4
	LiveFeedRetryAfter    = 5
)

var liveFeedClients = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "concord_live_feed_clients",
	Help: "Clients connected to the live feed (GET /v1/events/stream).",
})

func init() { extraCollectors = append(extraCollectors, liveFeedClients) }

// liveFeeds are the open live-feed connections of each Server, so that a
// graceful shutdown can end them (http.Server.Shutdown waits for every
// handler, and a feed never ends on its own).
var liveFeeds sync.Map // *Server → *feedSet

type feedSet struct {
	mu      sync.Mutex
	feeds   map[chan struct{}]string // stop channel -> caller
	callers map[string]int           // open feeds per caller
	closed  bool
	changed chan struct{} // closed and replaced when a feed ends
}

func (s *Server) feeds() *feedSet {
	fs, _ := liveFeeds.LoadOrStore(s, &feedSet{feeds: map[chan struct{}]string{}, callers: map[string]int{}, changed: make(chan struct{})})
	return fs.(*feedSet)
}

// CloseLiveFeeds ends every open live feed of s and refuses new ones
// (they answer 503). Call it when shutting down, e.g. from
// http.Server.RegisterOnShutdown, so that Shutdown does not wait for
// feeds that would never end.
func (s *Server) CloseLiveFeeds() {
	fs := s.feeds()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closed {
		return
	}
	fs.closed = true
	for c := range fs.feeds {
		close(c)
	}
}

// add registers a feed of caller, or returns the problem that refuses it:
// 503 while shutting down, 429 over a limit.
func (fs *feedSet) add(caller string) (chan struct{}, *Problem) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case fs.closed:
		return nil, problem(http.StatusServiceUnavailable, "shutting-down", "The ledger is shutting down", "reconnect in a moment")
	case len(fs.feeds) >= MaxLiveFeeds:
		return nil, problem(http.StatusTooManyRequests, "too-many-feeds", "Too many live feeds",
			"the server has its %d live feeds open; retry later", MaxLiveFeeds)
	case fs.callers[caller] >= MaxLiveFeedsPerCaller:
		return nil, problem(http.StatusTooManyRequests, "too-many-feeds", "Too many live feeds",
			"you already have %d live feeds open, the most one caller may; close one, or retry later", MaxLiveFeedsPerCaller)
	}
	c := make(chan struct{})
	fs.feeds[c] = caller
	fs.callers[caller]++
	return c, nil
}

func (fs *feedSet) remove(c chan struct{}) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	caller, ok := fs.feeds[c]
	if !ok {
		return
	}
	delete(fs.feeds, c)
	if fs.callers[caller]--; fs.callers[caller] <= 0 {
		delete(fs.callers, caller)
	}
	close(fs.changed)
	fs.changed = make(chan struct{})
}

// feedCaller names the caller of r for the per-caller limit.
func feedCaller(p app.Actor) string {
	if p.TokenID != "" {
		return "token:" + p.TokenID
	}
	return string(p.Kind) + ":" + p.PersonID.String()
}

// streamEvents answers GET /v1/events/stream: every event from a
// position on, then each new one as it is recorded, as Server-Sent
// Events (id: position, event: type, data: the LedgerEvent JSON).
//
// It starts after the position in the Last-Event-ID header (a reconnect
// resumes with no gap and no duplicate), else at ?from=N (included), else
// with the next event recorded. ?type= and ?stream= filter the events
// sent. A comment line is sent every SSEHeartbeat when nothing else is.
// Beyond MaxLiveFeeds, or MaxLiveFeedsPerCaller for one caller, it answers
// 429 with Retry-After. A feed has no read deadline (see BodyDeadline).
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var from uint64
	if h := strings.TrimSpace(r.Header.Get("Last-Event-ID")); h != "" {
		last, err := strconv.ParseUint(h, 10, 64)
		if err != nil {
			return badRequest("Last-Event-ID %q is not a ledger position", h)
		}
		from = last + 1
	} else if q := r.URL.Query().Get("from"); q != "" {
		n, err := strconv.ParseUint(q, 10, 64)
		if err != nil || n == 0 {
			return badRequest("from %q is not a ledger position (positions start at 1)", q)
		}
		from = n
	} else {
		head, err := s.L.Store.Head(ctx)
		if err != nil {
			return err
		}
		from = head + 1
	}
	typ, stream := r.URL.Query().Get("type"), r.URL.Query().Get("stream")
	// The caller is sent only the events they may read.
	er, err := s.newEventReader(ctx, caller(r))
	if err != nil {
		return err
	}

	stop, refused := s.feeds().add(feedCaller(caller(r)))
	if refused != nil {
		w.Header().Set("Retry-After", strconv.Itoa(LiveFeedRetryAfter))
		return refused
	}
	defer s.feeds().remove(stop)
	sub, err := s.L.Store.Subscribe(ctx, from)
	if err != nil {
		return err
	}
	defer sub.Close()

	liveFeedClients.Inc()
	defer liveFeedClients.Dec()

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a feed outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "retry: 2000\n: concord live feed from position %d\n\n", from)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := flush(); err != nil {
		return nil
	}

	beat := time.NewTicker(SSEHeartbeat)
	defer beat.Stop()
	events := sub.Events()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-stop:
			fmt.Fprint(bw, ": the ledger is shutting down\n\n")
			_ = flush()
			return nil
		case <-beat.C:
			fmt.Fprint(bw, ": heartbeat\n\n")
			if flush() != nil {
				return nil
			}
		case e, ok := <-events:
			if !ok {
				if err := sub.Err(); err != nil && ctx.Err() == nil {
					s.Logger.Warn("live feed ended", "request_id", RequestID(ctx), "err", err)
				}
				return nil
			}
			see := false
			if (typ == "" || e.Type == typ) && (stream == "" || e.StreamID == stream) {
				if see, err = er.visible(e); err != nil {
					s.Logger.Warn("live feed ended", "request_id", RequestID(ctx), "err", err)
					return nil
				}
			}
			if see {
				data, err := json.Marshal(er.render(e))
				if err != nil {
					return nil
				}
				fmt.Fprintf(bw, "id: %d\nevent: %s\ndata: %s\n\n", e.Position, e.Type, data)
			}
			// Flush when the subscription has nothing more ready, so a
			// catch-up is sent in large writes.
			if len(events) == 0 && bw.Buffered() > 0 {
				if flush() != nil {
					return nil
				}
				beat.Reset(SSEHeartbeat)
			}
		}
	}
}
