package domain

import (
	"errors"
	"fmt"
)

// Kind classifies a rule error for whoever reports it (the API maps it to
// an HTTP status; the CLI to an exit code).
type Kind int

const (
	// KindInvalid: the command is malformed or breaks a rule (HTTP 422).
	KindInvalid Kind = iota
	// KindConflict: the command does not fit the current state, e.g. an
	// election that is already closed (HTTP 409).
	KindConflict
	// KindNotFound: the command names something that does not exist
	// (HTTP 404).
	KindNotFound
	// KindForbidden: the actor may not do this (HTTP 403).
	KindForbidden
)

// Rule is a named rule of the ledger. Each sentinel error of the domain is
// a *Rule, e.g. governance.ErrNotAMember; commands return it wrapped in a
// *Rejection that adds the detail of this case.
type Rule struct {
	// Code is a stable, URL-safe identifier, e.g. "not-a-member"; the API
	// uses it in the problem type URI.
	Code string
	// Title is a short sentence a Director understands, e.g. "Only members
	// may vote".
	Title string
	// Statement is the rule itself, in full, e.g. "Only members of a
	// community may nominate or vote for its chair."
	Statement string
	// Kind classifies the rule for reporting.
	Kind Kind
}

// NewRule declares a rule. Use it in a commented var block:
//
//	// ErrNotAMember is returned when someone who is not a member nominates or votes.
//	ErrNotAMember = domain.NewRule("not-a-member", domain.KindInvalid, "Only members may take part",
//		"Only members of a community may nominate or vote for its chair.")
func NewRule(code string, kind Kind, title, statement string) *Rule {
	return &Rule{Code: code, Kind: kind, Title: title, Statement: statement}
}

func (r *Rule) Error() string { return r.Title + ": " + r.Statement }

// Rejection is a rule broken by one command, with the details of this case
// and what to do about it. errors.Is(rejection, rule) is true.
type Rejection struct {
	Rule *Rule
	// Detail says what happened in this case and what to do, e.g. "Amara
	// Osei is not a member of the Culture & Climate ISLC; add them as a
	// member before they vote."
	Detail string
	// Field optionally names the command field at fault (for forms).
	Field string
}

// Reject returns a *Rejection of rule with a formatted detail.
func Reject(rule *Rule, format string, args ...any) error {
	return &Rejection{Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// RejectField is Reject naming the command field at fault.
func RejectField(rule *Rule, field, format string, args ...any) error {
	return &Rejection{Rule: rule, Field: field, Detail: fmt.Sprintf(format, args...)}
}

func (r *Rejection) Error() string { return r.Rule.Title + ": " + r.Detail }

// Is makes errors.Is(rejection, rule) true.
func (r *Rejection) Is(target error) bool { return target == r.Rule }

// Unwrap returns the rule.
func (r *Rejection) Unwrap() error { return r.Rule }

// RuleOf returns the rule broken by err and its rejection, if err is or
// wraps one.
func RuleOf(err error) (*Rule, *Rejection, bool) {
	var rej *Rejection
	if errors.As(err, &rej) {
		return rej.Rule, rej, true
	}
	var rule *Rule
	if errors.As(err, &rule) {
		return rule, nil, true
	}
	return nil, nil, false
}

// Rules shared by every part of the domain.
var (
	// ErrRequired is returned when a command lacks a required field.
	ErrRequired = NewRule("required", KindInvalid, "A required field is missing",
		"Every command must give the fields it needs.")
	// ErrInvalidValue is returned when a command's field has a value out of range
	// or of the wrong form.
	ErrInvalidValue = NewRule("invalid-value", KindInvalid, "A field has an invalid value",
		"Each field must have a value of the right form and range.")
	// ErrNotFound is returned when a command names something that does not exist.
	ErrNotFound = NewRule("not-found", KindNotFound, "Not found",
		"A command can only act on things that have been recorded.")
	// ErrAlreadyExists is returned when a command creates something that exists.
	ErrAlreadyExists = NewRule("already-exists", KindConflict, "Already recorded",
		"Something can only be created once; use its id to act on it.")
	// ErrNotAllowed is returned when the actor's role may not run the command.
	ErrNotAllowed = NewRule("not-allowed", KindForbidden, "Not allowed in this role",
		"Each action is open only to the roles the rules name.")
	// ErrConcurrentChange is returned when the handler gave up retrying
	// because others kept changing the same record.
	ErrConcurrentChange = NewRule("concurrent-change", KindConflict, "Changed by someone else",
		"A command applies to the latest state; it was changed while yours was decided. Try again.")
	// ErrFutureDate is returned when a command's effective date (the day
	// its fact happened) is later than the server's clock allows.
	ErrFutureDate = NewRule("date-in-future", KindInvalid, "That date has not come yet",
		"A fact is recorded on or after the day it happened: its effective date is never later than now, give or take a day for time zones.")
	// ErrOutsideYear is returned when a business date falls outside the
	// academic year its command or event claims.
	ErrOutsideYear = NewRule("outside-academic-year", KindInvalid, "The date is outside the academic year",
		"A date recorded for an academic year falls within that year's first and last day.")
	// ErrCorrectionTarget is returned when a correction names an event that
	// does not exist in that record or is itself not correctable.
	ErrCorrectionTarget = NewRule("correction-target", KindInvalid, "Nothing to correct",
		"A correction must name an event recorded in the same record.")
)
