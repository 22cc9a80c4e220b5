package governance

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// BallotKeys is the part of a durable keyring a KeyringBallotBox needs:
// seal and open with one key per subject, and destroy a subject's key.
// eventstore/keyring satisfies it.
type BallotKeys interface {
	domain.Keyring
	Erase(subject string) error
}

// KeyringBallotBox is a BallotBox whose per-ballot keys live in a durable
// keyring under the subject "ballot-<id>", so a secret ballot opened
// before a restart can still be counted after it, and destroying the key
// at close is as final as erasing a person.
type KeyringBallotBox struct {
	Keys BallotKeys
}

var _ BallotBox = KeyringBallotBox{}

func ballotSubject(ballot uuid.UUID) string { return "ballot-" + ballot.String() }

// Seal implements BallotBox. The voter's id is sealed with the choice and
// checked on Open, so a sealed choice cannot be passed off as another
// voter's; choices are padded to one length.
func (b KeyringBallotBox) Seal(ballot, voter uuid.UUID, choice string) ([]byte, error) {
	if len(choice) > choiceSize-1 {
		return nil, fmt.Errorf("seal choice: %d bytes is too long", len(choice))
	}
	plain := make([]byte, 16+choiceSize)
	copy(plain, voter[:])
	plain[16] = byte(len(choice))
	copy(plain[17:], choice)
	sealed, err := b.Keys.Seal(ballotSubject(ballot), plain)
	if errors.Is(err, domain.ErrErased) {
		return nil, ErrBallotKeyDestroyed
	}
	if err != nil {
		return nil, fmt.Errorf("seal choice in %s: %w", ballot, err)
	}
	return sealed, nil
}

// Open implements BallotBox.
func (b KeyringBallotBox) Open(ballot, voter uuid.UUID, sealed []byte) (string, error) {
	plain, err := b.Keys.Open(ballotSubject(ballot), sealed)
	if errors.Is(err, domain.ErrErased) {
		return "", ErrBallotKeyDestroyed
	}
	if err != nil {
		return "", fmt.Errorf("open choice of %s in %s: %w", voter, ballot, err)
	}
	if len(plain) != 16+choiceSize || !bytes.Equal(plain[:16], voter[:]) || int(plain[16]) > choiceSize-1 {
		return "", fmt.Errorf("open choice of %s in %s: sealed for another voter or malformed", voter, ballot)
	}
	return string(plain[17 : 17+int(plain[16])]), nil
}

// Destroy implements BallotBox.
func (b KeyringBallotBox) Destroy(ballot uuid.UUID) error {
	if err := b.Keys.Erase(ballotSubject(ballot)); err != nil {
		return fmt.Errorf("destroy key of ballot %s: %w", ballot, err)
	}
	return nil
}
