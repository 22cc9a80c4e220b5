package segment

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// A scanner whose preads ask for little at a time (scanner.chunk) reads
// the same frames as one that fills its whole buffer, whatever the
// frames' sizes against the chunk: frames that straddle a read are
// completed by the next.
func TestScannerReadsTheSameFramesWhateverItsChunk(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Logger: quietLogger(), IndexInterval: time.Hour})
	for i := range 500 {
		e := newEvent(i)
		e.Data = fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i, strings.Repeat("x", (i*37)%3000))
		mustAppend(t, s, fmt.Sprintf("scan-%d", i%7), eventstore.Any(), e)
	}
	if err := s.indexOnce(); err != nil {
		t.Fatal(err)
	}
	frames := func(chunk int) [][]byte {
		segs := *s.segs.Load()
		sc := newScanner(segs, 0, 0)
		defer sc.release()
		sc.chunk = chunk
		var out [][]byte
		for {
			p, st, err := sc.next()
			if err != nil {
				t.Fatal(err)
			}
			if st != frameOK {
				return out
			}
			out = append(out, bytes.Clone(p))
		}
	}
	whole := frames(0)
	if len(whole) != 500 {
		t.Fatalf("%d frames scanned, want 500", len(whole))
	}
	for _, chunk := range []int{1, 7, 100, 1000, 4096, minChunk} {
		got := frames(chunk)
		if len(got) != len(whole) {
			t.Fatalf("chunk %d: %d frames, want %d", chunk, len(got), len(whole))
		}
		for i := range got {
			if !bytes.Equal(got[i], whole[i]) {
				t.Fatalf("chunk %d: frame %d differs", chunk, i)
			}
		}
	}
	// A range read (which sets the chunk) answers what a full read does.
	all, err := s.ReadAll(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []uint64{1, 63, 64, 65, 300} {
		part, err := s.ReadAll(context.Background(), from, 3)
		if err != nil || len(part) != 3 || part[0].Position != all[from-1].Position || !bytes.Equal(part[2].Data, all[from+1].Data) {
			t.Errorf("ReadAll(%d, 3) = %d events, err %v", from, len(part), err)
		}
	}
}
