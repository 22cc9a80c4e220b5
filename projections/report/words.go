package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// words maps the code values the views carry (resource kinds, loan
// statuses, decision outcomes…) to the words a governor reads. A value not
// listed is shown with its underscores as spaces.
var words = map[string]string{
	// Partnership kinds.
	"trust": "trust", "cluster": "cluster", "network": "network",
	// Resource kinds.
	"science_lab": "science lab", "minibus": "minibus", "coach": "coach", "sports_hall": "sports hall",
	"teaching_resource": "teaching resource", "cpd_place": "CPD place",
	// Loan statuses and return conditions.
	"requested": "requested", "approved": "approved", "declined": "declined", "cancelled": "cancelled",
	"collected": "collected", "returned": "returned", "overdue": "overdue",
	"good": "good", "fair": "fair", "damaged": "damaged",
	// Secondment statuses.
	"agreed": "agreed", "ended_early": "ended early",
	// CPD kinds.
	"cpd": "CPD session", "teachmeet": "TeachMeet", "shadowing": "shadowing", "trip": "trip", "event": "event",
	// Cost categories.
	"meetings": "meetings", "travel": "travel", "coordination": "coordination", "other": "other",
	// Commitment statuses and parties.
	"open": "open", "achieved": "achieved", "missed": "missed", "school": "school", "community": "ISLC",
	// Ratings and their movement.
	"red": "red", "amber": "amber", "green": "green", "improved": "improved", "unchanged": "unchanged",
	// Proposal outcomes and challenge subjects.
	"draft": "draft", "submitted": "submitted", "proposal": "proposal", "loan": "loan", "election": "election",
	"commitment": "commitment", "review": "peer review", "cpd_event": "CPD event", "secondment": "secondment", "priority": "priority",
	// Recognition recipients.
	"person": "person",
	// Timeline item kinds.
	"visit": "visit", "data_drop": "data drop", "line_management": "line management", "meeting": "meeting",
	"training": "training", "report": "report",
}

// Words returns code value v (e.g. "teaching_resource", "data_drop") in
// the words a reader expects ("teaching resource", "data drop").
func Words(v string) string {
	if w, ok := words[v]; ok {
		return w
	}
	return strings.ReplaceAll(v, "_", " ")
}

// capital returns s with its first letter in upper case.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// plural says n things: "1 loan", "2 loans"; many is the plural form.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// outcome says a proposal decision's outcome in words.
func outcome(o string) string {
	switch o {
	case "returned":
		return "sent back"
	case "approved":
		return "approved"
	}
	return Words(o)
}

// recipient says who a recognition went to.
func recipient(kind string) string {
	switch kind {
	case "person":
		return "a person"
	case "school":
		return "a school"
	case "community":
		return "an ISLC"
	}
	return Words(kind)
}
