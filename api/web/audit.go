package web

import (
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/projections/views"
)

// eventWords says an event type in words: "ChairElected" → "Chair
// elected", "CPDEventOrganised" → "CPD event organised"; ISLCs are called
// ISLCs ("CommunityEstablished" → "ISLC established").
func eventWords(typ string) string {
	var words []string
	r := []rune(typ)
	start := 0
	for i := 1; i <= len(r); i++ {
		// A word ends before an upper-case letter that follows a lower-case
		// one, or that starts a word after an acronym ("CPDEvent").
		if i == len(r) || unicode.IsUpper(r[i]) && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1])) {
			words = append(words, string(r[start:i]))
			start = i
		}
	}
	for i, w := range words {
		switch {
		case w == "Community" || w == "Communities":
			words[i] = strings.Replace(w, "Community", "ISLC", 1)
			if w == "Communities" {
				words[i] = "ISLCs"
			}
		case len(w) > 1 && strings.ToUpper(w) == w: // an acronym
		case i > 0:
			words[i] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}

// readableSchools returns the schools whose audit log the reader may
// read, by name.
func (st *site) readableSchools(rq *req) ([]views.AuditChoice, error) {
	var all []views.AuditChoice
	if _, err := read(st, rq, views.AuditView, func(v *views.Audit) error {
		all = v.Schools()
		return nil
	}); err != nil {
		return nil, err
	}
	var out []views.AuditChoice
	for _, s := range all {
		may, err := st.s.App.May(rq.ctx, rq.actor, "ReadSchoolEvents", app.Target{School: s.ID})
		if err != nil {
			return nil, err
		}
		if may {
			out = append(out, s)
		}
	}
	return out, nil
}

// auditKind is an event type offered as a filter, in words.
type auditKind struct {
	Type, Words string
}

// auditChoices is what the audit page offers to filter by, by name.
type auditChoices struct {
	// Schools is offered only to a reader of every school's log.
	Schools []views.AuditChoice
	// Communities are grouped by school.
	Communities []auditGroup
	People      []views.AuditChoice
	Kinds       []auditKind
}

type auditGroup struct {
	School  string
	Choices []views.AuditChoice
}

// newAuditChoices shapes the choices of one school's log c; schools are
// the schools offered (none for a reader of one school's log).
func newAuditChoices(c views.AuditChoices, schools []views.AuditChoice) auditChoices {
	out := auditChoices{People: c.People, Schools: schools}
	name := map[uuid.UUID]string{}
	for _, s := range c.Schools {
		name[s.ID] = s.Name
	}
	at := map[uuid.UUID]int{}
	for _, x := range c.Communities {
		i, ok := at[x.Parent]
		if !ok {
			i = len(out.Communities)
			at[x.Parent] = i
			out.Communities = append(out.Communities, auditGroup{School: name[x.Parent]})
		}
		out.Communities[i].Choices = append(out.Communities[i].Choices, x)
	}
	slices.SortFunc(out.Communities, func(a, b auditGroup) int { return strings.Compare(a.School, b.School) })
	for _, t := range c.Types {
		out.Kinds = append(out.Kinds, auditKind{Type: t, Words: eventWords(t)})
	}
	slices.SortFunc(out.Kinds, func(a, b auditKind) int { return strings.Compare(a.Words, b.Words) })
	return out
}
