package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/keyring"
)

// BallotKeysDir is the directory, inside a data directory, of the keys of
// secret ballots: one per election or confidence vote, destroyed when it
// closes. It is kept apart from keys/ so that no backup ever holds a
// ballot key (docs/verification.md, "Secret ballots").
const BallotKeysDir = "ballots"

// legacyChecked marks a ballot keyring whose data directory was checked
// for ballot keys an older version kept in keys/.
const legacyChecked = "legacy-checked"

// ballotEvent is the part of a ballot's events the sweep reads.
type ballotEvent struct {
	ElectionID uuid.UUID `json:"election_id"`
	VoteID     uuid.UUID `json:"vote_id"`
}

// ballotSubject is the keyring subject of a ballot's key (as
// governance.KeyringBallotBox names it).
func ballotSubject(id uuid.UUID) string { return "ballot-" + id.String() }

// openBallotKeys opens the ballot keyring of dir and destroys the keys of
// every decided ballot (see sweepBallotKeys). personal is the
// personal-data keyring, from which ballot keys an older version kept
// there are moved out, once.
func openBallotKeys(ctx context.Context, store eventstore.Store, dir string, personal *keyring.Keyring, logger *slog.Logger) (*keyring.Keyring, error) {
	bk, err := keyring.OpenDir(filepath.Join(dir, BallotKeysDir))
	if err != nil {
		return nil, err
	}
	marker := filepath.Join(bk.Dir(), legacyChecked)
	_, err = os.Stat(marker)
	legacy := errors.Is(err, fs.ErrNotExist)
	if err != nil && !legacy {
		bk.Close()
		return nil, fmt.Errorf("ballot keys: %w", err)
	}
	if legacy {
		if n, err := personal.Count(); err != nil {
			bk.Close()
			return nil, err
		} else if n == 0 {
			legacy = false // a new ledger: nothing to move
		}
	}
	if _, err := sweepBallotKeys(ctx, store, bk, personal, legacy, logger); err != nil {
		bk.Close()
		return nil, err
	}
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		bk.Close()
		return nil, fmt.Errorf("ballot keys: %w", err)
	}
	return bk, nil
}

// sweepBallotKeys destroys the key of every decided ballot (closed or
// failed) that the ballot keyring bk still holds: a crash between
// recording a close and destroying the key leaves one behind. When legacy
// is set it also moves the keys of open ballots from personal (where
// versions before the ballot keyring kept them) into bk, and destroys the
// keys of decided ones there. It reads the whole log, so it runs only when
// bk holds a key, or for the legacy move. Returns how many keys it
// destroyed.
func sweepBallotKeys(ctx context.Context, store eventstore.Store, bk, personal *keyring.Keyring, legacy bool, logger *slog.Logger) (int, error) {
	n, err := bk.Count()
	if err != nil {
		return 0, err
	}
	if n == 0 && !legacy {
		return 0, nil
	}
	opened, decided, err := scanBallots(ctx, store)
	if err != nil {
		return 0, fmt.Errorf("ballot keys: read the log: %w", err)
	}
	destroyed := 0
	for id := range decided {
		subject := ballotSubject(id)
		if legacy && personal.Has(subject) {
			if err := personal.Erase(subject); err != nil {
				return destroyed, fmt.Errorf("ballot keys: destroy the key of decided ballot %s: %w", id, err)
			}
		}
		if bk.Has(subject) {
			if err := bk.Erase(subject); err != nil {
				return destroyed, fmt.Errorf("ballot keys: destroy the key of decided ballot %s: %w", id, err)
			}
			destroyed++
			logger.Warn("ballot keys: destroyed the key of a decided ballot that was left behind (a crash between the close and the key's destruction)", "ballot", id)
		}
	}
	if legacy {
		moved := 0
		for id := range opened {
			if decided[id] {
				continue
			}
			if err := personal.Move(ballotSubject(id), bk); err != nil {
				return destroyed, fmt.Errorf("ballot keys: move the key of open ballot %s out of keys/: %w", id, err)
			}
			moved++
		}
		logger.Info("ballot keys: moved the keys of open ballots out of the personal-data keyring, and destroyed those of decided ones",
			"open_ballots", moved, "decided_ballots", len(decided))
	}
	return destroyed, nil
}

// scanBallots reads the log for the ids of every ballot opened and every
// ballot decided.
func scanBallots(ctx context.Context, store eventstore.Store) (opened, decided map[uuid.UUID]bool, err error) {
	opened, decided = map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	openTypes := map[string]bool{
		governance.ElectionOpened{}.EventType():       true,
		governance.ConfidenceVoteCalled{}.EventType(): true,
	}
	decidedTypes := map[string]bool{
		governance.ElectionClosed{}.EventType():       true,
		governance.ElectionFailed{}.EventType():       true,
		governance.ConfidenceVoteClosed{}.EventType(): true,
	}
	for from := uint64(1); ; {
		recs, err := store.ReadAll(ctx, from, 4096)
		if err != nil {
			return nil, nil, err
		}
		if len(recs) == 0 {
			return opened, decided, nil
		}
		for _, r := range recs {
			o, d := openTypes[r.Type], decidedTypes[r.Type]
			if !o && !d {
				continue
			}
			var ev ballotEvent
			if err := json.Unmarshal(r.Data, &ev); err != nil {
				return nil, nil, fmt.Errorf("%s at position %d: %w", r.Type, r.Position, err)
			}
			id := ev.ElectionID
			if id == uuid.Nil {
				id = ev.VoteID
			}
			if o {
				opened[id] = true
			} else {
				decided[id] = true
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
}

// SecureBallotKeys does for a stopped ledger's data directory dir, whose
// store is already open, what Open does at start-up for ballot keys:
// destroys the keys of decided ballots, and moves out of keys/ the ballot
// keys an older version kept there. Run it before copying keys/ anywhere
// (concord backup --data does).
func SecureBallotKeys(ctx context.Context, store eventstore.Store, dir string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	personal, err := keyring.Open(dir)
	if err != nil {
		return fmt.Errorf("ballot keys: %w", err)
	}
	defer personal.Close()
	bk, err := openBallotKeys(ctx, store, dir, personal, logger)
	if err != nil {
		return err
	}
	return bk.Close()
}
