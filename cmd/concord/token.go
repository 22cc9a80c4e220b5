package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
)

func init() {
	register(command{
		name:    "token",
		summary: "create, list or revoke API tokens (token create|list|revoke; the server must be stopped, else use /v1/tokens)",
		run:     runToken,
	})
}

func runToken(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		return Usagef("say what to do: concord token create|list|revoke [flags] (--help on each)")
	}
	switch args[0] {
	case "create":
		return runTokenCreate(ctx, m, args[1:])
	case "list":
		return runTokenList(ctx, m, args[1:])
	case "revoke":
		return runTokenRevoke(ctx, m, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(m.Stderr, "usage: concord token create --role ROLE --person ID [--school ID] [--partnership ID] [--label TEXT] [--data DIR]\n       concord token list [--data DIR] [--json]\n       concord token revoke [--data DIR] ID")
		return nil
	}
	return Usagef("unknown token command %q: use create, list or revoke", args[0])
}

// openTokenStore opens the data directory's token store (dir from the
// flag, else $CONCORD_DATA).
func openTokenStore(m *Main, dir string) (*api.Tokens, error) {
	dir = envOr(m, dir, "CONCORD_DATA", "")
	if dir == "" {
		return nil, Usagef("--data (or CONCORD_DATA) is required")
	}
	return api.OpenTokens(filepath.Join(dir, api.TokensFile), api.TokensOptions{})
}

func optionalUUID(name, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, Usagef("--%s %q is not a UUID", name, s)
	}
	return id, nil
}

func runTokenCreate(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("token", "create (--person ID | --admin) [--label TEXT] [--expires DURATION|TIME] [--data DIR]")
	person := fs.String("person", "", "`id` of the person the token authenticates; what they may do follows from the ledger")
	admin := fs.Bool("admin", false, "a token for the system administrator (tokens, backups, registering schools; no governance decisions)")
	label := fs.String("label", "", "a `note` saying whose token it is")
	expires := fs.String("expires", "", "when the token stops working: a `duration` from now (720h) or an RFC 3339 time")
	data := fs.String("data", "", "data `directory` (default $CONCORD_DATA)")
	asJSON := fs.Bool("json", false, "print the token and its details as JSON")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments: %v", fs.Args())
	}
	spec := api.TokenSpec{Kind: app.KindPerson, Label: *label}
	if *admin {
		spec.Kind = app.KindAdmin
	}
	var err error
	if spec.PersonID, err = optionalUUID("person", *person); err != nil {
		return err
	}
	if !*admin && spec.PersonID == uuid.Nil {
		return Usagef("name the person the token is for (--person ID), or give --admin")
	}
	if *expires != "" {
		if d, err := time.ParseDuration(*expires); err == nil {
			spec.ExpiresAt = time.Now().Add(d)
		} else if t, err := time.Parse(time.RFC3339, *expires); err == nil {
			spec.ExpiresAt = t
		} else {
			return Usagef("--expires %q is neither a duration (720h) nor an RFC 3339 time", *expires)
		}
	}
	ts, err := openTokenStore(m, *data)
	if err != nil {
		return err
	}
	defer ts.Close()
	secret, info, err := ts.Create(ctx, spec)
	if err != nil {
		return Usagef("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(api.CreatedToken{Token: secret, TokenInfo: info})
	}
	fmt.Fprintln(m.Stdout, secret)
	who := "the system administrator"
	if info.PersonID != uuid.Nil {
		who = "person " + info.PersonID.String()
	}
	fmt.Fprintf(m.Stderr, "token %s for %s created; it is shown only this once\n", info.ID, who)
	return nil
}

func runTokenList(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("token", "list [--data DIR] [--json]")
	data := fs.String("data", "", "data `directory` (default $CONCORD_DATA)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := Parse(fs, args); err != nil {
		return err
	}
	ts, err := openTokenStore(m, *data)
	if err != nil {
		return err
	}
	defer ts.Close()
	list, err := ts.List(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tPERSON\tCREATED\tEXPIRES\tREVOKED\tLABEL")
	for _, t := range list {
		person, expires, revoked := "-", "-", "-"
		if t.PersonID != uuid.Nil {
			person = t.PersonID.String()
		}
		if t.ExpiresAt != nil {
			expires = t.ExpiresAt.Format(time.RFC3339)
		}
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, person, t.CreatedAt.Format(time.RFC3339), expires, revoked, t.Label)
	}
	return tw.Flush()
}

func runTokenRevoke(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("token", "revoke [--data DIR] ID")
	data := fs.String("data", "", "data `directory` (default $CONCORD_DATA)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return Usagef("name one token id to revoke (see concord token list)")
	}
	ts, err := openTokenStore(m, *data)
	if err != nil {
		return err
	}
	defer ts.Close()
	info, err := ts.Revoke(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "token %s revoked at %s\n", info.ID, info.RevokedAt.Format(time.RFC3339))
	return nil
}
