package transparency_test

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// record is where one event lies in a segment file.
type record struct {
	seg        string
	start, end int64 // byte range of the frame
	position   uint64
}

// frames maps the records of a segment file (u32 length, u32 CRC, then
// the canonical event, whose bytes 1..8 are its position).
func frames(t *testing.T, path string) ([]record, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	off := int64(0)
	for off+8 <= int64(len(b)) {
		n := int64(binary.BigEndian.Uint32(b[off:]))
		if n == 0 {
			break
		}
		pos := binary.BigEndian.Uint64(b[off+8+1:])
		out = append(out, record{seg: filepath.Base(path), start: off, end: off + 8 + n, position: pos})
		off += 8 + n
	}
	return out, off
}

func flip(t *testing.T, path string, off int64, x byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= x
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// fixCRC recomputes the CRC-32C of rec's frame, as a forger would.
func fixCRC(t *testing.T, path string, rec record) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	payload := make([]byte, rec.end-rec.start-8)
	if _, err := f.ReadAt(payload, rec.start+8); err != nil {
		t.Fatal(err)
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	if _, err := f.WriteAt(sum[:], rec.start+4); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, src); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStoreFileTamper changes the segment files of a closed store, reopens
// it and re-verifies it against its checkpoints (VerifyStore, anchored on
// checkpoint.latest). Mutations: a byte flipped, a segment cut short, a
// byte changed with the frame's CRC recomputed (a forger who knows the
// format), a segment cut with the later segments and the index removed
// (so the store's recovery takes it for a torn tail). Every change to an
// event that a checkpoint covers must be detected: by the segment store's
// own checks at open or read, or by the Merkle re-verification.
func TestStoreFileTamper(t *testing.T) {
	if testing.Short() {
		t.Skip("reopens a store a few hundred times")
	}
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	opts := segment.Options{Logger: quiet, SegmentSize: 16 << 10}
	pristine := t.TempDir()
	s, err := segment.Open(ctx, filepath.Join(pristine, "events"), opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := transparency.Open(ctx, s, pristine, transparency.Options{Logger: quiet, CheckpointEvery: 50, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		appendN(t, s, "stream-"+string(rune('a'+i)), 50)
		l.WaitFor(ctx, head(t, s))
		if _, err := l.SignCheckpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	appendN(t, s, "tail", 3) // covered by the checkpoint signed at Close
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	v, err := transparency.ReadVerifier(filepath.Join(pristine, transparency.PubFile))
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := os.ReadFile(filepath.Join(pristine, transparency.LatestFile))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := transparency.ParseCheckpoint(anchor, v)
	if err != nil {
		t.Fatal(err)
	}

	segs, _ := filepath.Glob(filepath.Join(pristine, "events", "*.seg"))
	sort.Strings(segs)
	var recs []record
	dataEnd := map[string]int64{}
	for _, p := range segs {
		r, end := frames(t, p)
		recs = append(recs, r...)
		dataEnd[filepath.Base(p)] = end
	}
	if len(segs) < 3 || uint64(len(recs)) != cp.Size+1 {
		t.Fatalf("%d segments, %d records, checkpoint size %d: want several segments and one event after the checkpoint", len(segs), len(recs), cp.Size)
	}

	// check reopens a mutated copy and says who caught the damage.
	check := func(dir string) string {
		st, err := segment.Open(ctx, filepath.Join(dir, "events"), opts)
		if err != nil {
			if !errors.Is(err, eventstore.ErrCorrupt) {
				t.Logf("open failed without ErrCorrupt: %v", err)
			}
			return "store at open"
		}
		defer st.Close()
		_, err = transparency.VerifyStore(ctx, st, v, anchor)
		var ve *transparency.VerifyError
		switch {
		case err == nil:
			return ""
		case errors.As(err, &ve):
			return "merkle: " + string(ve.Problem)
		case errors.Is(err, eventstore.ErrCorrupt):
			return "store at read"
		default:
			return "other: " + err.Error()
		}
	}

	r := rand.New(rand.NewPCG(11, 13))
	const cycles = 200
	caught := map[string]int{}
	kinds := map[int]int{}
	var covered, coveredCaught, uncovered, uncoveredCaught int
	for i := 0; i < cycles; i++ {
		dir := t.TempDir()
		copyDir(t, pristine, dir)
		rec := recs[r.IntN(len(recs))]
		path := filepath.Join(dir, "events", rec.seg)
		kinds[i%4]++
		off := rec.start + r.Int64N(rec.end-rec.start)
		first := rec.position // first position the change touches
		switch i % 4 {
		case 0: // change one byte of the record
			flip(t, path, off, byte(1+r.IntN(255)))
		case 1: // cut the segment inside the record
			if err := os.Truncate(path, off); err != nil {
				t.Fatal(err)
			}
		case 2: // forge: change a payload byte and fix the frame's CRC
			off = rec.start + 8 + r.Int64N(rec.end-rec.start-8)
			flip(t, path, off, byte(1+r.IntN(255)))
			fixCRC(t, path, rec)
		case 3: // cut the segment and drop the index, so that recovery
			// takes the cut for a torn tail
			if err := os.Truncate(path, off); err != nil {
				t.Fatal(err)
			}
			for _, later := range segs {
				if filepath.Base(later) > rec.seg {
					os.Remove(filepath.Join(dir, "events", filepath.Base(later)))
				}
			}
			if err := os.Remove(filepath.Join(dir, "events", "index.bolt")); err != nil {
				t.Fatal(err)
			}
		}
		who := check(dir)
		caught[who]++
		if first <= cp.Size {
			covered++
			if who != "" {
				coveredCaught++
			} else {
				t.Errorf("cycle %d: change at position %d (checkpointed) in %s not detected", i, first, rec.seg)
			}
		} else {
			uncovered++
			if who != "" {
				uncoveredCaught++
			}
		}
	}
	// Bytes of the preallocated space after the data are no event: a
	// change there must not make the store fail verification... or if
	// the store refuses it, that is its choice; report it.
	var spare, spareCaught int
	for i := 0; i < 20; i++ {
		dir := t.TempDir()
		copyDir(t, pristine, dir)
		seg := filepath.Base(segs[r.IntN(len(segs))])
		fi, _ := os.Stat(filepath.Join(dir, "events", seg))
		if fi.Size() <= dataEnd[seg] {
			continue
		}
		off := dataEnd[seg] + r.Int64N(fi.Size()-dataEnd[seg])
		flip(t, filepath.Join(dir, "events", seg), off, 0x5a)
		spare++
		if check(dir) != "" {
			spareCaught++
		}
	}
	t.Logf("mutation kinds (flip, cut, forged with valid CRC, cut with index dropped): %v", kinds)
	t.Logf("store-file mutations: %d on checkpointed events, %d detected (%.0f%%); %d on the one unsigned event, %d detected; detected by: %v; %d changes in unused preallocated space, %d refused",
		covered, coveredCaught, 100*float64(coveredCaught)/float64(max(covered, 1)), uncovered, uncoveredCaught, caught, spare, spareCaught)
	if coveredCaught != covered {
		t.Fatalf("%d of %d changes to checkpointed events went undetected", covered-coveredCaught, covered)
	}
}
