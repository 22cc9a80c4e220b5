package kurrentdb_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/kurrentdb"
	"github.com/concord-ledger/concord/eventstore/storetest"
	"github.com/google/uuid"
)

// contractMaxEventSize keeps the suite's largest append (one event of
// exactly this canonical size, plus its metadata) under KurrentDB's
// default MaxAppendSize of 1 MiB.
const contractMaxEventSize = 512 << 10

// TestContract runs the contract suite against the KurrentDB server named
// by CONCORD_KURRENTDB_URL. Each store gets a fresh stream prefix, so the
// store sees an empty ledger however many runs the server has seen.
func TestContract(t *testing.T) {
	url := os.Getenv("CONCORD_KURRENTDB_URL")
	if url == "" {
		t.Skip("CONCORD_KURRENTDB_URL is not set: the KurrentDB contract suite needs a running KurrentDB server; see docs/kurrentdb.md")
	}
	opts := storetest.Options{MaxEventSize: contractMaxEventSize, Timeout: 60 * time.Second}
	storetest.RunWithOptions(t, opts, func(t *testing.T) eventstore.Store {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		prefix := "concordtest-" + strings.ReplaceAll(uuid.NewString(), "-", "") + ":"
		s, err := kurrentdb.Open(ctx, url, kurrentdb.Options{StreamPrefix: prefix, MaxEventSize: contractMaxEventSize})
		if err != nil {
			t.Fatalf("open KurrentDB at CONCORD_KURRENTDB_URL: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
