package views

import (
	"sync"

	"github.com/concord-ledger/concord/projections"
)

// Memo keeps answers worked out from the live views, each with the ledger
// position the views stood at, for as long as a reader asks at that
// position again. A live view is a pure fold of the log, so an answer
// worked out at a position is the answer at that position for as long as
// the views stand there; the first event after it makes the answer old,
// and Get stops returning it.
//
// An answer that names people may be kept only under a key that holds
// Reader.Erasures as it stood before the names were opened: a person's
// name is opened from the keyring when read, and an erasure destroys the
// key after its event (or, retried after a crash, with no event at all),
// so a name kept by position alone could outlive the erasure. Safe for concurrent
// use; kept values are shared and must not be changed.
type Memo struct {
	mu  sync.Mutex
	m   map[any]memoEntry
	top uint64 // the latest position of an answer kept
}

type memoEntry struct {
	pos uint64
	v   any
}

// maxMemo bounds the answers kept: one per partnership and period asked,
// and a partnership's readers ask for a few periods.
const maxMemo = 64

// Get returns the answer kept under key when it was worked out at
// position pos.
func (m *Memo) Get(key any, pos uint64) (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	if !ok || e.pos != pos {
		return nil, false
	}
	return e.v, true
}

// Latest returns the answer kept under key and the position it was
// worked out at.
func (m *Memo) Latest(key any) (v any, pos uint64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	return e.v, e.pos, ok
}

// Put keeps v under key as the answer at position pos, unless a later
// answer is kept there already. An answer of a later position than any
// kept drops the answers of earlier positions: the ledger does not go
// back, so they would never be asked for again. When full, all go.
func (m *Memo) Put(key any, pos uint64, v any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.m[key]; ok && e.pos > pos {
		return
	}
	if m.m == nil {
		m.m = make(map[any]memoEntry)
	}
	if pos > m.top {
		for k, e := range m.m {
			if e.pos < pos {
				delete(m.m, k)
			}
		}
		m.top = pos
	}
	if _, ok := m.m[key]; !ok && len(m.m) >= maxMemo {
		clear(m.m)
	}
	m.m[key] = memoEntry{pos: pos, v: v}
}

// Memo returns the reader's memo of live answers (see Memo), nil for a
// reader pinned to a moment (its answers are not the live views').
func (r *Reader) Memo() *Memo {
	if r.pinned != nil {
		return nil
	}
	r.memoOnce.Do(func() { r.memo = new(Memo) })
	return r.memo
}

// StandsAt reports whether the live view named name stands at position
// pos, so that an answer kept from it at pos (see Memo) is still its
// answer.
func (r *Reader) StandsAt(name string, pos uint64) bool {
	if r.Engine == nil {
		return false
	}
	done, err := r.Engine.ViewAt(canonical(name), pos, func(projections.Projection) error { return nil })
	return done && err == nil
}
