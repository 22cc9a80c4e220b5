package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/api/web"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// Shutdown timing: requests get drainTimeout to finish once the server
// stops accepting; after streamGrace the requests still open (live-feed
// streams) have their context cancelled so that they end.
const (
	drainTimeout = 15 * time.Second
	streamGrace  = 2 * time.Second
)

// storeMetrics observe every append of the ledgers this process opens
// through withStoreMetrics; each served registry publishes them.
var storeMetrics = api.NewStoreMetrics()

// withStoreMetrics returns cfg with its command handler's store observed
// by storeMetrics (append latency, batch size, events by type).
func withStoreMetrics(cfg ledger.Config) ledger.Config {
	cfg.WrapStore = storeMetrics.Instrument
	return cfg
}

func init() {
	register(command{
		name:    "serve",
		summary: "serve the HTTP API, the web pages and /metrics over a data directory",
		run:     runServe,
	})
	demoServe = serveLedger
}

// envOr returns the flag's value when it was given, else the environment
// variable's, else def.
func envOr(m *Main, flagValue, env, def string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := m.Getenv(env); v != "" {
		return v
	}
	return def
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, Usagef("log level %q: use debug, info, warn or error", s)
	}
	return l, nil
}

type loggerKey struct{}

// metricsAddrKey carries --metrics-addr from runServe to serveLedger.
type metricsAddrKey struct{}

// bodyTimeoutKey carries serve's --body-timeout to serveLedger.
type bodyTimeoutKey struct{}

// serveLogger is the JSON logger of a served ledger: the one runServe put
// on ctx, else one at $CONCORD_LOG_LEVEL (default info) on m.Stderr.
func serveLogger(ctx context.Context, m *Main) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	level, err := parseLevel(envOr(m, "", "CONCORD_LOG_LEVEL", "info"))
	if err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}

func runServe(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("serve", "[--data DIR] [--addr HOST:PORT] [--metrics-addr HOST:PORT] [--kurrentdb URL] [--log-level LEVEL] [--body-timeout D] [--checkpoint-interval D] [--memory-limit SIZE]")
	data := fs.String("data", "", "data `directory` of the ledger (default $CONCORD_DATA; required)")
	addr := fs.String("addr", "", "`address` to listen on (default $CONCORD_ADDR, else 127.0.0.1:8080)")
	kurrent := fs.String("kurrentdb", "", "KurrentDB `URL` to keep events in instead of the data directory (default $CONCORD_KURRENTDB_URL)")
	metricsAddr := fs.String("metrics-addr", "", "also serve /metrics without a token on this `address` (default $CONCORD_METRICS_ADDR; keep it on a private network; it also serves the profiler under /debug/pprof/); on --addr /metrics needs an admin token")
	levelFlag := fs.String("log-level", "", "`level` of the JSON logs on stderr: debug, info, warn, error (default $CONCORD_LOG_LEVEL, else info)")
	bodyTimeout := fs.Duration("body-timeout", api.DefaultBodyTimeout, "how long a request may take to send its body (answered 408 after that; the live feed is not affected)")
	checkpointEvery := fs.Duration("checkpoint-interval", transparency.DefaultCheckpointInterval, "sign a checkpoint this often when events were appended (also every 1000 events)")
	memoryLimit := fs.String("memory-limit", "", "soft memory `size` the Go runtime keeps to, such as 700MiB (default $CONCORD_MEMORY_LIMIT, else $GOMEMLIMIT, else none): the collector works harder near it instead of letting the heap grow to twice what is live")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *bodyTimeout <= 0 {
		return Usagef("--body-timeout must be positive")
	}
	if *checkpointEvery <= 0 {
		return Usagef("--checkpoint-interval must be positive")
	}
	ctx = context.WithValue(ctx, bodyTimeoutKey{}, *bodyTimeout)
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments: %v", fs.Args())
	}
	dir := envOr(m, *data, "CONCORD_DATA", "")
	if dir == "" {
		return Usagef("--data (or CONCORD_DATA) is required")
	}
	level, err := parseLevel(envOr(m, *levelFlag, "CONCORD_LOG_LEVEL", "info"))
	if err != nil {
		return err
	}
	if _, err := applyMemoryLimit(envOr(m, *memoryLimit, "CONCORD_MEMORY_LIMIT", "")); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = context.WithValue(ctx, loggerKey{}, logger)
	ctx = context.WithValue(ctx, metricsAddrKey{}, envOr(m, *metricsAddr, "CONCORD_METRICS_ADDR", ""))

	l, err := ledger.Open(ctx, withStoreMetrics(ledger.Config{DataDir: dir, KurrentDBURL: envOr(m, *kurrent, "CONCORD_KURRENTDB_URL", ""), Logger: logger,
		Transparency: transparency.Options{CheckpointInterval: *checkpointEvery}}))
	if err != nil {
		return err
	}
	err = serveLedger(ctx, m, l, envOr(m, *addr, "CONCORD_ADDR", "127.0.0.1:8080"), func(url string) {
		fmt.Fprintf(m.Stdout, "Concord is serving %s at %s\n", dir, url)
	})
	if cerr := l.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close the ledger: %w", cerr)
	}
	if err == nil {
		logger.Info("stopped")
	}
	return err
}

