package web

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/concord-ledger/concord/projections/views"
)

// timelineGroup is one line of a timeline on the overview: the same item
// (day, kind and title) scheduled on the timelines of several schools is
// said once, with the schools it is for.
type timelineGroup struct {
	On          time.Time
	Kind, Title string
	// Where names whose timelines hold the item: schools by name, "the
	// partnership" for the partnership's own timeline.
	Where       []string
	Schools     int
	Partnership bool
	Rescheduled int
	// Every is set when the item is on the timeline of every member
	// school (of more than one): the line says so instead of listing them.
	Every bool
}

// partnershipWide names an item of the partnership's own timeline.
const partnershipWide = "the partnership"

// ForWhom says who the item is for: "Ysgol y Pant", "2 schools", "the
// partnership and 2 schools", "every school (4)".
func (g timelineGroup) ForWhom() string {
	switch {
	case g.Schools == 0:
		return partnershipWide
	case g.Schools == 1 && !g.Partnership:
		return g.Where[0]
	}
	n := fmt.Sprintf("%d schools", g.Schools)
	if g.Every {
		n = fmt.Sprintf("every school (%d)", g.Schools)
	} else if g.Schools == 1 {
		n = "1 school"
	}
	if g.Partnership {
		return partnershipWide + " and " + n
	}
	return n
}

// Listed reports whether the line names its schools one by one after
// ForWhom: more than one timeline, and not every school's.
func (g timelineGroup) Listed() bool { return len(g.Where) > 1 && !g.Every }

// groupTimeline groups entries (in day order) that share their day, kind
// and title, keeping the order of each group's first entry; a group's
// schools are sorted by name, the partnership first. members is how many
// schools the partnership has (a group with them all is marked Every). At
// most n groups are returned (all for n ≤ 0).
func groupTimeline(entries []views.TimelineEntry, members, n int) []timelineGroup {
	type key struct {
		day         string
		kind, title string
	}
	var out []timelineGroup
	at := map[key]int{}
	for _, e := range entries {
		k := key{e.On.UTC().Format(time.DateOnly), e.Kind, e.Title}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, timelineGroup{On: e.On, Kind: e.Kind, Title: e.Title})
		}
		g := &out[i]
		if e.School == nil {
			g.Partnership = true
		} else {
			g.Schools++
			g.Where = append(g.Where, e.School.Name)
		}
		g.Rescheduled = max(g.Rescheduled, e.Rescheduled)
	}
	for i := range out {
		g := &out[i]
		g.Every = members > 1 && g.Schools >= members
		slices.SortFunc(g.Where, strings.Compare)
		if g.Partnership {
			g.Where = append([]string{partnershipWide}, g.Where...)
		}
	}
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
