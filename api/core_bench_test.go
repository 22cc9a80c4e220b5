package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/concord-ledger/concord/api/app"
)

func BenchmarkTokensAuthenticate(b *testing.B) {
	tok, _ := OpenTokens("", TokensOptions{})
	ctx := context.Background()
	var secret string
	for range 1000 {
		secret, _, _ = tok.Create(ctx, TokenSpec{Kind: app.KindAdmin})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tok.Authenticate(ctx, secret); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpsMiddleware is the cost the serve command's middleware (JSON
// request log to nowhere, metrics, idempotency without a key) adds to a
// request that does almost nothing.
func BenchmarkOpsMiddleware(b *testing.B) {
	for _, withMW := range []bool{false, true} {
		b.Run(fmt.Sprintf("middleware=%v", withMW), func(b *testing.B) {
			env := coreServer(b)
			var mw []func(http.Handler) http.Handler
			if withMW {
				m := NewMetrics()
				mw = append(mw, RequestLog(slog.New(slog.NewJSONHandler(discard{}, nil))), m.Middleware,
					NewIdempotency(env.Tokens, env.Tokens, IdempotencyOptions{}).Middleware)
			}
			srv := New(env.L, Options{Auth: env.Tokens, Logger: coreQuiet, Middleware: mw})
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkIdempotencyRecord measures remembering a response durably
// (bbolt, batched commits) under parallel keyed requests.
func BenchmarkIdempotencyRecord(b *testing.B) {
	tok, err := OpenTokens(filepath.Join(b.TempDir(), TokensFile), TokensOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	secret, _, _ := tok.Create(context.Background(), TokenSpec{Kind: app.KindAdmin})
	h := NewIdempotency(tok, tok, IdempotencyOptions{Logger: coreQuiet}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = reply(w, http.StatusCreated, map[string]string{"ok": "yes"})
	}))
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v1/x", strings.NewReader(`{"a":1}`))
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Idempotency-Key", fmt.Sprint("k", n.Add(1)))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				b.Fatal(w.Code)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
