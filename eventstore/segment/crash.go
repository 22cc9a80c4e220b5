package segment

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

// CrashChild is the child side of CrashTest. It opens the store in dir,
// prints "ready", then appends from several goroutines as fast as it can,
// each to its own stream with Exact expectations, and prints a line per
// acknowledged event as soon as its Append returns:
//
//	ack <position> <event id> <stream> <revision>
//
// It runs until ctx ends or the process is killed, which is the point.
func CrashChild(ctx context.Context, dir string, out io.Writer) error {
	s, err := Open(ctx, dir, Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	defer s.Close()
	var mu sync.Mutex
	w := bufio.NewWriter(out)
	say := func(lines string) error {
		mu.Lock()
		defer mu.Unlock()
		w.WriteString(lines)
		return w.Flush()
	}
	if err := say("ready\n"); err != nil {
		return err
	}
	const writers = 8
	errs := make(chan error, writers)
	for g := range writers {
		go func() {
			stream := fmt.Sprintf("crash-%d-%d", os.Getpid(), g)
			next := uint64(0)
			for n := 0; ctx.Err() == nil; n++ {
				evs := make([]eventstore.EventData, 1+n%3)
				for i := range evs {
					evs[i] = eventstore.EventData{
						ID:       uuid.Must(uuid.NewV7()),
						Type:     "CrashTested",
						Schema:   1,
						Data:     fmt.Appendf(nil, `{"writer":%d,"n":%d,"pad":"%s"}`, g, n, strings.Repeat("x", n%200)),
						Metadata: eventstore.Metadata{ActorID: "crashtest", ActorRole: "system"},
					}
				}
				expected := eventstore.NoStream()
				if next > 0 {
					expected = eventstore.Exact(next - 1)
				}
				res, err := s.Append(ctx, stream, expected, evs...)
				if err != nil {
					errs <- err
					return
				}
				var b strings.Builder
				for i, p := range res.Positions {
					fmt.Fprintf(&b, "ack %d %s %s %d\n", p, evs[i].ID, stream, next+uint64(i))
				}
				if err := say(b.String()); err != nil {
					errs <- err
					return
				}
				next += uint64(len(evs))
			}
			errs <- ctx.Err()
		}()
	}
	return <-errs
}

// ack is one acknowledged event as the child reported it.
type ack struct {
	pos    uint64
	id     uuid.UUID
	stream string
	rev    uint64
}

func parseAck(line string) (ack, bool) {
	f := strings.Fields(line)
	if len(f) != 5 || f[0] != "ack" {
		return ack{}, false
	}
	pos, err1 := strconv.ParseUint(f[1], 10, 64)
	id, err2 := uuid.Parse(f[2])
	rev, err3 := strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return ack{}, false
	}
	return ack{pos, id, f[3], rev}, true
}

// CrashTest runs cycles of: start child (a process running CrashChild on
// dir), wait until it is ready, let it append for a random 20-300ms, kill
// it with SIGKILL, then open the store in dir and check it: every event
// ever acknowledged is at its acknowledged position, stream and revision;
// positions are dense and streams' revisions too; re-appending an
// acknowledged event is idempotent; and a new append lands at head+1. It
// writes a line per cycle to log and returns the first violation found.
func CrashTest(ctx context.Context, dir string, cycles int, child func() *exec.Cmd, log io.Writer) error {
	acked := make(map[uint64]ack)
	for cycle := 1; cycle <= cycles; cycle++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, delay, err := crashOnce(ctx, child, acked)
		if err != nil {
			return fmt.Errorf("cycle %d: %w", cycle, err)
		}
		start := time.Now()
		head, err := checkAfterCrash(ctx, dir, acked)
		if err != nil {
			return fmt.Errorf("cycle %d (killed after %v, %d new acks): %w", cycle, delay, n, err)
		}
		fmt.Fprintf(log, "cycle %d: killed after %v with %d new acks; reopened and checked %d events (%d acknowledged) in %v\n",
			cycle, delay.Round(time.Millisecond), n, head, len(acked), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// crashOnce runs and kills one child, adding what it acknowledged to acked.
func crashOnce(ctx context.Context, child func() *exec.Cmd, acked map[uint64]ack) (int, time.Duration, error) {
	cmd := child()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start child: %w", err)
	}
	ready := make(chan struct{})
	var lines []ack
	readDone := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.OnceFunc(func() { close(ready) })
		defer once()
		for sc.Scan() {
			if sc.Text() == "ready" {
				once()
			} else if a, ok := parseAck(sc.Text()); ok {
				lines = append(lines, a)
			}
		}
		readDone <- sc.Err()
	}()
	select {
	case <-ready:
	case <-ctx.Done():
		cmd.Process.Kill()
		cmd.Wait()
		return 0, 0, ctx.Err()
	}
	delay := time.Duration(20+rand.IntN(281)) * time.Millisecond
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return 0, 0, fmt.Errorf("kill child: %w", err)
	}
	if err := <-readDone; err != nil && !errors.Is(err, os.ErrClosed) {
		return 0, 0, fmt.Errorf("read child output: %w", err)
	}
	werr := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(werr, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		return 0, 0, fmt.Errorf("child ended on its own (%v) before it was killed: %s", werr, stderr.String())
	}
	for _, a := range lines {
		if old, dup := acked[a.pos]; dup && old.id != a.id {
			return 0, 0, fmt.Errorf("position %d acknowledged twice: %s and %s", a.pos, old.id, a.id)
		}
		acked[a.pos] = a
	}
	return len(lines), delay, ctx.Err()
}