// serveLedger serves l — the API, the web pages and /metrics — on addr,
// following the log into the projections in the background, and calls
// ready with the server's URL once it listens. When ctx ends it shuts down
// gracefully: it stops accepting, lets requests drain (streams are ended
// after a short grace), stops the projections and closes the token store.
// Closing l is left to the caller, who opened it.
func serveLedger(ctx context.Context, m *Main, l *ledger.Ledger, addr string, ready func(url string)) error {
	logger := serveLogger(ctx, m)
	tokensPath := ""
	if l.DataDir != "" {
		tokensPath = filepath.Join(l.DataDir, api.TokensFile)
	}
	tokens, err := api.OpenTokens(tokensPath, api.TokensOptions{})
	if err != nil {
		return err
	}
	defer tokens.Close()

	metrics := api.NewMetricsWith(storeMetrics)
	if err := metrics.WatchLedger(l); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	idem := api.NewIdempotency(tokens, tokens, api.IdempotencyOptions{Logger: logger, Log: l.Store})
	bodyTimeout, _ := ctx.Value(bodyTimeoutKey{}).(time.Duration)
	var srv *api.Server
	srv = api.New(l, api.Options{
		Auth:       tokens,
		Logger:     logger,
		Middleware: []func(http.Handler) http.Handler{api.RequestLog(logger), metrics.Middleware, api.BodyDeadline(bodyTimeout), idem.Middleware},
		Mount: func(r chi.Router) {
			// srv is set once New returns, before any request.
			mh := metrics.Handler()
			r.Method(http.MethodGet, "/metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				srv.Protect("ReadMetrics", mh).ServeHTTP(w, r)
			}))
			web.MountFunc(r, func() *api.Server { return srv })
		},
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen on %s: another program is using that address; choose a free one with --addr (or CONCORD_ADDR), e.g. --addr 127.0.0.1:0 for any free port: %w", addr, err)
		}
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	// Requests' contexts descend from base, cancelled streamGrace into the
	// shutdown so that live-feed streams end instead of holding it up.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	var wg sync.WaitGroup
	runErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := l.Run(runCtx); err != nil {
			logger.Error("projections stopped", "err", err)
			runErr <- err
		}
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	if maddr, _ := ctx.Value(metricsAddrKey{}).(string); maddr != "" {
		mln, err := net.Listen("tcp", maddr)
		if err != nil {
			_ = hs.Close()
			return fmt.Errorf("listen for metrics on %s: %w", maddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		// The private listener also serves the Go profiler, for an
		// operator asking where a slow request spends its time.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ms.Serve(mln) }()
		defer ms.Close()
		logger.Info("serving metrics", "url", "http://"+mln.Addr().String()+"/metrics")
	}

	url := "http://" + ln.Addr().String()
	if host, port, err := net.SplitHostPort(ln.Addr().String()); err == nil && (host == "::" || host == "0.0.0.0") {
		url = "http://" + net.JoinHostPort("localhost", port)
	}
	logger.Info("serving", "url", url, "data", l.DataDir, "backend", l.Backend)
	if ready != nil {
		ready(url)
	}

	var failure error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "drain_timeout", drainTimeout.String())
	case err := <-serveErr:
		failure = fmt.Errorf("serve: %w", err)
	case err := <-runErr:
		failure = fmt.Errorf("projections: %w", err)
	}

	grace := time.AfterFunc(streamGrace, cancelBase)
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), drainTimeout)
	if err := hs.Shutdown(drainCtx); err != nil {
		logger.Warn("requests still running at the drain timeout were cut", "err", err)
		_ = hs.Close()
	}
	cancelDrain()
	grace.Stop()
	stopRun()
	wg.Wait()
	if failure != nil && !errors.Is(failure, http.ErrServerClosed) {
		return failure
	}
	return nil
}
