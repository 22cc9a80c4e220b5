package benchmark

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// File names the file engines write in their directory.
const (
	RawFile   = "raw.log"
	NaiveFile = "naive.log"
)

// rawChunk is how much the raw engine preallocates at a time, the default
// segment size of the embedded store, so both pay for allocation alike.
const rawChunk = 256 << 20

// zeroAhead is how far past the end of its data the raw engine writes
// zeros. Preallocated blocks start "unwritten": the first write to each
// changes extent metadata, and an fdatasync after it must also commit the
// file system journal, which on ext4 makes a group commit much slower.
// Writing zeros a MiB ahead pays for that once per MiB instead of once per
// group, as the embedded store does; without it the "limit" would not be
// one.
const zeroAhead = 1 << 20

var zeroPage = make([]byte, 256<<10)

// frameHeader is the size of a record's header: u32 payload length and u32
// CRC-32C of the payload, big-endian.
const frameHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends payload framed as a record to b.
func appendFrame(b, payload []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// countRecords counts the intact records at the start of the file at path,
// stopping at the end of the file, at a zero length (preallocated space) or
// at the first damaged record.
func countRecords(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [frameHeader]byte
	var payload []byte
	var n int64
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return n, nil
			}
			return n, err
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		if size == 0 || size > eventstore.DefaultMaxEventSize {
			return n, nil
		}
		if cap(payload) < int(size) {
			payload = make([]byte, size)
		}
		payload = payload[:size]
		if _, err := io.ReadFull(r, payload); err != nil {
			return n, nil
		}
		if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(hdr[4:]) {
			return n, nil
		}
		n++
	}
}

// writers holds what every file engine keeps per writer: its stream's
// next revision and a buffer for the record being appended.
type writers struct {
	revs []uint64
	bufs [][]byte
}

func newWriters(n int) writers {
	return writers{revs: make([]uint64, n), bufs: make([][]byte, n)}
}

// record encodes writer w's next event as a framed canonical record into
// w's buffer, which stays valid until w's next call.
func (ws *writers) record(w int) []byte {
	e := eventstore.RecordedEvent{
		EventData:  NewEvent(),
		StreamID:   StreamID(w),
		Revision:   ws.revs[w],
		RecordedAt: time.Now(),
	}
	ws.revs[w]++
	payload := eventstore.EncodeCanonical(e)
	ws.bufs[w] = appendFrame(ws.bufs[w][:0], payload)
	return ws.bufs[w]
}

// RawGroupFsync is the device limit: records go to one committer goroutine
// that takes whatever is queued, writes it to a preallocated file with one
// write call (plus, once per MiB, zeros ahead of the data: see zeroAhead),
// makes it durable with one fdatasync and then acknowledges every writer in
// the group. There is no index, no validation and no optimistic
// concurrency: the best any log on this disk can do.
func RawGroupFsync() Engine {
	return Engine{Name: "raw", Open: openRaw}
}

type rawAppender struct {
	f     *os.File
	ws    writers
	queue chan rawRequest
	done  []chan error // per writer
	exit  chan struct{}

	// Owned by the committer: the end of the data, of the bytes written
	// (data or zeros) and of the preallocated space.
	off, zeroed, allocated int64
}

type rawRequest struct {
	w   int
	rec []byte
}

func openRaw(ctx context.Context, dir string, n int) (Appender, error) {
	f, err := os.OpenFile(filepath.Join(dir, RawFile), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	if err := preallocate(f, rawChunk); err != nil {
		f.Close()
		return nil, fmt.Errorf("preallocate %s: %w", f.Name(), err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	a := &rawAppender{
		f:         f,
		ws:        newWriters(n),
		queue:     make(chan rawRequest, n),
		done:      make([]chan error, n),
		exit:      make(chan struct{}),
		allocated: rawChunk,
	}
	for i := range a.done {
		a.done[i] = make(chan error, 1)
	}
	go a.commit()
	return a, nil
}

// Append hands writer w's record to the committer and waits for its
// acknowledgement. It waits even if ctx ends: once queued, a record is
// written.
func (a *rawAppender) Append(ctx context.Context, w int) error {
	rec := a.ws.record(w)
	select {
	case a.queue <- rawRequest{w, rec}:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-a.done[w]
}

// commit is the committer: one write and one fdatasync per group.
func (a *rawAppender) commit() {
	defer close(a.exit)
	var group []rawRequest
	var buf []byte
	for req := range a.queue {
		group = append(group[:0], req)
	gather:
		for {
			select {
			case req, ok := <-a.queue:
				if !ok {
					break gather
				}
				group = append(group, req)
			default:
				break gather
			}
		}
		buf = buf[:0]
		for _, r := range group {
			buf = append(buf, r.rec...)
		}
		err := a.write(buf)
		for _, r := range group {
			a.done[r.w] <- err
		}
	}
}

func (a *rawAppender) write(buf []byte) error {
	for a.off+int64(len(buf)) > a.allocated {
		if err := preallocateMore(a.f, a.allocated, rawChunk); err != nil {
			return fmt.Errorf("preallocate %s: %w", a.f.Name(), err)
		}
		a.allocated += rawChunk
	}
	if _, err := a.f.WriteAt(buf, a.off); err != nil {
		return err
	}
	if end := a.off + int64(len(buf)); end > a.zeroed {
		to := min(a.allocated, (end+zeroAhead+4095)&^4095)
		for at := end; at < to; {
			n := min(int64(len(zeroPage)), to-at)
			if _, err := a.f.WriteAt(zeroPage[:n], at); err != nil {
				return err
			}
			at += n
		}
		a.zeroed = to
	}
	if err := fdatasync(a.f); err != nil {
		return fmt.Errorf("fdatasync %s: %w", a.f.Name(), err)
	}
	a.off += int64(len(buf))
	return nil
}

// Close stops the committer. Requires that no Append is in flight.
func (a *rawAppender) Close() error {
	close(a.queue)
	<-a.exit
	return a.f.Close()
}

// NaiveFsync is the textbook log: a file opened with O_APPEND, and for
// every append, under one mutex, a write call and an fsync. It shows what
// group commit buys.
func NaiveFsync() Engine {
	return Engine{Name: "naive", Open: openNaive}
}

type naiveAppender struct {
	ws writers
	mu sync.Mutex
	f  *os.File
}

func openNaive(ctx context.Context, dir string, n int) (Appender, error) {
	f, err := os.OpenFile(filepath.Join(dir, NaiveFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return &naiveAppender{ws: newWriters(n), f: f}, nil
}

func (a *naiveAppender) Append(ctx context.Context, w int) error {
	rec := a.ws.record(w)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(rec); err != nil {
		return err
	}
	return a.f.Sync()
}

func (a *naiveAppender) Close() error { return a.f.Close() }

// syncDir makes a newly created file's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
