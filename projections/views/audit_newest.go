package views

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// EventsBefore returns up to limit entries f selects with a position less
// than before (no bound for 0), newest first, people named through names.
// Next is the cursor of the next (older) page: pass it as before; it is 0
// when there is none. limit <= 0 means 100.
func (a *Audit) EventsBefore(f AuditFilter, before uint64, limit int, names PersonNames) AuditPage {
	if limit <= 0 {
		limit = 100
	}
	page := AuditPage{Entries: []AuditEntry{}}
	rec, n, typ, hasType, ok := a.candidates(f)
	if !ok {
		return page
	}
	end := n
	if before != 0 {
		end = sort.Search(n, func(k int) bool { return rec(k).Pos >= before })
	}
	for k := end - 1; k >= 0; k-- {
		r := rec(k)
		if !a.matches(r, f, hasType, typ) {
			continue
		}
		if len(page.Entries) == limit {
			page.Next = page.Entries[limit-1].Position
			break
		}
		page.Entries = append(page.Entries, a.entry(r, names))
	}
	return page
}

// AuditChoices is what an audit log can be filtered by, by name: its
// schools, ISLCs (each with its school's id in Parent) and people, and
// the kinds of event it holds.
type AuditChoices struct {
	Schools     []AuditChoice
	Communities []AuditChoice
	People      []AuditChoice
	Types       []string
}

// AuditChoice is one thing to filter by.
type AuditChoice struct {
	ID     uuid.UUID
	Name   string
	Parent uuid.UUID // an ISLC's or a person's school
}

// Schools returns the schools the audit log knows, by name.
func (a *Audit) Schools() []AuditChoice {
	var out []AuditChoice
	for _, e := range a.Entities {
		if linkKinds[e.Kind] == LinkSchool {
			out = append(out, AuditChoice{ID: e.ID, Name: e.Name})
		}
	}
	slices.SortFunc(out, func(x, y AuditChoice) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), strings.Compare(x.ID.String(), y.ID.String()))
	})
	return out
}

// Choices returns what the audit log of school (every school for the zero
// id) can be filtered by: the schools (only school itself when given),
// the ISLCs and people registered at them, by name (people named through
// names; a person without a name is left out), and the event types of the
// events the log shows, in order.
func (a *Audit) Choices(school uuid.UUID, names PersonNames) AuditChoices {
	var out AuditChoices
	schoolOf := func(e auditThing) uuid.UUID {
		if e.Parent == 0 {
			return uuid.Nil
		}
		return a.Entities[e.Parent-1].ID
	}
	for _, e := range a.Entities {
		switch linkKinds[e.Kind] {
		case LinkSchool:
			if school == uuid.Nil || e.ID == school {
				out.Schools = append(out.Schools, AuditChoice{ID: e.ID, Name: e.Name})
			}
		case LinkCommunity:
			if p := schoolOf(e); school == uuid.Nil || p == school {
				out.Communities = append(out.Communities, AuditChoice{ID: e.ID, Name: e.Name, Parent: p})
			}
		case LinkPerson:
			if p := schoolOf(e); school == uuid.Nil || p == school {
				if n := personRef(names, e.ID).Name; n != "" {
					out.People = append(out.People, AuditChoice{ID: e.ID, Name: n, Parent: p})
				}
			}
		}
	}
	byName := func(x, y AuditChoice) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), strings.Compare(x.ID.String(), y.ID.String()))
	}
	slices.SortFunc(out.Schools, byName)
	slices.SortFunc(out.Communities, byName)
	slices.SortFunc(out.People, byName)
	add := func(t uint32) { out.Types = append(out.Types, a.Strings[t]) }
	if school == uuid.Nil {
		a.types.each(add)
	} else if i, ok := a.entIndex[school]; ok && a.schoolTypes[i] != nil {
		a.schoolTypes[i].each(add)
	}
	slices.Sort(out.Types)
	return out
}
