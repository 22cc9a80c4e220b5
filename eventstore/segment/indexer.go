package segment

import (
	"fmt"
	"time"
)

// indexLoop is the indexer: every IndexInterval (or sooner when the
// committer says the tail is long) it commits the tail to the index and
// then drops it from memory.
func (s *Store) indexLoop() {
	defer close(s.indexDone)
	t := time.NewTicker(s.opts.IndexInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.kickIndex:
		case <-s.stopIndex:
			return
		}
		if err := s.indexOnce(); err != nil {
			// The log is intact but the index cannot follow it; refusing
			// appends keeps the in-memory tail bounded and the problem
			// visible. Reopening rebuilds what is missing.
			s.fail(fmt.Errorf("index: %w", err))
			return
		}
	}
}

// indexOnce indexes the whole current tail in one bbolt transaction, then
// removes it from memory. The indexer calls it, and Close once more after
// the indexer has stopped.
func (s *Store) indexOnce() error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	s.mu.RLock()
	tail, indexed := s.tail, s.indexed
	s.mu.RUnlock()
	if tail.len() == 0 {
		return nil
	}
	entries := make([]indexEntry, tail.len())
	for i := range entries {
		e := tail.at(i)
		entries[i] = indexEntry{ev: &e.ev, off: e.off}
	}
	if err := s.idx.put(entries); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range entries {
		ev := entries[i].ev
		delete(s.tailIDs, ev.ID)
		ps := s.tailStreams[ev.StreamID]
		if len(ps) > 0 && ps[0] == ev.Position {
			ps = ps[1:]
		}
		if len(ps) == 0 {
			delete(s.tailStreams, ev.StreamID)
		} else {
			s.tailStreams[ev.StreamID] = ps
		}
	}
	s.tail.drop(len(entries))
	s.indexed = indexed + uint64(len(entries))
	close(s.indexedCh)
	s.indexedCh = make(chan struct{})
	return nil
}