// checkAfterCrash opens the store and checks it against everything
// acknowledged so far. It returns the head.
func checkAfterCrash(ctx context.Context, dir string, acked map[uint64]ack) (uint64, error) {
	s, err := Open(ctx, dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0, fmt.Errorf("reopen: %w", err)
	}
	defer s.Close()
	head, err := s.Head(ctx)
	if err != nil {
		return 0, err
	}
	var last *eventstore.RecordedEvent
	streams := map[string]uint64{} // stream -> events seen
	for from := uint64(1); from <= head; {
		evs, err := s.ReadAll(ctx, from, 10_000)
		if err != nil {
			return 0, fmt.Errorf("read all from %d: %w", from, err)
		}
		if len(evs) == 0 {
			return 0, fmt.Errorf("read all from %d: nothing, but head is %d", from, head)
		}
		for i := range evs {
			e := &evs[i]
			if e.Position != from {
				return 0, fmt.Errorf("position %d where %d is due: positions are not dense", e.Position, from)
			}
			if want := streams[e.StreamID]; e.Revision != want {
				return 0, fmt.Errorf("position %d: %s revision %d where %d is due", e.Position, e.StreamID, e.Revision, want)
			}
			streams[e.StreamID]++
			if a, ok := acked[e.Position]; ok && (a.id != e.ID || a.stream != e.StreamID || a.rev != e.Revision) {
				return 0, fmt.Errorf("position %d holds %s %s@%d, but %s %s@%d was acknowledged there",
					e.Position, e.ID, e.StreamID, e.Revision, a.id, a.stream, a.rev)
			}
			from++
		}
		last = &evs[len(evs)-1]
	}
	for pos, a := range acked {
		if pos > head {
			return 0, fmt.Errorf("event %s acknowledged at position %d is lost: head is %d", a.id, pos, head)
		}
	}
	for stream, n := range streams {
		evs, err := s.ReadStream(ctx, stream, 0, eventstore.Forward, 0)
		if err != nil {
			return 0, err
		}
		if uint64(len(evs)) != n {
			return 0, fmt.Errorf("stream %s reads %d events, the log holds %d", stream, len(evs), n)
		}
	}
	if last != nil {
		res, err := s.Append(ctx, last.StreamID, eventstore.Any(), last.EventData)
		if err != nil {
			return 0, fmt.Errorf("re-append the last event: %w", err)
		}
		if len(res.Positions) != 1 || res.Positions[0] != last.Position || res.Revision != last.Revision {
			return 0, fmt.Errorf("re-append the last event: result %+v, want position %d revision %d", res, last.Position, last.Revision)
		}
	}
	res, err := s.Append(ctx, "crash-check", eventstore.Any(), eventstore.EventData{
		ID: uuid.Must(uuid.NewV7()), Type: "Checked", Schema: 1, Data: []byte(`{}`),
	})
	if err != nil {
		return 0, fmt.Errorf("append after recovery: %w", err)
	}
	if res.Positions[0] != head+1 {
		return 0, fmt.Errorf("append after recovery: position %d, want %d", res.Positions[0], head+1)
	}
	return head + 1, s.Close()
}
