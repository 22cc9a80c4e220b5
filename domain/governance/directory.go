package governance

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Directory answers what other parts of the domain (the partnership rules)
// need to know about schools, people and ISLCs, from the governance streams
// as recorded. It satisfies partnership.Directory without either package
// importing the other. It is safe for concurrent use.
type Directory struct {
	h *domain.Handler
}

// NewDirectory returns a Directory reading through h.
func NewDirectory(h *domain.Handler) *Directory { return &Directory{h: h} }

// SchoolExists reports whether school id is registered.
func (d *Directory) SchoolExists(ctx context.Context, schoolID uuid.UUID) (bool, error) {
	s, _, err := domain.Peek(ctx, d.h, SchoolStream(schoolID), NewSchool)
	if err != nil {
		return false, fmt.Errorf("directory: load school %s: %w", schoolID, err)
	}
	return s.Registered(), nil
}

// SchoolOf returns the school person id works at; ok is false for someone
// unknown, not on a school's staff, or who has left.
func (d *Directory) SchoolOf(ctx context.Context, personID uuid.UUID) (uuid.UUID, bool, error) {
	p, _, err := domain.PeekSealed(ctx, d.h, PersonStream(personID), NewPerson)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("directory: load person %s: %w", personID, err)
	}
	if !p.Registered() || p.Kind != PersonStaff || p.Left() {
		return uuid.Nil, false, nil
	}
	return p.SchoolID, true, nil
}

// IsStaffOf reports whether person id is a current staff member of school id.
func (d *Directory) IsStaffOf(ctx context.Context, personID, schoolID uuid.UUID) (bool, error) {
	p, _, err := domain.PeekSealed(ctx, d.h, PersonStream(personID), NewPerson)
	if err != nil {
		return false, fmt.Errorf("directory: load person %s: %w", personID, err)
	}
	return p.IsStaffOf(schoolID), nil
}

// CommunitySchool returns the school of ISLC id; ok is false when no such
// ISLC is established.
func (d *Directory) CommunitySchool(ctx context.Context, communityID uuid.UUID) (uuid.UUID, bool, error) {
	c, _, err := domain.Peek(ctx, d.h, CommunityStream(communityID), NewCommunity)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("directory: load community %s: %w", communityID, err)
	}
	if !c.Established() {
		return uuid.Nil, false, nil
	}
	return c.SchoolID, true, nil
}

// IsAuditor reports whether person id is registered as an outside auditor.
func (d *Directory) IsAuditor(ctx context.Context, personID uuid.UUID) (bool, error) {
	p, _, err := domain.PeekSealed(ctx, d.h, PersonStream(personID), NewPerson)
	if err != nil {
		return false, fmt.Errorf("directory: load person %s: %w", personID, err)
	}
	return p.Registered() && p.Kind == PersonAuditor, nil
}
