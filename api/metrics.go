package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/eventstore"
)

// Metrics are the server's Prometheus metrics, in a registry of their own
// (so that tests and several servers in one process do not collide).
type Metrics struct {
	// Registry holds every collector below, the Go runtime's and process's
	// collectors, and every collector other files add to extraCollectors.
	Registry *prometheus.Registry
	// Store observes appends (see InstrumentStore).
	Store *StoreMetrics

	requests *prometheus.HistogramVec
}

// StoreMetrics observe the appends of an instrumented store. They are kept
// apart from Metrics because a ledger is opened (and its store wrapped)
// before the server that publishes them is built; one StoreMetrics may be
// published by several registries.
type StoreMetrics struct {
	appendSeconds  *prometheus.HistogramVec
	appendBatch    prometheus.Histogram
	eventsAppended *prometheus.CounterVec
}

// NewStoreMetrics returns unregistered append metrics.
func NewStoreMetrics() *StoreMetrics {
	return &StoreMetrics{
		appendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "concord", Subsystem: "store", Name: "append_duration_seconds",
			Help:    "Time for the event store to acknowledge an append (durable), by outcome.",
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .02, .05, .1, .25, 1},
		}, []string{"outcome"}),
		appendBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "concord", Subsystem: "store", Name: "append_batch_events",
			Help:    "Events per append (one command's events).",
			Buckets: []float64{1, 2, 3, 5, 8, 13, 21, 50, 100},
		}),
		eventsAppended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "concord", Subsystem: "store", Name: "events_appended_total",
			Help: "Events appended through the command handler, by event type.",
		}, []string{"type"}),
	}
}

// NewMetrics returns the metrics with every collector registered and
// append metrics of their own.
func NewMetrics() *Metrics { return NewMetricsWith(NewStoreMetrics()) }

// NewMetricsWith returns the metrics publishing sm as their append
// metrics (sm may already be published elsewhere).
func NewMetricsWith(sm *StoreMetrics) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Store:    sm,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "concord", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
	}
	m.Registry.MustRegister(m.requests, sm.appendSeconds, sm.appendBatch, sm.eventsAppended,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range extraCollectors {
		m.Registry.MustRegister(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// RequestLog logs every request as one structured line (method, path,
// route pattern, status, bytes, duration, request id) at Info, or at
// Error for a 5xx.
func RequestLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			route := routePattern(r)
			logger.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", RequestID(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", route),
				slog.Int("status", sw.status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr))
		})
	}
}

// Middleware observes every request's duration under its route pattern
// (so that /v1/communities/{id} is one series, not one per id).
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		pattern := routePattern(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		m.requests.WithLabelValues(pattern, r.Method, strconv.Itoa(sw.status/100)+"xx").Observe(time.Since(start).Seconds())
	})
}

// routePattern is the route pattern r was (or would have been) routed to,
// "" when none matches. A middleware that answered before routing (an
// idempotent replay) leaves the pattern unset, so it is looked up.
func routePattern(r *http.Request) string {
	rc := chi.RouteContext(r.Context())
	if rc == nil {
		return ""
	}
	if p := rc.RoutePattern(); p != "" {
		return p
	}
	if rc.Routes != nil {
		return rc.Routes.Find(chi.NewRouteContext(), r.Method, r.URL.Path)
	}
	return ""
}

// statusWriter records the status a handler wrote, passing everything on
// (Flush for the live feed; Unwrap for http.ResponseController).
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	bytes       int64
}

func (s *statusWriter) WriteHeader(status int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = status, true
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		s.wroteHeader = true
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// InstrumentStore returns s observed by m: append latency and outcome,
// events per append and events appended by type. Pass it as
// ledger.Config.WrapStore (func(s) { return InstrumentStore(s, m) }).
func InstrumentStore(s eventstore.Store, m *Metrics) eventstore.Store {
	return m.Store.Instrument(s)
}

// Instrument returns s observed by sm.
func (sm *StoreMetrics) Instrument(s eventstore.Store) eventstore.Store {
	return &instrumentedStore{Store: s, m: sm}
}

type instrumentedStore struct {
	eventstore.Store
	m *StoreMetrics
}

// Unwrap returns the store underneath.
func (s *instrumentedStore) Unwrap() eventstore.Store { return s.Store }

func (s *instrumentedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	start := time.Now()
	res, err := s.Store.Append(ctx, stream, expected, events...)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.m.appendSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	if err == nil {
		s.m.appendBatch.Observe(float64(len(events)))
		for _, e := range events {
			s.m.eventsAppended.WithLabelValues(e.Type).Inc()
		}
	}
	return res, err
}

// WatchLedger adds l's projection progress to m: lag (events behind the
// head), position and whether each projection has failed, read from
// l.Engine.Status at every scrape.
func (m *Metrics) WatchLedger(l *ledger.Ledger) error {
	return m.Registry.Register(&projectionCollector{l: l})
}

var (
	descLag      = prometheus.NewDesc("concord_projection_lag_events", "Events between the log's head and a projection's position.", []string{"projection"}, nil)
	descPosition = prometheus.NewDesc("concord_projection_position", "The last log position a projection has applied.", []string{"projection"}, nil)
	descFailed   = prometheus.NewDesc("concord_projection_failed", "1 when a projection stopped on an event it could not apply.", []string{"projection"}, nil)
	descHead     = prometheus.NewDesc("concord_store_head_position", "The position of the last acknowledged event.", nil, nil)
	descAudit    = prometheus.NewDesc("concord_transparency_audit_failed", "1 once the transparency log's self-audit found the log no longer matches a checkpoint it signed (signing has then stopped).", nil, nil)
	descAuditPos = prometheus.NewDesc("concord_transparency_audit_first_bad_position", "The first position the failed self-audit says may have changed (0 while it holds).", nil, nil)
)

type projectionCollector struct{ l *ledger.Ledger }

func (c *projectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLag
	ch <- descPosition
	ch <- descFailed
	ch <- descHead
	ch <- descAudit
	ch <- descAuditPos
}

func (c *projectionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if head, err := c.l.Store.Head(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descHead, prometheus.GaugeValue, float64(head))
	}
	if c.l.Log != nil {
		failed, first := 0.0, 0.0
		if e := c.l.Log.AuditFailure(); e != nil {
			failed, first = 1, float64(e.FirstBad)
		}
		ch <- prometheus.MustNewConstMetric(descAudit, prometheus.GaugeValue, failed)
		ch <- prometheus.MustNewConstMetric(descAuditPos, prometheus.GaugeValue, first)
	}
	for _, st := range c.l.Engine.Status(ctx) {
		failed := 0.0
		if st.Failure != nil {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(st.Lag), st.Name)
		ch <- prometheus.MustNewConstMetric(descPosition, prometheus.GaugeValue, float64(st.Position), st.Name)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.GaugeValue, failed, st.Name)
	}
}
