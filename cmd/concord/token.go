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
	fs := m.FlagSet("token", "create --role ROLE --person ID [--school ID] [--partnership ID] [--label TEXT] [--data DIR]")
	role := fs.String("role", "", "`role` the token grants: "+roleNames())
	person := fs.String("person", "", "`id` of the person the token acts as (optional for admin)")
	school := fs.String("school", "", "restrict the token to this school `id`")
	partnership := fs.String("partnership", "", "restrict the token to this partnership `id`")
	label := fs.String("label", "", "a `note` saying whose token it is")
	data := fs.String("data", "", "data `directory` (default $CONCORD_DATA)")
	asJSON := fs.Bool("json", false, "print the token and its details as JSON")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments: %v", fs.Args())
	}
	spec := api.TokenSpec{Role: api.Role(*role), Label: *label}
	var err error
	if spec.PersonID, err = optionalUUID("person", *person); err != nil {
		return err
	}
	if spec.SchoolID, err = optionalUUID("school", *school); err != nil {
		return err
	}
	if spec.PartnershipID, err = optionalUUID("partnership", *partnership); err != nil {
		return err
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
	fmt.Fprintf(m.Stderr, "token %s for %s as %s created; it is shown only this once\n", info.ID, info.PersonID, info.Role)
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
	fmt.Fprintln(tw, "ID\tROLE\tPERSON\tSCOPE\tCREATED\tREVOKED\tLABEL")
	for _, t := range list {
		scope := "-"
		switch {
		case t.SchoolID != uuid.Nil:
			scope = "school " + t.SchoolID.String()
		case t.PartnershipID != uuid.Nil:
			scope = "partnership " + t.PartnershipID.String()
		}
		revoked := "-"
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.PersonID, scope, t.CreatedAt.Format(time.RFC3339), revoked, t.Label)
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

func roleNames() string {
	s := ""
	for i, r := range api.AllRoles {
		if i > 0 {
			s += ", "
		}
		s += string(r)
	}
	return s
}
