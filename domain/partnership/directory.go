package partnership

import (
	"context"
	"errors"
	"sync"

	"github.com/google/uuid"
)

// Directory is what the partnership rules need to know about schools,
// people and ISLCs, which governance records. The wiring connects it to
// governance's state; tests use MemoryDirectory. Implementations must be
// safe for concurrent use and answer from recorded facts only.
type Directory interface {
	// SchoolExists reports whether school id is registered.
	SchoolExists(ctx context.Context, schoolID uuid.UUID) (bool, error)
	// SchoolOf returns the school person id currently works at; ok is
	// false for someone unknown or not on any school's staff.
	SchoolOf(ctx context.Context, personID uuid.UUID) (schoolID uuid.UUID, ok bool, err error)
	// IsStaffOf reports whether person id is a current staff member
	// (educator or administrator) of school id.
	IsStaffOf(ctx context.Context, personID, schoolID uuid.UUID) (bool, error)
	// CommunitySchool returns the school of ISLC id; ok is false when no
	// such ISLC is established.
	CommunitySchool(ctx context.Context, communityID uuid.UUID) (schoolID uuid.UUID, ok bool, err error)
	// IsAuditor reports whether person id is registered as an outside
	// auditor or inspector.
	IsAuditor(ctx context.Context, personID uuid.UUID) (bool, error)
}

// ErrNoDirectory is returned by every directory question of a Service
// constructed without a Directory.
var ErrNoDirectory = errors.New("partnership: no directory of schools and people is configured")

type noDirectory struct{}

func (noDirectory) SchoolExists(context.Context, uuid.UUID) (bool, error) {
	return false, ErrNoDirectory
}
func (noDirectory) SchoolOf(context.Context, uuid.UUID) (uuid.UUID, bool, error) {
	return uuid.Nil, false, ErrNoDirectory
}
func (noDirectory) IsStaffOf(context.Context, uuid.UUID, uuid.UUID) (bool, error) {
	return false, ErrNoDirectory
}
func (noDirectory) CommunitySchool(context.Context, uuid.UUID) (uuid.UUID, bool, error) {
	return uuid.Nil, false, ErrNoDirectory
}
func (noDirectory) IsAuditor(context.Context, uuid.UUID) (bool, error) {
	return false, ErrNoDirectory
}

// MemoryDirectory is an in-memory Directory, for tests and for running the
// partnership domain before it is wired to governance. The zero value is
// an empty directory ready to use.
type MemoryDirectory struct {
	mu          sync.RWMutex
	schools     map[uuid.UUID]bool
	staff       map[uuid.UUID]uuid.UUID // person → school
	communities map[uuid.UUID]uuid.UUID // community → school
	auditors    map[uuid.UUID]bool
}

// AddAuditor registers person as an outside auditor.
func (d *MemoryDirectory) AddAuditor(person uuid.UUID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.auditors == nil {
		d.auditors = map[uuid.UUID]bool{}
	}
	d.auditors[person] = true
}

// IsAuditor implements Directory.
func (d *MemoryDirectory) IsAuditor(_ context.Context, person uuid.UUID) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.auditors[person], nil
}

// AddSchool registers school id.
func (d *MemoryDirectory) AddSchool(id uuid.UUID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.schools == nil {
		d.schools = map[uuid.UUID]bool{}
	}
	d.schools[id] = true
}

// AddStaff records person as staff of school (registering the school).
func (d *MemoryDirectory) AddStaff(person, school uuid.UUID) {
	d.AddSchool(school)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.staff == nil {
		d.staff = map[uuid.UUID]uuid.UUID{}
	}
	d.staff[person] = school
}

// RemoveStaff records that person left their school.
func (d *MemoryDirectory) RemoveStaff(person uuid.UUID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.staff, person)
}

// AddCommunity records ISLC community of school (registering the school).
func (d *MemoryDirectory) AddCommunity(community, school uuid.UUID) {
	d.AddSchool(school)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.communities == nil {
		d.communities = map[uuid.UUID]uuid.UUID{}
	}
	d.communities[community] = school
}

// SchoolExists implements Directory.
func (d *MemoryDirectory) SchoolExists(_ context.Context, id uuid.UUID) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.schools[id], nil
}

// SchoolOf implements Directory.
func (d *MemoryDirectory) SchoolOf(_ context.Context, person uuid.UUID) (uuid.UUID, bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.staff[person]
	return s, ok, nil
}

// IsStaffOf implements Directory.
func (d *MemoryDirectory) IsStaffOf(_ context.Context, person, school uuid.UUID) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.staff[person]
	return ok && s == school, nil
}

// CommunitySchool implements Directory.
func (d *MemoryDirectory) CommunitySchool(_ context.Context, community uuid.UUID) (uuid.UUID, bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.communities[community]
	return s, ok, nil
}
